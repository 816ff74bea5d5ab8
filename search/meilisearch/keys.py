"""What a browser may hold to query Meilisearch directly: a search-only key, tenant tokens.

The backend writes with the key it was opened with (the master key, on the server); that key
never leaves the server, and the web API searches on the browser's behalf, so a browser needs
nothing. A page that would query Meilisearch itself (an instant-search widget) gets a key whose
only action is ``search`` on the two indexes, or a short-lived token signed with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import meilisearch

SEARCH_KEY_DESCRIPTION = "buy-local public search (search only)"


def search_key(client: meilisearch.Client, indexes: list[str]) -> str:
    """The key allowed to search ``indexes`` and nothing else: found again if it exists
    (``GET /keys``), created once otherwise (``POST /keys``, no expiry)."""
    wanted = sorted(indexes)
    offset = 0
    while True:
        page = client.get_keys({"offset": offset, "limit": 100})
        for candidate in page.results:
            if (
                candidate.actions == ["search"]
                and sorted(candidate.indexes) == wanted
                and candidate.expires_at is None
            ):
                return str(candidate.key)
        offset += len(page.results)
        if not page.results or offset >= page.total:
            break
    created = client.create_key(
        {
            "description": SEARCH_KEY_DESCRIPTION,
            "actions": ["search"],
            "indexes": wanted,
            "expiresAt": None,
        }
    )
    return str(created.key)


def tenant_token(
    client: meilisearch.Client,
    indexes: list[str],
    expires_at: datetime,
    search_filter: str | None = None,
) -> str:
    """A JWT signed with the search key, valid until ``expires_at``, whose searches are
    restricted by ``search_filter`` (e.g. one platform's shops) when one is given."""
    key = search_key(client, indexes)
    uid = client.get_key(key).uid
    rule: dict[str, Any] = {"filter": search_filter} if search_filter else {}
    rules = {index: rule for index in indexes}
    return client.generate_tenant_token(uid, rules, expires_at=expires_at, api_key=key)
