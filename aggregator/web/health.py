"""Operations routes: ``/healthz`` (alive, and how far search lags the store) and ``/readyz``
(for a load balancer: store and search reachable, the index within its bound)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from aggregator.consistency import index_state
from aggregator.runtime import Runtime

router = APIRouter(tags=["operations"])


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/healthz")
def healthz(request: Request) -> dict[str, Any]:
    """Alive, with the schema revision and how far the search index is behind the store
    (``index.lag_entities`` changes, the oldest ``index.lag_s`` seconds old)."""
    runtime = _runtime(request)
    state = index_state(runtime.store, runtime.backend, runtime.settings)
    return {
        "status": "ok",
        "schema": runtime.store.schema_revision(),
        "indexed": state.indexed,
        "index": state.as_dict(),
    }


@router.get(
    "/readyz",
    responses={503: {"description": "The store or search is unreachable, or search lags"}},
)
def readyz(request: Request) -> Response:
    """200 when the store and search answer and the index lags by no more than
    ``ready_max_lag_s``; 503 with the reason otherwise (for a load balancer)."""
    runtime = _runtime(request)
    problems: list[str] = []
    body: dict[str, Any] = {}
    try:
        state = index_state(runtime.store, runtime.backend, runtime.settings)
        body["index"] = state.as_dict()
        bound = runtime.settings.ready_max_lag_s
        if state.applied is None and state.stored:
            problems.append("the search index records no store state: it needs a rebuild")
        elif state.lag_s > bound:
            problems.append(
                f"the search index lags the store by {state.lag_s:.0f} s "
                f"({state.lag_entities} entities), more than {bound:g} s"
            )
    except Exception as error:  # unreachable store or index: say which, without a trace
        problems.append(f"{type(error).__name__}: {str(error)[:200]}")
    body.update(status="ready" if not problems else "not ready", problems=problems)
    return Response(
        json.dumps(body), status_code=503 if problems else 200, media_type="application/json"
    )
