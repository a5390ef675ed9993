"""The one option table: every settings option declared once, used four ways.

Each :class:`Option` says its flags, type and choices, its help, which field of
:class:`~lockcheck.settings.CompileSettings` it sets (in its target, resolution, output or
network group: field names are unique across them), its config-file key and that key's
other spellings, whether it is part of a lock's header command, and which commands take it.
From it come the click options (:mod:`lockcheck.cli.options`), the config keys
(:mod:`lockcheck.config`), the header's command line (:func:`command_options`) and
``check``'s reading of a header (:func:`settings_changes_from_options`).  Adding an option is
adding a row here and, when it is a new setting, a field in the settings group it belongs to
(:mod:`lockcheck.settings`, or :class:`~lockcheck.lockfile.settings.OutputSettings`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from lockcheck.errors import InputError

if TYPE_CHECKING:
    from lockcheck.settings import CompileSettings

__all__ = [
    "ALIASES",
    "CONFIG_OPTIONS",
    "OPTIONS",
    "TABLE",
    "Option",
    "command_options",
    "defaults",
    "normalised_changes",
    "option_value",
    "settings_changes_from_options",
    "settings_value",
]

#: kind: "flag" (``--x``), "negatable" (``--x/--no-x``), "value", "int", "multi" (repeatable
#: value), "path" and "multipath" (paths).
_ALL = frozenset({"compile"})
_NETWORK = frozenset({"compile", "sync"})
_INDEX = frozenset({"compile", "sync", "check", "upgrade"})


class Option(NamedTuple):
    """One option (a NamedTuple, not a dataclass: ``lockcheck --help`` builds all of them)."""

    long: str  # "--generate-hashes"
    field: str  # a field of CompileSettings or of one of its groups (target, output...)
    kind: str
    # Allowed values, in the spelling written back (matched without regard to case, as
    # pip-compile's ``--newline`` is): ``--newline lf`` is written ``--newline=LF``.
    choices: tuple[str, ...] = ()
    # Other spellings of a value (uv names a format by its file): spelling -> choice.
    value_aliases: Mapping[str, str] | None = None
    # Further flags: short ones ("-i") and other tools' long ones ("--uploaded-prior-to").
    flags: tuple[str, ...] = ()
    help: str | None = None
    # Another help text in some command: command name -> help.
    helps: Mapping[str, str] | None = None
    metavar: str | None = None
    # The values the command line takes, checked by click (else the value is checked as
    # config values are, by :func:`option_value`).
    click_choices: tuple[str, ...] = ()
    # Whether the command line takes a choice in any case (``--newline lf``).
    any_case: bool = False
    # click's parameter name when it is not the field (``--rebuild`` is ``--refresh``).
    dest: str | None = None
    # Part of the header's command line (and read back from it); else a one-off switch.
    header: bool = True
    # Read from config files under ``key`` and these other spellings.
    config: bool = True
    config_aliases: tuple[str, ...] = ()
    commands: frozenset[str] = _ALL

    @property
    def key(self) -> str:
        """The config-file spelling: ``generate-hashes``."""
        return self.long[2:]

    def help_for(self, command: str) -> str | None:
        return (self.helps or {}).get(command, self.help)


_BUILD_TARGETS = ("editable", "sdist", "wheel")  # builddeps.ALL_BUILD_TARGETS

#: Every settings option, in the order ``lockcheck compile --help`` lists them.
TABLE: tuple[Option, ...] = (
    Option(
        "--output-file",
        "output_file",
        "path",
        flags=("-o",),
        help="Lock file to write ('-' for standard output).",
        header=False,
        config=False,
    ),
    Option(
        "--python-version",
        "python_version",
        "value",
        metavar="X.Y",
        help="Target Python for markers, Requires-Python and the header.",
    ),
    Option(
        "--python-platform",
        "python_platform",
        "value",
        metavar="PLATFORM",
        help="Target platform: linux, macos, windows (or linux-aarch64, macos-x86_64, ...).",
    ),
    Option(
        "--universal",
        "universal",
        "flag",
        help="One lock for every platform and Python version.",
    ),
    Option(
        "--environment",
        "environments",
        "multi",
        metavar="MARKER",
        help="Universal lock limited to environments matching this PEP 508 marker (repeatable).",
        config_aliases=("environments",),
    ),
    Option(
        "--format",
        "lock_format",
        "value",
        ("requirements", "pylock"),
        value_aliases={"requirements.txt": "requirements", "pylock.toml": "pylock"},
        click_choices=("requirements", "pylock", "requirements.txt", "pylock.toml"),
        help="Lock format (default: from the output name; pylock.toml is PEP 751). uv's "
        "requirements.txt and pylock.toml are the same.",
    ),
    Option(
        "--extra",
        "extras",
        "multi",
        help="Optional dependencies to include.",
        config_aliases=("extras",),
    ),
    Option("--all-extras", "all_extras", "flag", help="Include every optional dependency."),
    Option(
        "--group",
        "groups",
        "multi",
        help="PEP 735 dependency group to include.",
        config_aliases=("groups",),
    ),
    Option(
        "--build-deps-for",
        "build_deps_for",
        "multi",
        click_choices=_BUILD_TARGETS,
        help="Also lock what building this target of the project needs, with [build-system] "
        "requires (repeatable).",
    ),
    Option(
        "--all-build-deps",
        "all_build_deps",
        "flag",
        help="Also lock what building the project needs, for every target (wheel, sdist, "
        "editable).",
    ),
    Option(
        "--only-build-deps",
        "only_build_deps",
        "flag",
        help="Lock only the build dependencies, not the project's own requirements.",
    ),
    Option(
        "--constraint",
        "constraint_files",
        "multipath",
        flags=("-c",),
        help="Constraints file.",
    ),
    Option(
        "--upgrade",
        "upgrade",
        "flag",
        flags=("-U",),
        help="Ignore existing pins; take newest versions.",
        header=False,
        config=False,
    ),
    Option(
        "--upgrade-package",
        "upgrade_packages",
        "multi",
        flags=("-P",),
        metavar="NAME[SPEC]",
        help="Upgrade one package (repeatable).",
        header=False,
        config=False,
    ),
    Option("--pre", "pre", "flag", flags=("-p",), help="Allow pre-releases."),
    Option("--generate-hashes", "generate_hashes", "flag", help="Add --hash lines for every file."),
    Option(
        "--reuse-hashes",
        "reuse_hashes",
        "negatable",
        help="Keep hashes of unchanged pins from the existing lock.",
    ),
    Option(
        "--allow-unsafe",
        "allow_unsafe",
        "negatable",
        help="Pin setuptools, pip and distribute too.",
    ),
    Option(
        "--unsafe-package",
        "unsafe_packages",
        "multi",
        help="Treat this package as unsafe (repeatable).",
        config_aliases=("unsafe-packages",),
    ),
    Option(
        "--strip-extras",
        "strip_extras",
        "negatable",
        help="Write pins without extras (default), so the lock works as constraints.",
    ),
    Option("--annotate", "annotate", "negatable", help="Write '# via' annotations."),
    Option(
        "--annotation-style",
        "annotation_style",
        "value",
        ("line", "split"),
        click_choices=("split", "line"),
    ),
    Option("--header", "header", "negatable", help="Write the header comment."),
    Option(
        "--header-style",
        "header_style",
        "value",
        ("lockcheck", "pip-compile"),
        click_choices=("lockcheck", "pip-compile"),
        help="Header lines as lockcheck writes them, or as pip-compile does (for update bots "
        "that re-run the header's command). Default: the existing lock's style, else "
        "lockcheck's.",
    ),
    Option("--emit-options", "emit_options", "negatable"),
    Option("--emit-index-url", "emit_index_url", "negatable"),
    Option("--emit-trusted-host", "emit_trusted_host", "negatable"),
    Option("--emit-find-links", "emit_find_links", "negatable"),
    Option(
        "--newline",
        "newline",
        "value",
        ("LF", "CRLF", "native", "preserve"),
        click_choices=("LF", "CRLF", "native", "preserve"),
        any_case=True,
    ),
    Option(
        "--index-url",
        "index_url",
        "value",
        flags=("-i",),
        help="Base URL of the package index.",
        commands=_INDEX,
    ),
    Option(
        "--extra-index-url",
        "extra_index_urls",
        "multi",
        config_aliases=("extra-index-urls",),
        commands=_INDEX,
    ),
    Option(
        "--no-index",
        "no_index",
        "flag",
        help="Ignore package indexes (find-links only).",
        commands=_NETWORK,
    ),
    Option("--find-links", "find_links", "multi", flags=("-f",), commands=_NETWORK),
    Option(
        "--trusted-host",
        "trusted_hosts",
        "multi",
        config_aliases=("trusted-hosts",),
        commands=_NETWORK,
    ),
    Option("--cert", "cert", "value", help="CA bundle to verify TLS with.", commands=_NETWORK),
    Option(
        "--client-cert",
        "client_cert",
        "value",
        help="Client certificate (PEM).",
        commands=_NETWORK,
    ),
    Option("--build-isolation", "build_isolation", "negatable", commands=_NETWORK),
    Option("--cache-dir", "cache_dir", "path", header=False, config=False, commands=_NETWORK),
    Option(
        "--offline",
        "offline",
        "flag",
        help="Use only the cache; no network.",
        header=False,
        config=False,
        commands=_NETWORK,
    ),
    Option("--only-binary", "only_binary", "multi"),
    Option("--no-binary", "no_binary", "multi"),
    Option(
        "--exclude-newer",
        "exclude_newer",
        "value",
        flags=("--uploaded-prior-to",),
        metavar="WHEN",
        help="Only files uploaded before WHEN: an RFC 3339 timestamp, a date (midnight UTC) "
        "or a duration counted back from now (P7D, PT12H).",
    ),
    Option(
        "--exclude-newer-package",
        "exclude_newer_package",
        "multi",
        metavar="NAME=WHEN",
        help="Another cut-off for one package (WHEN 'false': none) (repeatable).",
    ),
    # pip-compile's own: a lock that names them must recompile and check the same way.
    Option(
        "--pip-args",
        "pip_args",
        "value",
        metavar="ARGS",
        help="pip-compile's: the pip options among ARGS that lockcheck has (index, TLS, "
        "--only-binary, --no-binary, --pre, --no-build-isolation, --timeout, --retries).",
        helps={"sync": "pip-sync's: the index and TLS options in ARGS."},
        commands=_NETWORK,
    ),
    Option(
        "--resolver",
        "resolver",
        "value",
        ("backtracking",),
        metavar="backtracking",
        help="pip-compile's: only 'backtracking', which is what lockcheck's resolver does.",
    ),
    Option(
        "--max-rounds",
        "max_rounds",
        "int",
        help="pip-compile's: raises the resolver's bound of 5000 rounds (never lowers it).",
    ),
    Option(
        "--refresh",
        "refresh",
        "flag",
        help="Revalidate every cached index page.",
        header=False,
        config=False,
    ),
    Option(
        "--rebuild",
        "refresh",
        "flag",
        flags=("-r",),
        help="pip-compile's name for --refresh.",
        dest="rebuild",
        header=False,
    ),
    Option(
        "--dry-run",
        "dry_run",
        "flag",
        flags=("-n",),
        help="Print the lock instead of writing it.",
        header=False,
        config=False,
    ),
    # Config only: the grid of a universal lock.
    Option("--python-versions", "python_versions", "multi", header=False, commands=frozenset()),
    Option("--platforms", "platforms", "multi", header=False, commands=frozenset()),
)

#: The options a lock's header command carries, in the order they were always listed.
OPTIONS: tuple[Option, ...] = tuple(o for o in TABLE if o.header)
#: Config key (and each other spelling) -> option.
CONFIG_OPTIONS: Mapping[str, Option] = {
    key: o for o in TABLE if o.config for key in (o.key, *o.config_aliases)
}
#: Other tools' spellings of the same options, as their headers and configs write them.
ALIASES = {flag: o.long for o in OPTIONS for flag in o.flags if flag.startswith("--")}

_BY_LONG = {o.long: o for o in OPTIONS}


@functools.cache
def defaults() -> Mapping[str, object]:
    """Settings field -> its default (the settings module is imported on first use only:
    ``lockcheck --help`` builds the click options without it)."""
    from lockcheck.settings import option_defaults

    return option_defaults()


def settings_value(settings: CompileSettings, option: Option) -> object:
    """The value *option* has in *settings* (in the group of settings holding its field)."""
    from lockcheck.settings import option_value_in

    return option_value_in(settings, option.field)


def command_options(settings: CompileSettings) -> dict[str, object]:
    """Long option -> value for every header option of *settings* not at its default."""
    out: dict[str, object] = {}
    for option in OPTIONS:
        value = settings_value(settings, option)
        if value == defaults().get(option.field) or value in (None, ()):
            continue
        if option.kind in ("multi", "multipath"):
            out[option.long] = tuple(str(v) for v in _as_tuple(value))
        elif option.kind in ("value", "int"):
            out[option.long] = str(value)
        else:
            out[option.long] = bool(value)
    return out


def normalised_changes(changes: Mapping[str, object]) -> dict[str, object]:
    """*changes* (settings fields) with every value of a choice or number option in
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
    text = str(value).strip()
    text = (option.value_aliases or {}).get(text, text)
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
    """Settings field changes for a header's options (unknown ones are ignored)."""
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
