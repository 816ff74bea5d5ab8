"""`/api/review/...`: the desk's queue, rulings and undo for scripts, with a reviewer key."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import Response

from aggregator.store import StoreError
from aggregator.store.review import BANDS, ReviewError, model_label
from aggregator.web.chambre.auth import ApiReviewer, require_admin, runtime_of

router = APIRouter(
    prefix="/api/review",
    tags=["review"],
    responses={
        401: {
            "description": "No reviewer key, or an unknown or revoked one (an operator's key "
            "is refused here)"
        },
        403: {"description": "Only an admin key may do this; ``detail`` says what"},
    },
)


@router.get("/queue")
def queue(
    request: Request,
    reviewer: ApiReviewer,
    limit: Annotated[int, Query(ge=1, le=10000)] = 50,
    commune: str | None = None,
    platforms: Annotated[str | None, Query(description="Two platforms, comma-separated")] = None,
    band: Annotated[str | None, Query(description=", ".join(BANDS))] = None,
    category: str | None = None,
) -> dict[str, Any]:
    """Candidate pairs with no ruling, direct or implied, most useful first."""
    pair = _platform_pair(platforms)
    if band is not None and band not in BANDS:
        raise HTTPException(422, detail=f"unknown band {band!r}: one of {', '.join(BANDS)}")
    store = runtime_of(request).store
    items = store.review_queue(
        commune=commune, platforms=pair, band=band, category=category, limit=limit
    )
    done, total = store.review_progress()
    return {
        "progress": {"decided": done, "proposed": total},
        "items": [
            {"a": i.a, "b": i.b, "probability": i.probability, "usefulness": i.usefulness}
            for i in items
        ],
    }


@router.post("/decide")
def decide(
    request: Request,
    reviewer: ApiReviewer,
    body: Annotated[dict[str, Any], Body(examples=[{"a": "p:1", "b": "q:2", "verdict": "same"}])],
) -> dict[str, Any]:
    """Rule on a pair: ``verdict`` same, different or unsure, optional ``note``. The public
    search changes after the next match run."""
    runtime = runtime_of(request)
    try:
        entry = runtime.store.decide(
            str(body.get("a", "")),
            str(body.get("b", "")),
            str(body.get("verdict", "")),
            reviewer=reviewer.name,
            role=reviewer.role,
            note=_note(body.get("note")),
            model=model_label(runtime.settings.data_dir),
        )
    except ReviewError as error:
        raise HTTPException(422, detail=str(error)) from None
    return entry.as_dict()


@router.post("/undo", responses={409: {"description": "No ruling of this reviewer left to undo"}})
def undo(
    request: Request,
    reviewer: ApiReviewer,
    body: Annotated[dict[str, Any] | None, Body(examples=[{"reviewer": "anne"}])] = None,
) -> dict[str, Any]:
    """Undo the key's reviewer's latest ruling not undone yet; an admin key may name another
    ``reviewer`` whose latest ruling to undo."""
    author = str((body or {}).get("reviewer") or reviewer.name)
    if author != reviewer.name:
        require_admin(reviewer, "undo_others")
    entry = runtime_of(request).store.undo_last(author, role=reviewer.role, by=reviewer.name)
    if entry is None:
        raise HTTPException(409, detail="no ruling left to undo")
    return entry.as_dict()


@router.get("/decisions")
def decisions(
    request: Request,
    reviewer: ApiReviewer,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> list[dict[str, Any]]:
    """The key's reviewer's latest log rows, newest first."""
    log = runtime_of(request).store.decision_log(reviewer.name, limit=limit)
    return [entry.as_dict() for entry in log]


@router.get("/log")
def export_log(
    request: Request,
    reviewer: ApiReviewer,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",  # noqa: A002
) -> Response:
    """Every row of the decisions log, oldest first, every reviewer's (admin key only)."""
    from aggregator.store.reports import csv_text
    from aggregator.web.chambre.pages import LOG_COLUMNS

    require_admin(reviewer, "export")
    rows = [e.as_dict() for e in reversed(runtime_of(request).store.decision_log())]
    if format == "csv":
        return Response(csv_text(rows, LOG_COLUMNS), media_type="text/csv; charset=utf-8")
    return Response(json.dumps(rows, ensure_ascii=False), media_type="application/json")


@router.get("/keys")
def list_keys(request: Request, reviewer: ApiReviewer) -> list[dict[str, Any]]:
    """The desk's keys, without the keys themselves (admin key only)."""
    require_admin(reviewer, "keys")
    return [
        {
            "id": key_id,
            "name": name,
            "role": role,
            "created_at": created.isoformat(),
            "revoked_at": revoked.isoformat() if revoked else None,
        }
        for key_id, name, role, created, revoked in runtime_of(request).store.list_reviewer_keys()
    ]


@router.post("/keys", status_code=201)
def create_key(
    request: Request,
    reviewer: ApiReviewer,
    body: Annotated[dict[str, Any], Body(examples=[{"name": "Anne", "role": "reviewer"}])],
) -> dict[str, Any]:
    """A new desk key, returned once (admin key only)."""
    require_admin(reviewer, "keys")
    name, role = str(body.get("name", "")), str(body.get("role", "reviewer"))
    try:
        key_id, key = runtime_of(request).store.create_reviewer_key(name, role)
    except StoreError as error:
        raise HTTPException(422, detail=str(error)) from None
    return {"id": key_id, "name": name.strip(), "role": role, "key": key}


@router.delete("/keys/{key_id}", responses={404: {"description": "No live key with this id"}})
def revoke_key(request: Request, reviewer: ApiReviewer, key_id: int) -> dict[str, Any]:
    """Revoke a key and close its sessions (admin key only)."""
    require_admin(reviewer, "keys")
    try:
        runtime_of(request).store.revoke_reviewer_key(key_id)
    except StoreError as error:
        raise HTTPException(404, detail=str(error)) from None
    return {"id": key_id, "revoked": True}


def _platform_pair(text: str | None) -> tuple[str, str] | None:
    if not text:
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) != 2:
        raise HTTPException(422, detail="platforms: two platforms, comma-separated")
    return (parts[0], parts[1])


def _note(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise HTTPException(422, detail="note: text expected")
    return value.strip() or None
