"""The store: SQLite by default, PostgreSQL with the same code (SQLAlchemy Core + Alembic)."""

from __future__ import annotations

from aggregator.store.base import StoreError, create_engine
from aggregator.store.connectors import ConnectorsMixin
from aggregator.store.decisions import DecisionsMixin
from aggregator.store.entities import EntitiesMixin
from aggregator.store.error_reports import ErrorReport, ErrorReportsMixin
from aggregator.store.field_choices import FieldChoicesMixin
from aggregator.store.indexing import IndexingMixin, PendingChanges
from aggregator.store.operators import OperatorsMixin
from aggregator.store.queue import QueueMixin
from aggregator.store.records import IngestBatch, RecordsMixin, StoredRecord
from aggregator.store.review import ReviewMixin
from aggregator.store.reviewers import ReviewersMixin
from aggregator.store.sample import SampleMixin
from aggregator.store.snapshots import SnapshotsMixin

__all__ = [
    "ErrorReport",
    "IngestBatch",
    "PendingChanges",
    "Store",
    "StoreError",
    "StoredRecord",
    "create_engine",
]


class Store(
    SampleMixin,
    SnapshotsMixin,
    ReviewMixin,
    ReviewersMixin,
    OperatorsMixin,
    ConnectorsMixin,
    RecordsMixin,
    EntitiesMixin,
    DecisionsMixin,
    ErrorReportsMixin,
    FieldChoicesMixin,
    QueueMixin,
    IndexingMixin,
):
    """Every read and write of the service's state goes through here.

    Example::

        store = Store.open("sqlite:///var/aggregator.sqlite3")   # migrates to the latest schema
        cid = store.save_connector(registration, origin="cli")
        for record in store.iter_raw(RecordType.shop):
            ...
    """

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        store = cls(create_engine(url))
        if migrate:
            store.migrate()
        return store
