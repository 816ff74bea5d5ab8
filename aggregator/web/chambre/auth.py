"""Who is at the desk: a reviewer key as a bearer (API) or a session cookie scoped to /chambre.

Reviewer keys are looked up among reviewer keys only, so an operator key opens nothing here,
just as a reviewer key opens nothing on the operator API.

Two roles. A **reviewer** rules on pairs, chooses shown values and undoes their own work. An
**admin** also does what changes other people's work or reaches outside the desk:
:data:`ADMIN_ONLY` lists it, and every page and route refuses it to a reviewer with 403 and a
message saying what is reserved (in French on pages, as ``{"detail": ...}`` on the API).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from aggregator.runtime import Runtime
from aggregator.store.reviewers import Reviewer

COOKIE = "chambre_session"
COOKIE_PATH = "/chambre"

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ReviewerKey",
    description="A reviewer or admin key, from `aggregator reviewers add-key NAME`.",
)


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


def api_reviewer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Reviewer:
    """The reviewer of the request's key; 401 without a live reviewer key."""
    if credentials is None:
        raise _unauthorised("a reviewer key is required: Authorization: Bearer <key>")
    reviewer = runtime_of(request).store.reviewer_for_key(credentials.credentials)
    if reviewer is None:
        raise _unauthorised("unknown or revoked reviewer key")
    return reviewer


def page_reviewer(request: Request) -> Reviewer | None:
    """The reviewer of the request's desk session, or None (the page then asks for a key)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    return runtime_of(request).store.reviewer_for_session(token)


def same_origin(request: Request) -> None:
    """Refuse a form posted from another site (the cookie is SameSite=Strict as well).

    Browsers say where a request comes from in ``Sec-Fetch-Site``; ``Origin`` is ``null`` under
    the site's ``no-referrer`` policy, so it is compared only when it names an origin.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise HTTPException(403, detail="form posted from another site")
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise HTTPException(403, detail="form posted from another site")


#: What only an admin may do: action -> (French words for pages, English words for the API).
ADMIN_ONLY: dict[str, tuple[str, str]] = {
    "keys": (
        "créer et révoquer les clés des relecteurs",
        "creating and revoking reviewer keys",
    ),
    "export": ("exporter le journal des décisions", "exporting the decision log"),
    "undo_others": (
        "annuler les décisions d'un autre relecteur",
        "undoing another reviewer's rulings or choices",
    ),
    "sample": ("tirer ou remplacer l'échantillon de contrôle", "drawing the quality sample"),
    "snapshot": ("enregistrer l'état des rapports", "saving the reports' state"),
}


def is_admin(reviewer: Reviewer) -> bool:
    return reviewer.role == "admin"


def admin_refusal(action: str) -> str:
    """The French sentence a page shows when a reviewer asks for ``action``."""
    return f"Réservé aux administrateurs : {ADMIN_ONLY[action][0]}. Demandez-le à l'un d'eux."


def require_admin(reviewer: Reviewer, action: str) -> None:
    """For API routes: 403 with a JSON ``detail`` unless ``reviewer`` is an admin."""
    if not is_admin(reviewer):
        raise HTTPException(403, detail=f"admin key required: {ADMIN_ONLY[action][1]}")


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(401, detail=message, headers={"WWW-Authenticate": "Bearer"})


ApiReviewer = Annotated[Reviewer, Depends(api_reviewer)]
