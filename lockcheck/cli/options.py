"""Click options shared by several commands (index, TLS, cache, network)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

__all__ = ["index_options", "index_url_options"]

F = TypeVar("F", bound=Callable[..., object])

_INDEX_OPTIONS = (
    click.option("-i", "--index-url", help="Base URL of the package index."),
    click.option("--extra-index-url", "extra_index_urls", multiple=True),
    click.option("--no-index", is_flag=True, help="Ignore package indexes (find-links only)."),
    click.option("-f", "--find-links", "find_links", multiple=True),
    click.option("--trusted-host", "trusted_hosts", multiple=True),
    click.option("--cert", help="CA bundle to verify TLS with."),
    click.option("--client-cert", help="Client certificate (PEM)."),
    click.option("--build-isolation/--no-build-isolation", default=True),
    click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path)),
    click.option("--offline", is_flag=True, help="Use only the cache; no network."),
)


def index_options(command: F) -> F:
    """Add the package-index options every networked command takes, in one place."""
    for option in reversed(_INDEX_OPTIONS):
        command = option(command)
    return command


def index_url_options(command: F) -> F:
    """Only ``--index-url`` and ``--extra-index-url`` (check: which index to resolve against,
    and where the credentials a lock masks come from)."""
    for option in reversed(_INDEX_OPTIONS[:2]):
        command = option(command)
    return command
