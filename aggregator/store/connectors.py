"""Platforms, connector registrations and their checkpointed state."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import ConnectorRegistration, RunLimits, utcnow
from aggregator.store.base import StoreBase, StoreError

#: A refresh stamp written onto the records it stands for (live ones last written before the
#: refresh began, and gone ones marked gone after it was seen), as migration 0012 does on its
#: way down.
_STAMP_ONTO_RECORDS = sa.text(
    "UPDATE raw_records SET last_seen = (SELECT s.seen_at FROM refresh_stamps s "
    "WHERE s.connector_id = raw_records.connector_id) WHERE raw_records.connector_id = :cid "
    "AND EXISTS (SELECT 1 FROM refresh_stamps s WHERE s.connector_id = raw_records.connector_id "
    "AND raw_records.last_seen < s.started_at AND (raw_records.gone_at IS NULL "
    "OR raw_records.gone_at > s.seen_at))"
)


class ConnectorsMixin(StoreBase):
    def ensure_platform(self, conn: sa.Connection, slug: str, name: str = "") -> None:
        exists = conn.execute(sa.select(t.platforms.c.slug).where(t.platforms.c.slug == slug))
        if exists.first() is None:
            conn.execute(
                t.platforms.insert().values(slug=slug, name=name or slug, created_at=utcnow())
            )

    def save_connector(self, reg: ConnectorRegistration, *, origin: str) -> str:
        """Insert or update a registration; its checkpointed state survives an update."""
        cid = reg.effective_id()
        now = utcnow()
        values = dict(
            platform=reg.platform,
            kind=reg.kind,
            url=reg.url,
            country=reg.country,
            mapping=reg.mapping,
            options=reg.options,
            schedule=reg.schedule,
            enabled=reg.enabled,
            owner=reg.owner,
            name=reg.name,
            limits=reg.limits.model_dump(exclude_none=True) or None,
            origin=origin,
            updated_at=now,
        )
        with self.engine.begin() as conn:
            self.ensure_platform(conn, reg.platform)
            found = conn.execute(sa.select(t.connectors.c.id).where(t.connectors.c.id == cid))
            if found.first() is None:
                conn.execute(
                    t.connectors.insert().values(id=cid, state={}, created_at=now, **values)
                )
            else:
                conn.execute(t.connectors.update().where(t.connectors.c.id == cid).values(**values))
        return cid

    def _registration(self, row: Any) -> ConnectorRegistration:
        return ConnectorRegistration(
            id=row.id,
            platform=row.platform,
            kind=row.kind,
            url=row.url,
            country=row.country,
            mapping=row.mapping,
            options=row.options,
            schedule=row.schedule,
            enabled=row.enabled,
            owner=row.owner,
            name=row.name,
            limits=RunLimits.model_validate(row.limits or {}),
        )

    def get_connector(self, cid: str) -> ConnectorRegistration:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.connectors).where(t.connectors.c.id == cid)).first()
        if row is None:
            raise StoreError(f"no connector with id {cid!r}")
        return self._registration(row)

    def connector_origin(self, cid: str) -> str:
        with self.engine.connect() as conn:
            origin = conn.scalar(sa.select(t.connectors.c.origin).where(t.connectors.c.id == cid))
        if origin is None:
            raise StoreError(f"no connector with id {cid!r}")
        return str(origin)

    def list_connectors(self, platform: str | None = None) -> list[ConnectorRegistration]:
        query = sa.select(t.connectors).order_by(t.connectors.c.id)
        if platform:
            query = query.where(t.connectors.c.platform == platform)
        with self.engine.connect() as conn:
            return [self._registration(row) for row in conn.execute(query)]

    def delete_connector(self, cid: str) -> None:
        """Forget a registration. Its records stay, and so does what was seen of them: the
        connector's refresh stamp is written onto the records it stands for, then dropped, so
        a connector registered later under the same id starts without it."""
        with self.engine.begin() as conn:
            gone = conn.execute(t.connectors.delete().where(t.connectors.c.id == cid)).rowcount
            if gone:
                conn.execute(_STAMP_ONTO_RECORDS, {"cid": cid})
                conn.execute(
                    t.refresh_stamps.delete().where(t.refresh_stamps.c.connector_id == cid)
                )
        if not gone:
            raise StoreError(f"no connector with id {cid!r}")

    def get_state(self, cid: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            state = conn.scalar(sa.select(t.connectors.c.state).where(t.connectors.c.id == cid))
        return dict(state or {})

    def save_state(self, cid: str, state: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.connectors.update().where(t.connectors.c.id == cid).values(state=state))
