"""The frozen settings of one run, after command line, config and environment were merged.

:class:`NetworkOptions` (where packages come from and how to reach them) is shared by
``compile``, ``check`` and ``sync``; :class:`CompileSettings` holds one of them beside the
:class:`TargetOptions` (what is locked, for which environment), the
:class:`ResolutionOptions` (how pins are chosen) and the output options
(:class:`~lockcheck.lockfile.settings.OutputSettings`, which the writer takes as they are).
Which option sets which field, how it is spelled on the command line, in config files and in
a lock's header is :mod:`lockcheck.options`.
Importing this module stays cheap (stdlib only): the no-op paths build settings too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lockcheck.lockfile.settings import OutputSettings
from lockcheck.pipargs import merged_pip_args, parse_pip_args

if TYPE_CHECKING:
    from lockcheck.models import IndexOptions
    from lockcheck.resolve.candidates import FormatControl

__all__ = [
    "FIELD_GROUPS",
    "CompileSettings",
    "NetworkOptions",
    "OutputSettings",
    "ResolutionOptions",
    "TargetOptions",
    "format_control",
    "option_defaults",
    "option_value_in",
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


@dataclass(frozen=True)
class TargetOptions:
    """What is locked and for which environment: inputs, the lock file, the target Python
    and platform (or every environment, universal), extras, groups, build deps, constraints."""

    src_files: tuple[Path, ...] = ()
    # None: derived from the first input (requirements.in -> requirements.txt).
    # Path("-"): standard output.
    output_file: Path | None = None
    # "requirements" (pip-compile's format) or "pylock" (PEP 751); None: from the file name.
    lock_format: str | None = None
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

    @property
    def is_universal(self) -> bool:
        """Whether the lock covers several environments (``--universal`` or ``--environment``)."""
        return self.universal or bool(self.environments)


@dataclass(frozen=True)
class ResolutionOptions:
    """How pins are chosen: upgrades, held pins, pre-releases, formats, cut-offs, bounds."""

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

    def with_pip_args(self, pip_args: str | None) -> ResolutionOptions:
        """These options with ``--pip-args``' ``--pre``, ``--only-binary`` and
        ``--no-binary`` applied."""
        changes = _pip_args_changes(self, pip_args) if pip_args else {}
        # Field -> value pairs of this class (_pip_args_changes keeps only those).
        return replace(self, **changes) if changes else self  # type: ignore[arg-type]


@dataclass(frozen=True)
class CompileSettings:
    """Everything one compile needs, after CLI, config and environment were merged."""

    target: TargetOptions = field(default_factory=TargetOptions)
    resolution: ResolutionOptions = field(default_factory=ResolutionOptions)
    output: OutputSettings = field(default_factory=OutputSettings)
    network: NetworkOptions = field(default_factory=NetworkOptions)
    dry_run: bool = False
    # The run's surroundings (None: the process's own).
    environ: Mapping[str, str] | None = None
    cwd: Path | None = None

    def with_pip_args(self) -> CompileSettings:
        """These settings with ``--pip-args`` applied (unchanged when there are none)."""
        if not self.network.pip_args:
            return self
        resolution = self.resolution.with_pip_args(self.network.pip_args)
        return replace(self, resolution=resolution, network=self.network.with_pip_args())


#: The groups of :class:`CompileSettings`, by attribute.
_GROUPS = {
    "target": TargetOptions,
    "resolution": ResolutionOptions,
    "output": OutputSettings,
    "network": NetworkOptions,
}
#: Option field name -> the group of CompileSettings holding it ("": CompileSettings' own).
FIELD_GROUPS: Mapping[str, str] = {
    **{f.name: "" for f in fields(CompileSettings) if f.name not in _GROUPS},
    **{f.name: group for group, cls in _GROUPS.items() for f in fields(cls)},
}


def _pip_args_changes(target: object, text: str | None) -> dict[str, object]:
    """The fields of *target* that ``--pip-args`` *text* changes, merged with their values."""
    names = {f.name for f in fields(target)}  # type: ignore[arg-type]  # always a dataclass
    return {
        name: merged_pip_args(getattr(target, name), value)
        for name, value in parse_pip_args(text).items()
        if name in names
    }


def with_changes(settings: CompileSettings, changes: Mapping[str, object]) -> CompileSettings:
    """*settings* with *changes* (field name -> value, as the option table names them) made,
    each in the group holding its field.  An unknown name is a TypeError, as for
    :func:`dataclasses.replace`."""
    by_group: dict[str, dict[str, object]] = {}
    for name, value in changes.items():
        by_group.setdefault(FIELD_GROUPS.get(name, ""), {})[name] = value
    own = by_group.pop("", {})
    for group, values in by_group.items():
        # The values were typed by the option table (lockcheck.options) that named them.
        own[group] = replace(getattr(settings, group), **values)
    return replace(settings, **own)  # type: ignore[arg-type]


def option_defaults() -> dict[str, object]:
    """Option field -> its default, over every group of :class:`CompileSettings`."""
    out: dict[str, object] = {}
    for cls in (CompileSettings, *_GROUPS.values()):
        out.update({f.name: f.default for f in fields(cls) if f.default is not MISSING})
    return out


def option_value_in(settings: CompileSettings, name: str) -> object:
    """The value of the option field *name* in *settings* (in the group holding it)."""
    group = FIELD_GROUPS.get(name, "")
    return getattr(getattr(settings, group) if group else settings, name)


def format_control(settings: CompileSettings, file_opts: IndexOptions) -> FormatControl:
    """``--only-binary`` / ``--no-binary`` of the settings (``--pip-args`` included) and of
    the requirement files' own option lines."""
    from lockcheck.resolve.candidates import FormatControl

    resolution = settings.resolution.with_pip_args(settings.network.pip_args)
    only = _format_names(resolution.only_binary) | file_opts.only_binary
    no = _format_names(resolution.no_binary) | file_opts.no_binary
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


def target_python(target: TargetOptions, lock_text: str | None) -> str | None:
    """Explicit --python-version, else the lock header's Python, else the inferred default
    (the lower bound of requires-python).

    Keeping the existing lock's Python means the hook gives the same lock whatever
    interpreter runs it, and whatever requires-python says; ``--python-version`` moves a
    lock to another Python.
    """
    if target.python_version:
        return target.python_version
    if lock_text and lock_text.startswith("#"):
        match = _HEADER_PYTHON.search(lock_text[:400])
        if match:
            return match.group(1)
    return target.default_python_version


_HEADER_PYTHON = re.compile(r"^# This file is autogenerated by \S+ with [Pp]ython (\d+\.\d+)", re.M)
