"""Golden records of one-record clusters, many at once.

Most entities of a full matching hold one record (four in five of the generated ones): their
golden record has nothing to choose between, each field is the row's value. They go through
the builder's own batch path (:meth:`~dedupe.golden.records.GoldenBuilder.build_many`, every
column read once for the batch by :class:`~dedupe.golden.field_columns.FieldColumns`), so
there is one set of field rules for clusters of any size.

Example::

    goldens = single_records(builder, [3, 8, 12])   # == [builder.build([3]), ...]
"""

from __future__ import annotations

from collections.abc import Sequence

from aggregator.models import GoldenRecord
from dedupe.golden.records import GoldenBuilder


def single_records(builder: GoldenBuilder, rows: Sequence[int]) -> list[GoldenRecord]:
    """``[builder.build([row]) for row in rows]``, the columns read once for all rows."""
    return builder.build_many([[row] for row in rows])


__all__ = ["single_records"]
