"""Operator API keys (kept hashed), connector check status, go-live gating and run history."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import (
    ConnectorRegistration,
    Rejection,
    Run,
    RunLimits,
    content_hash,
    utcnow,
)
from aggregator.store.base import StoreError
from aggregator.store.connectors import ConnectorsMixin
from aggregator.store.records import _run

#: Keys start with this so secret scanners and people recognise one in a log or a paste.
KEY_PREFIX = "blop_"
#: Registration fields an operator sets (the rest is bookkeeping).
OPERATOR_FIELDS = (
    "platform",
    "kind",
    "url",
    "country",
    "mapping",
    "options",
    "limits",
    "schedule",
    "owner",
    "name",
)
#: Random bytes per key: 256 bits, far beyond any guessing (see ``hash_key``).
KEY_BYTES = 32


def hash_key(key: str) -> str:
    """The SHA-256 of a key, as stored.

    A slow password hash (scrypt, argon2, pbkdf2) exists to make guessing a *low-entropy* secret
    expensive after a database leak. These keys are 32 random bytes: 2**256 candidates, so a fast
    hash loses nothing, and being unsalted and deterministic lets a request find its key with one
    indexed lookup instead of a slow hash per stored key.
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def registration_hash(registration: ConnectorRegistration) -> str:
    """What a check vouches for: every field of the registration except whether it is enabled
    (and its ``limits`` when it sets none, so checks made before limits existed still hold)."""
    unset = registration.limits == RunLimits()
    exclude = {"enabled", "limits"} if unset else {"enabled"}
    return content_hash(registration.model_dump(mode="json", exclude=exclude))


class IdTaken(StoreError):
    """Another platform's connector has this id (ids are shared by every platform)."""


class CheckRequired(StoreError):
    """A connector cannot go live: its current registration has no passing check."""


@dataclass(frozen=True)
class ApiKey:
    """An operator key as listed: never the key itself, which is shown once at creation."""

    id: int
    platform: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class CheckStatus:
    """The last dry run of a connector and whether it still vouches for the registration."""

    checked_at: datetime | None
    ok: bool | None
    #: True when the registration has not changed since that check.
    current: bool

    @property
    def passed(self) -> bool:
        """A passing check of the registration as it is now: the condition to go live."""
        return bool(self.ok) and self.current


class OperatorsMixin(ConnectorsMixin):
    """Keys, checks and run history for the operator API and the CLI."""

    # -- API keys -------------------------------------------------------------------------------
    def create_api_key(self, platform: str, label: str = "") -> tuple[int, str]:
        """A new key for ``platform``: returns its id and the key, which is not kept."""
        key = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
        with self.engine.begin() as conn:
            self.ensure_platform(conn, platform)
            key_id = conn.execute(
                t.api_keys.insert()
                .values(platform=platform, key_hash=hash_key(key), label=label, created_at=utcnow())
                .returning(t.api_keys.c.id)
            ).scalar_one()
        return int(key_id), key

    def platform_for_key(self, key: str) -> str | None:
        """The platform a live key acts for; None for an unknown or revoked key."""
        c = t.api_keys.c
        query = sa.select(c.platform).where(c.key_hash == hash_key(key), c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            platform = conn.scalar(query)
        return None if platform is None else str(platform)

    def list_api_keys(self, platform: str | None = None) -> list[ApiKey]:
        c = t.api_keys.c
        query = sa.select(c.id, c.platform, c.label, c.created_at, c.revoked_at).order_by(c.id)
        if platform:
            query = query.where(c.platform == platform)
        with self.engine.connect() as conn:
            return [ApiKey(*row) for row in conn.execute(query)]

    def revoke_api_key(self, key_id: int) -> ApiKey:
        """Revoke a key at once; revoking a revoked key keeps its first revocation time."""
        c = t.api_keys.c
        with self.engine.begin() as conn:
            conn.execute(
                t.api_keys.update()
                .where(c.id == key_id, c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            row = conn.execute(
                sa.select(c.id, c.platform, c.label, c.created_at, c.revoked_at).where(
                    c.id == key_id
                )
            ).first()
        if row is None:
            raise StoreError(f"no API key with id {key_id}")
        return ApiKey(*row)

    # -- registrations from the operator API -------------------------------------------------
    def save_operator_connector(self, reg: ConnectorRegistration) -> bool:
        """Insert or replace an operator's registration, disabled, with origin ``api``; True when
        it is new. ``IdTaken`` when the id is another platform's: the ownership test and the
        write are one transaction, so two platforms racing for an id cannot both win.
        """
        cid, now = reg.effective_id(), utcnow()
        c = t.connectors.c
        values = reg.model_dump(include=set(OPERATOR_FIELDS)) | {
            "limits": reg.limits.model_dump(exclude_none=True) or None,
            "enabled": False,
            "origin": "api",
            "updated_at": now,
        }
        taken = IdTaken(f"connector id {cid!r} is already taken; choose another id")
        try:
            with self.engine.begin() as conn:
                self.ensure_platform(conn, reg.platform)
                owner = conn.scalar(sa.select(c.platform).where(c.id == cid).with_for_update())
                if owner is None:
                    conn.execute(
                        t.connectors.insert().values(id=cid, state={}, created_at=now, **values)
                    )
                elif owner != reg.platform:
                    raise taken
                else:
                    conn.execute(t.connectors.update().where(c.id == cid).values(**values))
        except sa.exc.IntegrityError:  # inserted by someone else since we looked
            raise taken from None
        return owner is None

    # -- checks and going live ------------------------------------------------------------------
    def record_check(self, cid: str, checked: ConnectorRegistration, ok: bool) -> None:
        """Remember a dry run of ``checked`` (the registration as it was read for the check)."""
        with self.engine.begin() as conn:
            conn.execute(
                t.connectors.update()
                .where(t.connectors.c.id == cid)
                .values(
                    checked_at=utcnow(), last_check_ok=ok, check_hash=registration_hash(checked)
                )
            )

    def check_status(self, cid: str) -> CheckStatus:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.connectors).where(t.connectors.c.id == cid)).first()
        if row is None:
            raise StoreError(f"no connector with id {cid!r}")
        return self._check_status(row)

    def _check_status(self, row: sa.Row) -> CheckStatus:
        current = row.check_hash is not None and row.check_hash == registration_hash(
            self._registration(row)
        )
        return CheckStatus(checked_at=row.checked_at, ok=row.last_check_ok, current=current)

    def enable_connector(self, cid: str) -> None:
        """Put a connector live; ``CheckRequired`` unless its current registration passed a check.

        The row is locked while it is judged, so a registration updated at the same moment
        cannot go live on the strength of the previous one's check.
        """
        c = t.connectors.c
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(t.connectors).where(c.id == cid).with_for_update()).first()
            if row is None:
                raise StoreError(f"no connector with id {cid!r}")
            status = self._check_status(row)
            if not status.passed:
                if status.ok is None:
                    why = "it has never been checked"
                elif not status.ok:
                    why = "its last check failed"
                else:
                    why = "its registration changed since its last check"
                raise CheckRequired(
                    f"connector {cid!r} cannot be enabled: {why}; run a check that passes first"
                )
            conn.execute(t.connectors.update().where(c.id == cid).values(enabled=True))

    def disable_connector(self, cid: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                t.connectors.update().where(t.connectors.c.id == cid).values(enabled=False)
            ).rowcount
        if not done:
            raise StoreError(f"no connector with id {cid!r}")

    def retire_connector(self, cid: str) -> int:
        """Delete a registration with its runs and quarantine; its records are marked gone (kept,
        so re-registering the feed brings them back) and leave search at the next matching.

        Runs go too: a later connector reusing the id, maybe another platform's, must not see them.
        Returns how many records were marked gone.
        """
        r = t.raw_records.c
        with self.engine.begin() as conn:
            deleted = conn.execute(t.connectors.delete().where(t.connectors.c.id == cid)).rowcount
            if not deleted:
                raise StoreError(f"no connector with id {cid!r}")
            gone = conn.execute(
                t.raw_records.update()
                .where(r.connector_id == cid, r.gone_at.is_(None))
                .values(gone_at=utcnow())
            ).rowcount
            conn.execute(t.quarantine.delete().where(t.quarantine.c.connector_id == cid))
            conn.execute(t.runs.delete().where(t.runs.c.connector_id == cid))
        return int(gone)

    # -- runs -----------------------------------------------------------------------------------
    def get_run(self, run_id: int) -> Run | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.runs).where(t.runs.c.id == run_id)).first()
        return None if row is None else _run(row)

    def quarantine_page(
        self, run_id: int, *, offset: int = 0, limit: int = 100
    ) -> tuple[int, list[Rejection]]:
        """How many records a run refused, and ``limit`` of them from ``offset`` in feed order."""
        q = t.quarantine.c
        with self.engine.connect() as conn:
            total = conn.scalar(
                sa.select(sa.func.count()).select_from(t.quarantine).where(q.run_id == run_id)
            )
            rows = conn.execute(
                sa.select(q.locator, q.reason, q.excerpt)
                .where(q.run_id == run_id)
                .order_by(q.id)
                .offset(offset)
                .limit(limit)
            )
            page = [Rejection(locator=r.locator, reason=r.reason, excerpt=r.excerpt) for r in rows]
        return int(total or 0), page
