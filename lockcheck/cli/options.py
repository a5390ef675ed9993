"""Click options generated from the option table (:data:`lockcheck.options.TABLE`), and the
run switches every command shares.

A settings option the command line does not give is None (or ``()``) here: only the options
given count (``ParameterSource``), the config and the settings' own defaults fill the rest,
and parsing a command line never builds the settings dataclasses."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import click

from lockcheck.options import TABLE, Option

if TYPE_CHECKING:
    from lockcheck.settings import CompileSettings, NetworkOptions

__all__ = ["Overrides", "given_options", "run_switches", "settings_options"]

F = TypeVar("F", bound=Callable[..., object])
Decorator = Callable[[F], F]


def _click_option(option: Option, command_name: str) -> Callable[[F], F]:
    """The click option for one row of the table."""
    dest = option.dest or option.field
    flags = [f for f in option.flags if not f.startswith("--")]
    longs = [option.long, *(f for f in option.flags if f.startswith("--"))]
    kwargs: dict[str, Any] = {"help": option.help_for(command_name)}
    if option.metavar:
        kwargs["metavar"] = option.metavar
    if option.kind == "flag":
        decls = [*flags, *longs, dest]
        kwargs["is_flag"] = True
    elif option.kind == "negatable":
        decls = [*flags, f"{option.long}/--no-{option.long[2:]}", dest]
        kwargs["default"] = None  # not given: the config's value, else the settings' default
    else:
        decls = [*flags, *longs, dest]
        if option.kind in ("multi", "multipath"):
            kwargs["multiple"] = True
        if option.kind in ("path", "multipath"):
            kwargs["type"] = _path_type(option)
        elif option.kind == "int":
            kwargs["type"] = int
        elif option.click_choices:
            kwargs["type"] = click.Choice(
                list(option.click_choices), case_sensitive=not option.any_case
            )
    return click.option(*decls, **kwargs)


def _path_type(option: Option) -> click.Path:
    if option.field == "output_file":
        return click.Path(dir_okay=False, allow_dash=True, path_type=Path)
    if option.field == "cache_dir":
        return click.Path(file_okay=False, path_type=Path)
    return click.Path(dir_okay=False, path_type=Path)


def _apply(options: Sequence[Callable[[F], F]], command: F) -> F:
    for option in reversed(options):
        command = option(command)
    return command


def settings_options(command_name: str) -> Decorator[Any]:
    """Every settings option *command_name* takes, in the table's order."""
    options = [_click_option(o, command_name) for o in TABLE if command_name in o.commands]

    def decorate(command: F) -> F:
        return _apply(options, command)

    return decorate


def run_switches(command: F) -> F:
    """``-q``, ``-v`` and ``--color/--no-color``: how a run talks, not what it does."""
    return _apply(
        [
            click.option("-q", "--quiet", is_flag=True),
            click.option("-v", "--verbose", count=True),
            click.option(
                "--color/--no-color",
                default=None,
                help="Force colours on or off (default: on a terminal, unless NO_COLOR is set).",
            ),
        ],
        command,
    )


def given_options(
    ctx: click.Context, params: Mapping[str, object], base: NetworkOptions
) -> NetworkOptions:
    """*base* (settings from the config) with what the command line gave among *params*
    (those it left at their defaults keep *base*'s value)."""
    given = {
        name: value
        for name, value in params.items()
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
    }
    from dataclasses import replace  # not loaded for --help

    # click named each parameter after its NetworkOptions field and typed its value.
    return replace(base, **given) if given else base  # type: ignore[arg-type]


class Overrides(NamedTuple):
    """What ``check``'s and ``upgrade``'s own command lines change in every lock's settings
    (the rest comes from the config or the lock's header)."""

    python_version: str | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()

    def apply(self, settings: CompileSettings) -> CompileSettings:
        from dataclasses import replace  # not loaded for --help

        network = settings.network
        if self.index_url:
            network = replace(network, index_url=self.index_url)
        if self.extra_index_urls:
            network = replace(network, extra_index_urls=self.extra_index_urls)
        target = settings.target
        if self.python_version:
            target = replace(target, python_version=self.python_version)
        return replace(settings, target=target, network=network)
