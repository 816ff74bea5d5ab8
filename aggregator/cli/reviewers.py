"""`aggregator reviewers`: chamber reviewers' and admins' keys; only a hash is kept."""

from __future__ import annotations

from typing import Annotated

import typer

from aggregator.cli.common import fail, runtime
from aggregator.store import StoreError

reviewers_app = typer.Typer(
    help="Keys for the chambers' review desk (reviewer or admin); only a hash is kept.",
    no_args_is_help=True,
)


@reviewers_app.command("add-key")
def reviewers_add_key(
    name: str,
    role: Annotated[str, typer.Option(help="reviewer or admin")] = "reviewer",
) -> None:
    """Create a desk key for reviewer NAME; it is printed once, alone on stdout.

    The key opens /chambre/ and /api/review/ only: the operator API refuses it.
    """
    try:
        key_id, key = runtime().store.create_reviewer_key(name, role)
    except StoreError as error:
        raise fail(str(error)) from None
    typer.echo(f"key {key_id} for {role} {name} (shown once: store it now)", err=True)
    typer.echo(key)


@reviewers_app.command("list-keys")
def reviewers_list_keys() -> None:
    """Keys by id, name, role, creation and revocation (never the keys themselves)."""
    for key_id, name, role, created, revoked in runtime().store.list_reviewer_keys():
        state = f"revoked {revoked:%Y-%m-%d %H:%M}" if revoked else "active"
        typer.echo(f"{key_id}\t{name}\t{role}\t{created:%Y-%m-%d %H:%M}\t{state}")


@reviewers_app.command("revoke-key")
def reviewers_revoke_key(key_id: int) -> None:
    """Revoke a key and close its desk sessions."""
    try:
        runtime().store.revoke_reviewer_key(key_id)
    except StoreError as error:
        raise fail(str(error)) from None
    typer.echo(f"revoked reviewer key {key_id}")
