"""`aggregator operators`: API keys; each acts for one platform and only a hash is kept."""

from __future__ import annotations

from typing import Annotated

import typer

from aggregator.cli.common import fail, runtime
from aggregator.store import StoreError

operators_app = typer.Typer(
    help="Operator API keys: each acts for one platform; only a hash is kept.",
    no_args_is_help=True,
)


@operators_app.command("add-key")
def operators_add_key(
    platform: str,
    label: Annotated[str, typer.Option(help="Who holds the key, e.g. a person or a team.")] = "",
) -> None:
    """Create a key for PLATFORM's operators; it is printed once, alone on stdout.

    Only its hash is kept: store the key now, it cannot be shown again.
    """
    import re

    from aggregator.models import SLUG_PATTERN

    if not re.fullmatch(SLUG_PATTERN, platform):
        raise fail(f"{platform!r} is not a platform slug (lowercase letters, digits, - and _)")
    key_id, key = runtime().store.create_api_key(platform, label)
    typer.echo(f"key {key_id} for platform {platform} (shown once: store it now)", err=True)
    typer.echo(key)


@operators_app.command("list-keys")
def operators_list_keys(platform: str | None = None) -> None:
    """Keys by id, platform, label, creation and revocation (never the keys themselves)."""
    for key in runtime().store.list_api_keys(platform):
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        created = f"{key.created_at:%Y-%m-%d %H:%M}"
        typer.echo(f"{key.id}\t{key.platform}\t{key.label or '-'}\t{created}\t{state}")


@operators_app.command("revoke-key")
def operators_revoke_key(key_id: int) -> None:
    """Revoke a key: requests carrying it are refused from now on."""
    try:
        key = runtime().store.revoke_api_key(key_id)
    except StoreError as error:
        raise fail(str(error)) from None
    typer.echo(f"revoked key {key.id} of platform {key.platform}")
