"""Record view (one shop record with all its candidates) and entity view (split, merge,
choose the value a field shows)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aggregator.models import Entity, RecordKey, RecordType
from aggregator.store.field_choices import CHOOSABLE
from aggregator.web.chambre.auth import is_admin, runtime_of, same_origin
from aggregator.web.chambre.card import safe_url, why_line
from aggregator.web.chambre.pages import MaybeReviewer, _form, _login, refused, templates

router = APIRouter(prefix="/chambre", include_in_schema=False)
SHOWN = ("name", "address", "postcode", "city", "phone", "website", "siret")


def _record(store: Any, key: str) -> dict[str, Any] | None:
    try:
        parsed = RecordKey.parse(key)
    except ValueError:
        return None
    stored = store.get_raw(parsed.platform, parsed.source_id, RecordType.shop)
    if stored is None:
        return None
    row = {name: stored.record.get(name) or "" for name in SHOWN}
    return {
        **row,
        "key": key,
        "platform": parsed.platform,
        "url": safe_url(stored.record.get("url")),
    }


@router.get("/fiche", response_class=HTMLResponse)
def record_page(
    request: Request, reviewer: MaybeReviewer, cle: Annotated[str, Query(max_length=330)]
) -> Response:
    """One shop record and every pair awaiting review that involves it, decided here."""
    if reviewer is None:
        return _login(request)
    store = runtime_of(request).store
    record = _record(store, cle)
    if record is None:
        return templates.TemplateResponse(
            request, "error.html", {"reviewer": reviewer, "message": f"Fiche {cle} inconnue."}, 404
        )
    pending = []
    for item in store.review_queue():
        if cle in (item.a, item.b):
            other = _record(store, item.b if item.a == cle else item.a)
            if other is not None:
                pending.append({"item": item, "other": other, "why": why_line(item.explanation)})
    entity_id = {str(k): e for k, e in store.entity_ids_by_record().items()}.get(cle)
    return templates.TemplateResponse(
        request,
        "record.html",
        {"reviewer": reviewer, "record": record, "pending": pending, "entity_id": entity_id},
    )


@router.get("/commerce/{entity_id}", response_class=HTMLResponse)
def entity_page(request: Request, reviewer: MaybeReviewer, entity_id: str) -> Response:
    """A shop as the last matching built it: its members, to split one out or merge another."""
    if reviewer is None:
        return _login(request)
    store = runtime_of(request).store
    entity = store.get_entity(entity_id)
    if entity is None:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"reviewer": reviewer, "message": f"Commerce {entity_id} inconnu."},
            404,
        )
    members = [r for r in (_record(store, str(k)) for k in entity.members) if r is not None]
    golden = {name: item for name, item in entity.golden.fields.items() if name in SHOWN}
    choices = store.field_choices().get(entity_id, {})
    return templates.TemplateResponse(
        request,
        "entity.html",
        {
            "reviewer": reviewer,
            "entity": entity,
            "members": members,
            "golden": golden,
            "disputed": _disputed(members),
            "choices": {
                name: (choice, _choice_state(entity, members, choice))
                for name, choice in choices.items()
            },
            "reports": [
                r for r in store.list_error_reports(None, limit=1000) if r.entity_id == entity_id
            ],
        },
    )


@router.post("/commerce/{entity_id}/separer")
async def split(request: Request, reviewer: MaybeReviewer, entity_id: str) -> Response:
    """Split one member out: it is ruled apart from every other member, as one action."""
    same_origin(request)
    if reviewer is None:
        return _login(request, "Session expirée : reconnectez-vous.", status=401)
    store = runtime_of(request).store
    form = await _form(request)
    entity = store.get_entity(entity_id)
    key = form.get("cle", "")
    members = [str(k) for k in entity.members] if entity else []
    if key not in members or len(members) < 2:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"reviewer": reviewer, "message": "Cette fiche n'est pas membre de ce commerce."},
            422,
        )
    pairs = [(key, other) for other in members if other != key]
    note = form.get("note", "").strip() or f"séparée du commerce {entity_id}"
    store.record_decisions(
        pairs, "cannot_link", reviewer=reviewer.name, role=reviewer.role, note=note[:2000]
    )
    return RedirectResponse(f"/chambre/commerce/{entity_id}?{urlencode({'fait': 'separe'})}", 303)


@router.post("/commerce/{entity_id}/fusionner")
async def merge(request: Request, reviewer: MaybeReviewer, entity_id: str) -> Response:
    """Merge another shop into this one: a must-link between one member of each."""
    same_origin(request)
    if reviewer is None:
        return _login(request, "Session expirée : reconnectez-vous.", status=401)
    store = runtime_of(request).store
    form = await _form(request)
    other_id = form.get("autre", "").strip()
    this, other = store.get_entity(entity_id), store.get_entity(other_id)
    if this is None or other is None or other_id == entity_id:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"reviewer": reviewer, "message": f"Commerce {other_id or '?'} inconnu."},
            422,
        )
    a, b = str(min(this.members, key=str)), str(min(other.members, key=str))
    note = form.get("note", "").strip() or f"fusion de {entity_id} et {other_id}"
    store.record_decisions(
        [(a, b)], "must_link", reviewer=reviewer.name, role=reviewer.role, note=note[:2000]
    )
    return RedirectResponse(f"/chambre/commerce/{entity_id}?{urlencode({'fait': 'fusion'})}", 303)


def _disputed(members: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Field -> the members with a value for it, for the fields members disagree on."""
    out = {}
    for name in CHOOSABLE:
        holders = [m for m in members if str(m[name]).strip()]
        if len({" ".join(str(m[name]).casefold().split()) for m in holders}) > 1:
            out[name] = holders
    return out


def _choice_state(entity: Entity, members: list[dict[str, Any]], choice: Any) -> str:
    """Whether the last matching shows the choice, will show it, or it no longer applies."""
    shown = entity.golden.fields.get(choice.field)
    if (
        choice.field in entity.golden.chosen
        and shown is not None
        and f"{shown.platform}:{shown.source_id}" == choice.record_key
    ):
        return "applied"
    member = next((m for m in members if m["key"] == choice.record_key), None)
    if member is None or not str(member[choice.field]).strip():
        return "lapsed"
    return "pending"


@router.post("/commerce/{entity_id}/choisir")
async def choose(request: Request, reviewer: MaybeReviewer, entity_id: str) -> Response:
    """Choose which member record's value a field of the golden record shows."""
    same_origin(request)
    if reviewer is None:
        return _login(request, "Session expirée : reconnectez-vous.", status=401)
    store = runtime_of(request).store
    form = await _form(request)
    entity = store.get_entity(entity_id)
    field, key = form.get("champ", ""), form.get("cle", "")
    member = _record(store, key) if entity and key in {str(k) for k in entity.members} else None
    if entity is None or member is None or field not in CHOOSABLE or not member[field]:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"reviewer": reviewer, "message": "Cette fiche n'a pas de valeur à choisir ici."},
            422,
        )
    note = form.get("note", "").strip() or None
    store.choose_field(
        entity_id,
        field,
        key,
        value=str(member[field]),
        reviewer=reviewer.name,
        role=reviewer.role,
        note=note[:2000] if note else None,
    )
    return RedirectResponse(f"/chambre/commerce/{entity_id}?{urlencode({'fait': 'choix'})}", 303)


@router.post("/commerce/{entity_id}/choix/annuler")
async def undo_choice(request: Request, reviewer: MaybeReviewer, entity_id: str) -> Response:
    """Take back a field choice: the field gets back the choice it had before (or none).

    A reviewer undoes their own choices; an admin may undo anyone's (``de``)."""
    same_origin(request)
    if reviewer is None:
        return _login(request, "Session expirée : reconnectez-vous.", status=401)
    form = await _form(request)
    author = form.get("de", "").strip() or reviewer.name
    if author != reviewer.name and not is_admin(reviewer):
        return refused(request, reviewer, "undo_others")
    field = form.get("champ", "") or None
    undone = runtime_of(request).store.undo_field_choice(
        entity_id, reviewer=reviewer.name, role=reviewer.role, of=author, field=field
    )
    if undone is None:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"reviewer": reviewer, "message": "Aucun choix à annuler sur ce commerce."},
            409,
        )
    return RedirectResponse(f"/chambre/commerce/{entity_id}?{urlencode({'fait': 'annule'})}", 303)
