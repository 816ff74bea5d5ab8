"""Who is at the desk: a reviewer key as a bearer (API) or a session cookie scoped to /chambre.

Reviewer keys are looked up among reviewer keys only, so an operator key opens nothing here,
just as a reviewer key opens nothing on the operator API.
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


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(401, detail=message, headers={"WWW-Authenticate": "Bearer"})


ApiReviewer = Annotated[Reviewer, Depends(api_reviewer)]
