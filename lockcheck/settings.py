"""The frozen settings of one run, after command line, config and environment were merged.

:class:`NetworkOptions` (where packages come from and how to reach them) is shared by
``compile``, ``check`` and ``sync``; :class:`CompileSettings` holds one of them beside the
target, resolution and output options.  Which option sets which field, how it is spelled on
the command line, in config files and in a lock's header is :mod:`lockcheck.options`.
Importing this module stays cheap (stdlib only): the no-op paths build settings too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lockcheck.pipargs import merged_pip_args, parse_pip_args

if TYPE_CHECKING:
    from lockcheck.models import IndexOptions
    from lockcheck.resolve.candidates import FormatControl

__all__ = [
    "CompileSettings",
    "NetworkOptions",
    "format_control",
    "target_python",
    "with_changes",
]


@dataclass(frozen=True)
class NetworkOptions:
    """Index, TLS, cache and network options as the project gave them (None / empty: not
    given, pip's own configuration applies; see :func:`lockcheck.index.settings.
    merge_index_options`)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    no_index: bool = False
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    cert: str | None = None
    client_cert: str | None = None
    build_isolation: bool = True
    # pip-compile's and pip-sync's --pip-args: the pip options among them that lockcheck
    # has, applied where they act (lockcheck.pipargs); a header keeps the string as given.
    pip_args: str | None = None
    # Knobs only --pip-args sets (None: pip's configuration, else lockcheck's default).
    timeout: float | None = None
    retries: int | None = None
    cache_dir: Path | None = None
    offline: bool = False
    refresh: bool = False

    def with_pip_args(self) -> NetworkOptions:
        """These options with the network part of ``--pip-args`` applied."""
        changes = _pip_args_changes(self, self.pip_args)
        # Field -> value pairs of this class (_pip_args_changes keeps only those).
        return replace(self, **changes) if changes else self  # type: ignore[arg-type]


#: The NetworkOptions field names (a change to one of them goes to ``settings.network``).
NETWORK_FIELDS = frozenset(f.name for f in fields(NetworkOptions))


@dataclass(frozen=True)
class CompileSettings:
    """Everything one compile needs, after CLI, config and environment were merged."""

    # The target: inputs, output and the environment the lock is for.
    src_files: tuple[Path, ...] = ()
    # None: derived from the first input (requirements.in -> requirements.txt).
    # Path("-"): standard output.
    output_file: Path | None = None
    python_version: str | None = None
    # Target when python_version is not given, without appearing in the header's command:
    # the lower bound of requires-python, else the Python named by the existing lock's header.
    default_python_version: str | None = None
    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()
    # pip-compile's build dependencies of project inputs: targets whose
    # get_requires_for_build_<target> is asked (with [build-system] requires), and whether
    # only those are locked.
    build_deps_for: tuple[str, ...] = ()
    all_build_deps: bool = False
    only_build_deps: bool = False
    constraint_files: tuple[Path, ...] = ()
    # Other targets: one platform (--python-platform), or every environment (universal).
    python_platform: str | None = None
    universal: bool = False
    environments: tuple[str, ...] = ()
    python_versions: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    # The project's requires-python (universal locks cover exactly that range).
    requires_python: str | None = None
    # Resolution.
    upgrade: bool = False
    upgrade_packages: tuple[str, ...] = ()
    # Existing pins are first held as constraints, as pip-compile holds them; `lockcheck
    # upgrade NAME` turns that off so what an upgraded package forces may move too.
    hold_pins: bool = True
    pre: bool = False
    only_binary: tuple[str, ...] = ()
    no_binary: tuple[str, ...] = ()
    # Release cut-off (lockcheck.cutoff): WHEN as given, so the header keeps a duration a
    # duration; per-package "name=WHEN" exceptions.
    exclude_newer: str | None = None
    exclude_newer_package: tuple[str, ...] = ()
    # pip-compile's --resolver: only "backtracking" (lockcheck's resolver) is accepted.
    resolver: str = "backtracking"
    # pip-compile's --max-rounds (default 10): it can raise the resolver's bound of
    # resolve.resolver.MAX_ROUNDS rounds, never lower it (pip-compile's rounds are whole
    # re-resolutions, which lockcheck does not need).
    max_rounds: int = 10
    network: NetworkOptions = field(default_factory=NetworkOptions)
    # Output.
    # "requirements" (pip-compile's format) or "pylock" (PEP 751); None: from the file name.
    lock_format: str | None = None
    generate_hashes: bool = False
    # pip-tools' option, accepted so its commands and configs work; hashes are always
    # those of the release's files, never copied from the existing lock.
    reuse_hashes: bool = True
    allow_unsafe: bool = False
    unsafe_packages: tuple[str, ...] = ()
    header: bool = True
    # "lockcheck", or "pip-compile" (its header lines, for bots that re-run them); None:
    # the existing lock's style, else lockcheck's.
    header_style: str | None = None
    annotate: bool = True
    annotation_style: str = "split"
    strip_extras: bool = True
    emit_options: bool = True
    emit_index_url: bool = True
    emit_trusted_host: bool = True
    emit_find_links: bool = True
    newline: str = "preserve"
    dry_run: bool = False
    # The run's surroundings (None: the process's own).
    environ: Mapping[str, str] | None = None
    cwd: Path | None = None

    def with_pip_args(self) -> CompileSettings:
        """These settings with ``--pip-args`` applied (unchanged when there are none)."""
        if not self.network.pip_args:
            return self
        # pre, only_binary, no_binary: the fields of this class --pip-args can set.
        changes = _pip_args_changes(self, self.network.pip_args)
        network = self.network.with_pip_args()
        return replace(self, network=network, **changes)  # type: ignore[arg-type]


def _pip_args_changes(target: object, text: str | None) -> dict[str, object]:
    """The fields of *target* that ``--pip-args`` *text* changes, merged with their values."""
    names = {f.name for f in fields(target)}  # type: ignore[arg-type]  # always a dataclass
    return {
        name: merged_pip_args(getattr(target, name), value)
        for name, value in parse_pip_args(text).items()
        if name in names
    }


def with_changes(settings: CompileSettings, changes: Mapping[str, object]) -> CompileSettings:
    """*settings* with *changes* (field name -> value, as the option table names them) made;
    network fields go to ``settings.network``.  An unknown name is a TypeError, as for
    :func:`dataclasses.replace`."""
    network = {k: v for k, v in changes.items() if k in NETWORK_FIELDS}
    rest = {k: v for k, v in changes.items() if k not in NETWORK_FIELDS}
    # The values were typed by the option table (lockcheck.options) that named them.
    if network:
        rest["network"] = replace(settings.network, **network)  # type: ignore[arg-type]
    return replace(settings, **rest)  # type: ignore[arg-type]


def format_control(settings: CompileSettings, file_opts: IndexOptions) -> FormatControl:
    """``--only-binary`` / ``--no-binary`` of the settings (``--pip-args`` included) and of
    the requirement files' own option lines."""
    from lockcheck.resolve.candidates import FormatControl

    settings = settings.with_pip_args()
    only = _format_names(settings.only_binary) | file_opts.only_binary
    no = _format_names(settings.no_binary) | file_opts.no_binary
    return FormatControl(only_binary=frozenset(only), no_binary=frozenset(no))


def _format_names(values: tuple[str, ...]) -> frozenset[str]:
    from packaging.utils import canonicalize_name  # packaging.tags: not on the no-op paths

    out: set[str] = set()
    for value in values:
        for item in str(value).split(","):
            item = item.strip()
            if item:
                out.add(item if item.startswith(":") else canonicalize_name(item))
    return frozenset(out)


def target_python(settings: CompileSettings, lock_text: str | None) -> str | None:
    """Explicit --python-version, else the lock header's Python, else the inferred default
    (the lower bound of requires-python).

    Keeping the existing lock's Python means the hook gives the same lock whatever
    interpreter runs it, and whatever requires-python says; ``--python-version`` moves a
    lock to another Python.
    """
    if settings.python_version:
        return settings.python_version
    if lock_text and lock_text.startswith("#"):
        match = _HEADER_PYTHON.search(lock_text[:400])
        if match:
            return match.group(1)
    return settings.default_python_version


_HEADER_PYTHON = re.compile(r"^# This file is autogenerated by \S+ with [Pp]ython (\d+\.\d+)", re.M)
