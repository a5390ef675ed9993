"""One table from compile options to :class:`CompileSettings` fields, used three ways.

The header's command line, the config file's keys and ``check``'s reading of a lock header all
name the same options; keeping their spelling in one table means a lock written from config
says the command that regenerates it, and ``check`` can rebuild the settings from a header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

__all__ = [
    "ALIASES",
    "OPTIONS",
    "Option",
    "command_options",
    "normalised_changes",
    "option_value",
    "settings_changes_from_options",
]


@dataclass(frozen=True)
class Option:
    long: str  # "--generate-hashes"
    field: str  # CompileSettings field
    kind: str  # "flag" | "negatable" | "value" | "int" | "multi" | "path" | "multipath"
    # Allowed values, in the spelling written back (matched without regard to case, as
    # pip-compile's ``--newline`` is): ``--newline lf`` is written ``--newline=LF``.
    choices: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The config-file spelling: ``generate-hashes``."""
        return self.long[2:]


OPTIONS: tuple[Option, ...] = (
    Option("--python-version", "python_version", "value"),
    Option("--python-platform", "python_platform", "value"),
    Option("--universal", "universal", "flag"),
    Option("--format", "lock_format", "value", ("requirements", "pylock")),
    Option("--environment", "environments", "multi"),
    Option("--extra", "extras", "multi"),
    Option("--all-extras", "all_extras", "flag"),
    Option("--group", "groups", "multi"),
    Option("--build-deps-for", "build_deps_for", "multi"),
    Option("--all-build-deps", "all_build_deps", "flag"),
    Option("--only-build-deps", "only_build_deps", "flag"),
    Option("--constraint", "constraint_files", "multipath"),
    Option("--pre", "pre", "flag"),
    Option("--generate-hashes", "generate_hashes", "flag"),
    Option("--reuse-hashes", "reuse_hashes", "negatable"),
    Option("--allow-unsafe", "allow_unsafe", "negatable"),
    Option("--unsafe-package", "unsafe_packages", "multi"),
    Option("--strip-extras", "strip_extras", "negatable"),
    Option("--annotate", "annotate", "negatable"),
    Option("--annotation-style", "annotation_style", "value", ("line", "split")),
    Option("--header", "header", "negatable"),
    Option("--header-style", "header_style", "value", ("lockcheck", "pip-compile")),
    Option("--emit-options", "emit_options", "negatable"),
    Option("--emit-index-url", "emit_index_url", "negatable"),
    Option("--emit-trusted-host", "emit_trusted_host", "negatable"),
    Option("--emit-find-links", "emit_find_links", "negatable"),
    Option("--newline", "newline", "value", ("LF", "CRLF", "native", "preserve")),
    Option("--index-url", "index_url", "value"),
    Option("--extra-index-url", "extra_index_urls", "multi"),
    Option("--no-index", "no_index", "flag"),
    Option("--find-links", "find_links", "multi"),
    Option("--trusted-host", "trusted_hosts", "multi"),
    Option("--cert", "cert", "value"),
    Option("--client-cert", "client_cert", "value"),
    Option("--only-binary", "only_binary", "multi"),
    Option("--no-binary", "no_binary", "multi"),
    Option("--build-isolation", "build_isolation", "negatable"),
    Option("--exclude-newer", "exclude_newer", "value"),
    Option("--exclude-newer-package", "exclude_newer_package", "multi"),
    # pip-compile's own: a lock that names them must recompile and check the same way.
    Option("--pip-args", "pip_args", "value"),
    Option("--resolver", "resolver", "value", ("backtracking",)),
    Option("--max-rounds", "max_rounds", "int"),
)

#: Other tools' spellings of the same options, as their headers and configs write them.
ALIASES = {"--uploaded-prior-to": "--exclude-newer"}

_BY_LONG = {o.long: o for o in OPTIONS}
#: Other tools' spellings of the same value: uv names a format by its file.
_ALIASES = {"--format": {"requirements.txt": "requirements", "pylock.toml": "pylock"}}


def _defaults() -> dict[str, Any]:
    from lockcheck.compile import CompileSettings

    return {f.name: f.default for f in fields(CompileSettings) if f.default is not MISSING}


def command_options(settings: Any) -> dict[str, object]:
    """Long option -> value for every option of *settings* that is not at its default."""
    defaults = _defaults()
    out: dict[str, object] = {}
    for option in OPTIONS:
        value = getattr(settings, option.field)
        if value == defaults.get(option.field) or value in (None, ()):
            continue
        if option.kind in ("multi", "multipath"):
            out[option.long] = tuple(str(v) for v in value)
        elif option.kind in ("value", "int"):
            out[option.long] = str(value)
        else:
            out[option.long] = bool(value)
    return out


def normalised_changes(changes: Mapping[str, object]) -> dict[str, object]:
    """*changes* (CompileSettings fields) with every value of a choice or number option in
    its canonical form; an InputError names the first bad one."""
    by_field = {o.field: o for o in OPTIONS if o.choices or o.kind == "int"}
    out = dict(changes)
    for name, value in changes.items():
        option = by_field.get(name)
        if option is not None and value is not None:
            out[name] = option_value(option, value)
    return out


def option_value(option: Option, value: object) -> object:
    """*value* of a value or int *option* in its canonical form, or an InputError that
    names the option (the caller adds the file it came from)."""
    from lockcheck.errors import InputError

    text = _ALIASES.get(option.long, {}).get(str(value).strip(), str(value).strip())
    if option.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise InputError(f"{option.long} must be a whole number, not {text!r}") from None
    if not option.choices:
        return str(value)
    for choice in option.choices:
        if choice.lower() == text.lower():
            return choice
    if option.long == "--resolver":
        raise InputError(
            f"{option.long}={text} is not supported: lockcheck's resolver backtracks, as "
            "pip-compile's default --resolver=backtracking does"
        )
    raise InputError(f"{option.long}={text}: expected one of {', '.join(option.choices)}")


def settings_changes_from_options(options: Mapping[str, object]) -> dict[str, object]:
    """CompileSettings field changes for a header's options (unknown ones are ignored)."""
    changes: dict[str, object] = {}
    for long, value in options.items():
        option = _BY_LONG.get(ALIASES.get(long, long))
        if option is None:
            continue
        if option.kind == "multipath":
            changes[option.field] = tuple(Path(str(v)) for v in _as_tuple(value))
        elif option.kind == "multi":
            changes[option.field] = tuple(str(v) for v in _as_tuple(value))
        elif option.kind in ("value", "int"):
            changes[option.field] = option_value(option, value)
        else:
            changes[option.field] = bool(value)
    return changes


def _as_tuple(value: object) -> tuple[object, ...]:
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(value)
    return (value,)
