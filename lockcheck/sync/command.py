"""``lockcheck sync``: click command (placeholder until the sync engine lands)."""

from __future__ import annotations

import click

__all__ = ["sync_command"]


@click.command("sync")
def sync_command() -> None:
    """Make a virtualenv match its locks exactly (not implemented yet)."""
    raise click.ClickException("sync is not implemented yet")
