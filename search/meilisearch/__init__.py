"""The Meilisearch backend: index settings and documents, requests and answers, browser keys.

Imports of the official client stay absolute (``import meilisearch``): with absolute imports
this package, ``search.meilisearch``, never shadows the client's top-level ``meilisearch``.
"""

from __future__ import annotations

from search.meilisearch.backend import MeiliBackend, MeiliReadOnlyError, MeiliTaskError

__all__ = ["MeiliBackend", "MeiliReadOnlyError", "MeiliTaskError"]
