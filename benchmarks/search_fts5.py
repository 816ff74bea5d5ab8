"""SQLite FTS5, the peer ``benchmarks/search.py`` measures on the same documents and queries.

A straightforward, well-configured use: unicode61 with diacritics removed, prefix indexes for
the word being typed, bm25 ranking with the names weighted, every word required, filters on
columns, facets (city and category) by GROUP BY over the matches, a radius as a box on indexed
lat/lon. FTS5 has neither stemming nor typo tolerance: that is part of what is measured.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from search import SearchQuery
from search.analysis import key, words
from search.embedded_geo import METRES_PER_DEGREE

SCHEMA = """
CREATE TABLE docs (
    id INTEGER PRIMARY KEY, kind TEXT, city_key TEXT, category_key TEXT, city TEXT,
    category TEXT, lat REAL, lon REAL
);
CREATE VIRTUAL TABLE fts USING fts5(
    title, body, content='', tokenize='unicode61 remove_diacritics 2', prefix='2 3 4'
);
"""


class Fts5Peer:
    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)

    def load(self, documents: Iterable[dict[str, Any]]) -> int:
        rows, count = [], 0
        for doc in documents:
            count += 1
            shop = doc["doc_type"] == "shop"
            title = " ".join(doc["names"]) if shop else doc["title"]
            body = " ".join(
                filter(
                    None,
                    [
                        doc.get("category"),
                        doc.get("description"),
                        doc.get("offer_category"),
                        " ".join(doc["services"]),
                        doc.get("city"),
                        doc.get("postcode"),
                    ],
                )
            )
            rows.append((count, doc["doc_type"], key(doc.get("city") or ""), doc, title, body))
            if len(rows) >= 20_000:
                self._insert(rows)
                rows = []
        self._insert(rows)
        self.db.executescript(
            "CREATE INDEX docs_city ON docs(city_key); CREATE INDEX docs_geo ON docs(lat, lon);"
            "INSERT INTO fts(fts) VALUES('optimize');"
        )
        self.db.commit()
        return count

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        self.db.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    n,
                    kind,
                    city,
                    key(doc.get("category") or ""),
                    doc.get("city"),
                    doc.get("category"),
                    doc.get("lat"),
                    doc.get("lon"),
                )
                for n, kind, city, doc, _, _ in rows
            ],
        )
        self.db.executemany(
            "INSERT INTO fts(rowid, title, body) VALUES (?, ?, ?)",
            [(n, title, body) for n, _, _, _, title, body in rows],
        )

    def size_mb(self) -> float:
        self.db.commit()
        return self.path.stat().st_size / 1e6

    def search(self, query: SearchQuery) -> tuple[int, float]:
        """(shops and offers found, milliseconds) for a page of 20 and the facets."""
        started = time.perf_counter()
        terms = [w for w in words(query.text)]
        if not terms:
            return 0, 0.0
        typing = not query.text[-1:].isspace()
        match = " AND ".join(
            f'"{w}"' + ("*" if typing and i == len(terms) - 1 else "") for i, w in enumerate(terms)
        )
        where, params = ["fts MATCH ?"], [match]
        if query.city:
            where.append("docs.city_key = ?")
            params.append(key(query.city))
        if query.radius_m and query.lat is not None and query.lon is not None:
            dlat = query.radius_m / METRES_PER_DEGREE
            dlon = dlat / math.cos(math.radians(query.lat))
            where.append("docs.lat BETWEEN ? AND ? AND docs.lon BETWEEN ? AND ?")
            params += [query.lat - dlat, query.lat + dlat, query.lon - dlon, query.lon + dlon]
        joined = "FROM fts JOIN docs ON docs.id = fts.rowid WHERE " + " AND ".join(where)
        page = self.db.execute(
            f"SELECT docs.id {joined} ORDER BY bm25(fts, 3.0, 1.0) LIMIT 20", params
        ).fetchall()
        counts = self.db.execute(
            f"SELECT docs.kind, docs.city, docs.category, count(*) {joined} "
            "GROUP BY docs.kind, docs.city, docs.category",
            params,
        ).fetchall()
        found = sum(row[3] for row in counts)
        assert len(page) <= found
        return found, (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self.db.close()
