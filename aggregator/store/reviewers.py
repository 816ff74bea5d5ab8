"""Chamber reviewers' and admins' keys (kept hashed) and the desk's sessions.

These keys live apart from the operators' keys (``api_keys``): a reviewer key is unknown to the
operator API and an operator key is unknown to the desk, by construction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import utcnow
from aggregator.store.base import StoreBase, StoreError
from aggregator.store.operators import KEY_BYTES, hash_key

#: Reviewer keys start with this, so a key pasted in the wrong place is recognised.
REVIEWER_KEY_PREFIX = "chambre_"
ROLES = ("reviewer", "admin")
#: How long a desk session lasts without a new login.
SESSION_TTL = timedelta(hours=12)


@dataclass(frozen=True)
class Reviewer:
    """Who acts on the desk: the key's id, the reviewer's name and role."""

    key_id: int
    name: str
    role: str


class ReviewersMixin(StoreBase):
    def create_reviewer_key(self, name: str, role: str) -> tuple[int, str]:
        """A new key for reviewer ``name``: returns its id and the key, which is not kept."""
        name = name.strip()
        if not name or len(name) > 200:
            raise StoreError("a reviewer needs a name of 1 to 200 characters")
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        key = REVIEWER_KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
        with self.engine.begin() as conn:
            key_id = conn.execute(
                t.reviewer_keys.insert()
                .values(name=name, role=role, key_hash=hash_key(key), created_at=utcnow())
                .returning(t.reviewer_keys.c.id)
            ).scalar_one()
        return int(key_id), key

    def reviewer_for_key(self, key: str) -> Reviewer | None:
        """The reviewer a live key belongs to; None for an unknown or revoked key."""
        c = t.reviewer_keys.c
        query = sa.select(c.id, c.name, c.role).where(
            c.key_hash == hash_key(key), c.revoked_at.is_(None)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else Reviewer(int(row.id), row.name, row.role)

    def list_reviewer_keys(self) -> list[tuple[int, str, str, datetime, datetime | None]]:
        c = t.reviewer_keys.c
        query = sa.select(c.id, c.name, c.role, c.created_at, c.revoked_at).order_by(c.id)
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query)]  # type: ignore[misc]

    def revoke_reviewer_key(self, key_id: int) -> None:
        """Revoke a key and close its sessions at once."""
        with self.engine.begin() as conn:
            done = conn.execute(
                t.reviewer_keys.update()
                .where(t.reviewer_keys.c.id == key_id, t.reviewer_keys.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            ).rowcount
            conn.execute(t.reviewer_sessions.delete().where(t.reviewer_sessions.c.key_id == key_id))
        if not done:
            raise StoreError(f"no live reviewer key with id {key_id}")

    # -- desk sessions --------------------------------------------------------------------------
    def open_session(self, reviewer: Reviewer) -> str:
        """A new session token for the desk's cookie (only its hash is kept)."""
        token = secrets.token_urlsafe(KEY_BYTES)
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                t.reviewer_sessions.insert().values(
                    token_hash=hash_key(token),
                    key_id=reviewer.key_id,
                    created_at=now,
                    expires_at=now + SESSION_TTL,
                )
            )
        return token

    def reviewer_for_session(self, token: str) -> Reviewer | None:
        """The reviewer of a live session whose key is still live; None otherwise."""
        s, k = t.reviewer_sessions.c, t.reviewer_keys.c
        query = (
            sa.select(k.id, k.name, k.role, s.expires_at)
            .join(t.reviewer_keys, s.key_id == k.id)
            .where(s.token_hash == hash_key(token), k.revoked_at.is_(None))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if expires < utcnow():
            return None
        return Reviewer(int(row.id), row.name, row.role)

    def close_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.reviewer_sessions.delete().where(
                    t.reviewer_sessions.c.token_hash == hash_key(token)
                )
            )
