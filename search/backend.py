"""The search backend protocol every engine implements, and ``open_backend`` to pick one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from aggregator.models import Entity
from search.query import SearchAnswer, SearchQuery

if TYPE_CHECKING:
    from aggregator.settings import Settings


class ConfigurationError(Exception):
    """The deployment asks for a search backend that cannot run; the message says why."""


@runtime_checkable
class SearchBackend(Protocol):
    """Where entities become searchable: one index of shop documents and their offers.

    The index is always derived: ``rebuild`` recreates it from the entities, ``upsert`` and
    ``delete`` keep it in line between rebuilds. Writes from one process are serialised;
    searches never wait for them and see a write once it returns.

    A use::

        backend = open_backend(settings)
        backend.rebuild(entities)                    # atomic: searches keep answering meanwhile
        backend.upsert([changed_entity])             # replaces the shop and all its offers
        answer = backend.search(SearchQuery(text="boulangrie", city="Toulouse",
                                            lat=43.6045, lon=1.4442, radius_m=3000))
        for hit in answer.hits:                      # shops, fewer typos first
            print(hit.name, hit.distance_m, [listing.platform for listing in hit.listings])
        for offer in answer.offers:                  # products, with the shop that sells them
            print(offer.title, offer.price, offer.shop_name)
        answer.facets["city"]                        # {"Toulouse": 12, "Blagnac": 3}
        backend.delete(["ent-123"])
        backend.close()
    """

    def upsert(self, entities: Iterable[Entity]) -> int:
        """Add or replace each entity's shop document and offer documents; returns how many
        entities were written."""
        ...

    def delete(self, entity_ids: Iterable[str]) -> int:
        """Remove shops and their offers; returns how many shops were in the index."""
        ...

    def rebuild(self, entities: Iterable[Entity]) -> int:
        """Replace the whole index atomically; returns how many entities it now holds."""
        ...

    def search(self, query: SearchQuery) -> SearchAnswer:
        """Answer one query: a page of shops, a page of offers, facet counts, the shop total."""
        ...

    def get(self, entity_id: str) -> dict[str, Any] | None:
        """The stored shop document (see ``search.documents.shop_document``), or None."""
        ...

    def count(self) -> int:
        """How many shops the index holds."""
        ...

    def close(self) -> None:
        """Release the index; the backend is unusable afterwards."""
        ...


def open_backend(settings: Settings) -> SearchBackend:
    """The backend ``settings.search_backend`` names, with synonyms from ``config_dir``.

    ``embedded``: a tantivy index under ``data_dir``. ``meilisearch``: the server at
    ``MEILI_URL``; the worker writes with ``MEILI_MASTER_KEY`` (or an admin key), the web
    searches with ``MEILI_SEARCH_KEY`` (a search-only key or a tenant token) and holds no other.
    """
    from search.analysis import Synonyms

    path = settings.config_dir / "synonyms.yaml"
    synonyms = Synonyms.load(path) if path.is_file() else Synonyms()
    if settings.search_backend == "embedded":
        from search.embedded import EmbeddedBackend

        return EmbeddedBackend(settings.search_dir, synonyms=synonyms)
    if settings.search_backend == "meilisearch":
        return _meilisearch(settings, synonyms)
    raise ConfigurationError(
        f"unknown search_backend {settings.search_backend!r}; expected 'embedded' or 'meilisearch'"
    )


def _meilisearch(settings: Settings, synonyms: Any) -> SearchBackend:
    url, master, search = settings.meili_url, settings.meili_master_key, settings.meili_search_key
    if not url:
        raise ConfigurationError(
            "AGGREGATOR_SEARCH_BACKEND=meilisearch needs MEILI_URL (e.g. http://127.0.0.1:7700), "
            "with MEILI_MASTER_KEY where the index is written (the worker) and MEILI_SEARCH_KEY "
            "where it is only searched (the web)"
        )
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"MEILI_URL must be an http:// or https:// URL, not {url!r}")
    if search is not None and search == master:
        raise ConfigurationError(
            "MEILI_SEARCH_KEY must be a search-only key (or a tenant token), not the master key"
        )
    from search.meilisearch import MeiliBackend

    return MeiliBackend(url, master, synonyms=synonyms, search_key=search)
