"""/chambre/cles: an admin creates and revokes the desk's keys (the command line can too)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from aggregator.store import StoreError
from aggregator.web.chambre.auth import is_admin, runtime_of
from aggregator.web.chambre.pages import (
    MaybeReviewer,
    _form,
    _login,
    admin_post,
    refused,
    templates,
)

router = APIRouter(prefix="/chambre/cles", include_in_schema=False)


def _page(request: Request, reviewer, created=None, error="", status=200) -> Response:  # type: ignore[no-untyped-def]
    keys = runtime_of(request).store.list_reviewer_keys()
    return templates.TemplateResponse(
        request,
        "keys.html",
        {"reviewer": reviewer, "keys": keys, "created": created, "error": error},
        status_code=status,
    )


@router.get("", response_class=HTMLResponse)
def keys_page(request: Request, reviewer: MaybeReviewer) -> Response:
    if reviewer is None:
        return _login(request)
    if not is_admin(reviewer):
        return refused(request, reviewer, "keys")
    return _page(request, reviewer)


@router.post("", response_class=HTMLResponse)
async def create_key(request: Request, reviewer: MaybeReviewer) -> Response:
    """A new key, shown once on the page that answers (only its hash is kept)."""
    checked = admin_post(request, reviewer, "keys")
    if isinstance(checked, Response):
        return checked
    reviewer = checked
    form = await _form(request)
    name, role = form.get("nom", ""), form.get("role", "reviewer")
    try:
        key_id, key = runtime_of(request).store.create_reviewer_key(name, role)
    except StoreError:
        return _page(request, reviewer, error="Un nom (1 à 200 caractères) et un rôle.", status=422)
    return _page(request, reviewer, created={"id": key_id, "name": name.strip(), "key": key})


@router.post("/{key_id}/revoquer", response_class=HTMLResponse)
def revoke_key(request: Request, reviewer: MaybeReviewer, key_id: int) -> Response:
    """Revoke a key: its sessions close at once."""
    checked = admin_post(request, reviewer, "keys")
    if isinstance(checked, Response):
        return checked
    reviewer = checked
    if key_id == reviewer.key_id:
        return _page(
            request, reviewer, error="Vous ne pouvez pas révoquer votre propre clé.", status=422
        )
    try:
        runtime_of(request).store.revoke_reviewer_key(key_id)
    except StoreError:
        return _page(request, reviewer, error=f"Aucune clé active numéro {key_id}.", status=404)
    return _page(request, reviewer)
