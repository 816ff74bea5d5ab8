"""The operator API: a platform's operators register, check, enable and watch their connectors.

Every route needs ``Authorization: Bearer <key>`` (``aggregator operators add-key PLATFORM``).
A key acts for one platform: another platform's connector answers 404, exactly like a missing
one, so ids are not confirmed to outsiders. See ``docs/operators.md``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from aggregator.models import ConnectorRegistration, Run
from aggregator.registrations import RegistrationError, parse_registration
from aggregator.runtime import Runtime, describe_run
from aggregator.store import StoreError
from aggregator.store.operators import CheckRequired, IdTaken
from aggregator.store.queue import RunRequest
from aggregator.web.limits import key_hash
from aggregator.web.operator.work import OperatorWork
from connectors.base import CheckReport, ConnectorError
from connectors.http import LOCAL_FILES_REFUSED, local_path
from connectors.registry import get_kind, kinds

#: Option keys whose values are secrets: never shown back (``options.auth.token`` ...).
SECRET_OPTIONS = frozenset({"token", "value", "password", "secret"})
ENV_REFUSED = (
    "environment variables belong to the deployment, not to an operator: give the value itself "
    "(it is stored with the registration and never shown back)"
)

log = logging.getLogger(__name__)


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"detail": {}}, "required": ["detail"]}
            }
        },
    }


#: What every operator route may answer besides its success (documented in the OpenAPI spec).
ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("No key, or an unknown or revoked one (with `WWW-Authenticate: Bearer`)"),
    404: _error("No such connector for this key's platform"),
    422: _error("Invalid parameters or registration"),
    429: _error("Too many requests for this key: wait `Retry-After` seconds"),
    504: _error("Not answered within the request's deadline"),
}
#: Routes that may also find the connector in the wrong state (disabled, a run in progress...).
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _error("The connector is not in a state that allows it (see `detail`)"),
}
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: _error("The registration names another platform than the key's"),
}
router = APIRouter(prefix="/api/operator", tags=["operators"], responses=ERRORS)
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OperatorKey",
    description="An operator API key, from `aggregator operators add-key PLATFORM`.",
)


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _platform(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The platform the request's key acts for; 401 without a live key."""
    if credentials is None:
        raise _unauthorised("an operator API key is required: Authorization: Bearer <key>")
    platform = _runtime(request).store.platform_for_key(credentials.credentials)
    if platform is None:
        raise _unauthorised("unknown or revoked API key")
    return platform


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
Platform = Annotated[str, Depends(_platform)]


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def _own(runtime: Runtime, cid: str, platform: str) -> ConnectorRegistration:
    """The connector, if it is the key's platform's; 404 otherwise, as if it did not exist."""
    try:
        registration = runtime.store.get_connector(cid)
    except StoreError:
        registration = None
    if registration is None or registration.platform != platform:
        raise HTTPException(404, detail=f"no connector with id {cid!r}")
    return registration


def _view(runtime: Runtime, registration: ConnectorRegistration) -> dict[str, Any]:
    """A registration as an operator sees it: secrets masked, check status, live or not."""
    cid = registration.effective_id()
    status = runtime.store.check_status(cid)
    data = registration.model_dump(mode="json")
    data["options"] = mask_secrets(data["options"])
    data["origin"] = runtime.store.connector_origin(cid)
    data["check"] = {
        "checked_at": _iso(status.checked_at),
        "ok": status.ok,
        "current": status.current,
    }
    return data


def mask_secrets(options: Any, under_auth: bool = False) -> Any:
    """Options with the values of ``auth`` secrets replaced by ``***``."""
    if isinstance(options, dict):
        return {
            key: "***"
            if under_auth and key in SECRET_OPTIONS and value is not None
            else mask_secrets(value, under_auth or key == "auth")
            for key, value in options.items()
        }
    if isinstance(options, list):
        return [mask_secrets(value, under_auth) for value in options]
    return options


def env_options(options: Any, path: str = "options") -> list[str]:
    """Every option naming an environment variable (``*_env``), by its dotted path."""
    found: list[str] = []
    if isinstance(options, dict):
        for key, value in options.items():
            if str(key).endswith("_env"):
                found.append(f"{path}.{key}")
            found += env_options(value, f"{path}.{key}")
    elif isinstance(options, list):
        for index, value in enumerate(options):
            found += env_options(value, f"{path}.{index}")
    return found


def _validated(body: dict[str, Any], platform: str) -> ConnectorRegistration:
    """An operator's registration, validated like a YAML file plus the API's own rules."""
    data = {**body, "enabled": False}  # nothing goes live before a passing check
    data.setdefault("platform", platform)
    if data["platform"] != platform:
        raise HTTPException(403, detail=f"this key registers connectors of {platform!r} only")
    try:
        registration = parse_registration(data)
    except RegistrationError as error:
        raise HTTPException(422, detail=str(error)) from None
    try:
        local = local_path(registration.url) is not None
    except ConnectorError as error:
        raise HTTPException(422, detail=f"registration: url: {error}") from None
    if local:
        raise HTTPException(
            422, detail=f"registration: url: refused {registration.url}: {LOCAL_FILES_REFUSED}"
        )
    named = env_options(registration.options)
    if named:
        raise HTTPException(422, detail=f"registration: {', '.join(named)}: {ENV_REFUSED}")
    return registration


def _check_payload(report: CheckReport, limit: int) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "limit": limit,
        "problems": report.problems,
        "records": [record.model_dump(mode="json") for record in report.records],
        "rejections": [rejection.model_dump() for rejection in report.rejections],
    }


def _iso(moment: datetime | None) -> str | None:
    """A stored time in ISO 8601 with its offset: UTC, which SQLite hands back without one."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _run_payload(run: Run) -> dict[str, Any]:
    return {
        **describe_run(run),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
    }


@router.get("/kinds")
def list_kinds(_: Platform) -> dict[str, Any]:
    """Every connector kind and the JSON Schema of its ``options``: build a form from it."""
    return {name: get_kind(name).Config.model_json_schema() for name in kinds()}


@router.post("/connectors", status_code=201, responses={**CONFLICT, **FORBIDDEN})
def register_connector(
    runtime: RuntimeDep,
    platform: Platform,
    response: Response,
    body: Annotated[dict[str, Any], Body(description="A registration, as in YAML files.")],
) -> dict[str, Any]:
    """Register (or replace) a connector of the key's platform. It is saved disabled: check it,
    then enable it. Replacing a registration disables it again until a new check passes."""
    registration = _validated(body, platform)
    try:
        created = runtime.store.save_operator_connector(registration)
    except IdTaken as error:
        raise HTTPException(409, detail=str(error)) from None
    response.status_code = 201 if created else 200
    return _view(runtime, runtime.store.get_connector(registration.effective_id()))


@router.get("/connectors")
def list_connectors(runtime: RuntimeDep, platform: Platform) -> list[dict[str, Any]]:
    """The key's platform's connectors."""
    return [_view(runtime, reg) for reg in runtime.store.list_connectors(platform=platform)]


@router.get("/connectors/{cid}")
def get_connector(cid: str, runtime: RuntimeDep, platform: Platform) -> dict[str, Any]:
    return _view(runtime, _own(runtime, cid, platform))


@router.post("/connectors/{cid}/check", responses=CONFLICT)
async def check_connector(
    cid: str,
    request: Request,
    runtime: RuntimeDep,
    platform: Platform,
    limit: Annotated[int, Query(ge=1, le=1000, description="Records to read at most")] = 20,
) -> dict[str, Any]:
    """Dry run: the first ``limit`` records as they would be stored and every refusal with its
    locator and reason. Nothing is stored but the outcome, which gates ``enable``. A few at a
    time per key (429 otherwise), within the operators' deadline (504 otherwise)."""

    def work() -> dict[str, Any]:
        registration = _own(runtime, cid, platform)
        try:
            report = runtime.check(
                registration, origin=runtime.store.connector_origin(cid), limit=limit
            )
        except Exception as error:  # a kind that crashes fails its check, with the reason
            report = CheckReport(ok=False, problems=[f"{type(error).__name__}: {error}"])
        runtime.store.record_check(cid, registration, report.ok)
        return {**_check_payload(report, limit), "connector": _view(runtime, registration)}

    return await _work(request).run(_caller(request), work)


@router.post("/connectors/{cid}/enable", responses=CONFLICT)
def enable_connector(cid: str, runtime: RuntimeDep, platform: Platform) -> dict[str, Any]:
    """Put the connector live: 409 unless its last check passed and it has not changed since."""
    _own(runtime, cid, platform)
    try:
        runtime.store.enable_connector(cid)
    except CheckRequired as error:
        raise HTTPException(409, detail=str(error)) from None
    return _view(runtime, runtime.store.get_connector(cid))


@router.post("/connectors/{cid}/disable")
def disable_connector(cid: str, runtime: RuntimeDep, platform: Platform) -> dict[str, Any]:
    """Stop running the connector; its records stay in search."""
    _own(runtime, cid, platform)
    runtime.store.disable_connector(cid)
    return _view(runtime, runtime.store.get_connector(cid))


@router.delete("/connectors/{cid}")
def delete_connector(cid: str, runtime: RuntimeDep, platform: Platform) -> dict[str, Any]:
    """Delete the registration, its runs and quarantine; its records are marked gone."""
    _own(runtime, cid, platform)
    return {"deleted": cid, "records_gone": runtime.store.retire_connector(cid)}


@router.get("/connectors/{cid}/runs")
def list_runs(
    cid: str,
    runtime: RuntimeDep,
    platform: Platform,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """The latest runs first: status, counts, duration and errors."""
    _own(runtime, cid, platform)
    return [_run_payload(run) for run in runtime.store.list_runs(cid, limit=limit)]


@router.get("/connectors/{cid}/runs/{run_id}/quarantine")
def run_quarantine(
    cid: str,
    run_id: int,
    runtime: RuntimeDep,
    platform: Platform,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The records a run refused, in feed order: locator, reason and an excerpt as received."""
    _own(runtime, cid, platform)
    run = runtime.store.get_run(run_id)
    if run is None or run.connector_id != cid:
        raise HTTPException(404, detail=f"connector {cid!r} has no run {run_id}")
    total, page = runtime.store.quarantine_page(run_id, offset=offset, limit=limit)
    items = [rejection.model_dump() for rejection in page]
    return {"run_id": run_id, "total": total, "offset": offset, "items": items}


@router.post("/connectors/{cid}/run", status_code=202, responses=CONFLICT)
def run_now(
    cid: str, runtime: RuntimeDep, platform: Platform, response: Response
) -> dict[str, Any]:
    """Queue a run of the connector for a worker (202), which then matches and indexes; follow
    it at ``/connectors/{cid}/requests/{id}``. A request still waiting is returned (200)
    instead of a second one. 409 when the connector is disabled."""
    if not _own(runtime, cid, platform).enabled:
        raise HTTPException(409, detail=f"connector {cid!r} is disabled: check and enable it")
    request, queued = runtime.store.request_run(cid, f"operator:{platform}")
    response.status_code = 202 if queued else 200
    return _request_payload(runtime, request)


@router.get("/connectors/{cid}/requests/{request_id}")
def run_request(
    cid: str, request_id: int, runtime: RuntimeDep, platform: Platform
) -> dict[str, Any]:
    """A "run now": queued, running, done (with its run), skipped or failed."""
    _own(runtime, cid, platform)
    request = runtime.store.get_request(request_id)
    if request is None or request.connector_id != cid:
        raise HTTPException(404, detail=f"connector {cid!r} has no request {request_id}")
    return _request_payload(runtime, request)


def _request_payload(runtime: Runtime, request: RunRequest) -> dict[str, Any]:
    run = runtime.store.get_run(request.run_id) if request.run_id is not None else None
    return {
        "id": request.id,
        "connector_id": request.connector_id,
        "status": request.status,
        "requested_at": _iso(request.requested_at),
        "claimed_at": _iso(request.claimed_at),
        "finished_at": _iso(request.finished_at),
        "detail": request.detail,
        "run": None if run is None else _run_payload(run),
    }


def _work(request: Request) -> OperatorWork:
    return request.app.state.operator_work


def _caller(request: Request) -> str:
    """The key's hash: slots are counted per key (the key itself is never kept)."""
    return key_hash(request.headers.get("authorization")) or "anonymous"
