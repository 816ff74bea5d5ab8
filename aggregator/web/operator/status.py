"""The operators' status page: each of the key's platform's connectors with its last runs,
failures, quarantine and next scheduled run, and when the index last took changes in.

A browser sends the key as the password of HTTP Basic authentication (any user name), so the
page needs no cookie; scripts may send ``Authorization: Bearer <key>`` as to the API.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from aggregator.models import ConnectorRegistration, utcnow
from aggregator.runtime import Runtime, describe_run

router = APIRouter(prefix="/operator", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
#: Runs shown per connector.
LAST_RUNS = 5
REALM = {"WWW-Authenticate": 'Basic realm="operator", charset="UTF-8"'}


def _key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def _platform(request: Request, runtime: Runtime) -> str:
    key = _key(request)
    platform = runtime.store.platform_for_key(key) if key else None
    if platform is None:
        raise HTTPException(401, detail="an operator API key is required", headers=REALM)
    return platform


def next_run(
    registration: ConnectorRegistration, now: datetime, last: datetime | None = None
) -> datetime | None:
    """When the connector's schedule next fires after its last run began (None: disabled,
    unscheduled or unreadable). An interval counts from the worker's start, which the page
    cannot see: from the last run is the estimate."""
    if not registration.enabled or not registration.schedule:
        return None
    from scheduler import parse_schedule  # APScheduler only when a page asks

    try:
        trigger = parse_schedule(registration.schedule)
    except ValueError:
        return None
    return trigger.get_next_fire_time(last, now)


def connector_status(runtime: Runtime, registration: ConnectorRegistration) -> dict[str, Any]:
    cid = registration.effective_id()
    store = runtime.store
    runs = store.list_runs(cid, limit=LAST_RUNS)
    last_failure = next((r for r in runs if r.status != "ok"), None)
    return {
        "id": cid,
        "kind": registration.kind,
        "enabled": registration.enabled,
        "schedule": registration.schedule,
        "next_run": next_run(registration, utcnow(), _utc(runs[0].started_at) if runs else None),
        "runs": [{**describe_run(run), "started_at": _utc(run.started_at)} for run in runs],
        "last_failure": None if last_failure is None else describe_run(last_failure),
        "quarantined": store.quarantine_page(runs[0].id, offset=0, limit=1)[0]
        if runs and runs[0].id is not None
        else 0,
        "live_records": store.count_raw(cid),
    }


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    platform = _platform(request, runtime)
    connectors = [
        connector_status(runtime, registration)
        for registration in runtime.store.list_connectors(platform=platform)
    ]
    matching = runtime.store.last_matching(status="ok")
    response = templates.TemplateResponse(
        request,
        "status.html",
        {
            "platform": platform,
            "connectors": connectors,
            "matching": matching,
            "queued": runtime.store.count_queued(),
            "now": utcnow(),
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response
