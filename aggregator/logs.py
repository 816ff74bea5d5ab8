"""Log set-up for every command: plain lines or JSON lines, connector and run ids attached,
and never a search query beside a client address (uvicorn's access lines lose both)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_context: ContextVar[dict[str, Any]] = ContextVar("log_context", default={})  # noqa: B039
#: Loggers that speak at INFO on every command and say nothing an operator needs.
QUIET = ("alembic", "apscheduler", "httpx", "scrapy")


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Attach ``fields`` (connector_id, run_id ...) to every log line written inside."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the current log context onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            setattr(record, name, value)
        return True


class AccessFilter(logging.Filter):
    """uvicorn's access line without the client's address and without the query string: a
    search's words never sit beside who asked them."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            _, method, path, version, status = args
            record.args = ("-", method, str(path).split("?", 1)[0], version, status)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and the context's ids."""

    FIELDS = ("connector_id", "run_id", "request_id", "worker")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


PLAIN = "%(levelname)s %(name)s: %(message)s"


def configure(*, json_lines: bool, level: int = logging.INFO) -> None:
    """Set up the root logger once per process (again replaces the handler)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(PLAIN))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def uvicorn_log_config(*, json_lines: bool) -> dict[str, Any]:
    """uvicorn's logging, through the same formatter, access lines stripped by AccessFilter."""
    formatter = {"()": JsonFormatter} if json_lines else {"format": PLAIN}
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "filters": ["access", "context"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"access": {"()": AccessFilter}, "context": {"()": ContextFilter}},
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": "INFO"},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["default"], "level": "INFO", "propagate": False},
            **{name: {"level": "WARNING"} for name in QUIET},
        },
    }
