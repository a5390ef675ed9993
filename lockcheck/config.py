"""Project configuration: ``[tool.lockcheck]`` (or ``.lockcheck.toml``) -> lock targets.

A project declares its locks once; ``compile``, ``check``, ``sync`` and the git hooks then all
agree on what the locks are, what they are made from and for which Python.  pip-tools users
keep their ``[tool.pip-tools]`` table: it is read when there is no lockcheck table.

    [tool.lockcheck]
    python-version = "3.11"      # default: lower bound of [project] requires-python
    generate-hashes = true       # any compile option, spelled as on the command line
    [[tool.lockcheck.lock]]
    inputs = ["requirements.in"]
    output = "requirements.txt"
    [[tool.lockcheck.lock]]
    inputs = ["requirements-dev.in"]
    output = "requirements-dev.txt"
    constraints = ["requirements.txt"]   # layered on the prod lock

Unknown keys are errors that name the key: a typo must not silently change a lock.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lockcheck.errors import ConfigError, InputError, first_line
from lockcheck.options import CONFIG_OPTIONS, TABLE, Option, normalised_changes
from lockcheck.paths import default_output_for
from lockcheck.settings import CompileSettings, NetworkOptions, TargetOptions, with_changes

__all__ = [
    "CONFIG_FILES",
    "LockTarget",
    "ProjectConfig",
    "SyncDefaults",
    "find_config",
    "load_config",
    "lower_bound_python",
    "order_targets",
    "sync_defaults",
]

CONFIG_FILES = (".lockcheck.toml", "pyproject.toml", ".pip-tools.toml")

# Keys of the lockcheck table besides the compile options.
_GLOBAL_KEYS = {"lock", "venv", "cache-dir", "allow-yanked"}
_LOCK_KEYS = {"inputs", "output", "constraints", "name"}
# pip-tools keys that have no effect on a lock (or are per-run switches): accepted, ignored.
_PIP_TOOLS_IGNORED = {
    "verbose",
    "quiet",
    "dry-run",
    "upgrade",
    "upgrade-package",
    "color",
    "ask",
    "force",
    "user",
    "python-executable",
    "config",
    "no-config",
    "reuse-hashes",
    "emit-options",
    "cache-dir",
}
# pip-tools also takes its click parameter names as keys.
_PIP_TOOLS_ALIASES = {
    "src-files": "inputs",
    "output-file": "output",
    "extras": "extra",
    "uploaded-prior-to": "exclude-newer",
    "pip-args-str": "pip-args",
    "resolver-name": "resolver",
    "upgrade-packages": "upgrade-package",
    "build-deps-targets": "build-deps-for",
    "user-only": "user",
}


@dataclass(frozen=True)
class LockTarget:
    """One lock the project keeps: its inputs, output, layering and compile settings."""

    output: Path
    inputs: tuple[Path, ...]
    # Other locks' outputs (or any constraints files) this lock is layered on.
    constraints: tuple[Path, ...] = ()
    # CompileSettings with src_files, output_file, constraint_files and cwd filled in.
    settings: CompileSettings = field(default_factory=CompileSettings)
    # False when nothing names the inputs (a header with a custom command such as
    # "make upgrade", no config): ``inputs`` is then a guess, and check reports no drift
    # that depends on it.
    inputs_known: bool = True

    @property
    def name(self) -> str:
        return self.output.as_posix()


@dataclass(frozen=True)
class ProjectConfig:
    """The configuration found for a directory (``path`` None: zero config)."""

    root: Path
    path: Path | None = None
    source: str = "none"  # "lockcheck" | "pip-tools" | "none"
    targets: tuple[LockTarget, ...] = ()
    venv: Path | None = None
    # The target Python, explicit or inferred (for display; settings carry the detail).
    python_version: str | None = None
    # CompileSettings field changes shared by every lock (options and the inferred Python).
    options: Mapping[str, object] = field(default_factory=dict)
    # Projects whose yanked pins ``check`` accepts (``allow-yanked``), normalised.
    allow_yanked: frozenset[str] = frozenset()

    @property
    def configured(self) -> bool:
        return bool(self.targets) and self.source == "lockcheck"


def _load_toml(path: Path) -> dict[str, Any]:
    # here: a project without a TOML config file (the zero-config hook) never loads tomllib
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read configuration: {first_line(exc)}", file=path) from exc


def _section(data: Mapping[str, Any], path: Path, *keys: str) -> Mapping[str, Any] | None:
    """``data[keys[0]][keys[1]]...``, None when a key is missing; a value on the way that is
    not a table (``tool = "x"``) is a ConfigError, not an AttributeError deep in a lookup."""
    table: Any = data
    for depth, key in enumerate(keys, start=1):
        table = table.get(key)
        if table is None:
            return None
        if not isinstance(table, Mapping):
            raise ConfigError(f"[{'.'.join(keys[:depth])}] must be a table", file=path)
    return table


def find_config(start: Path) -> tuple[Path, str, Mapping[str, Any]] | None:
    """The nearest config at or above *start* (stopping at the repository root).

    Returns (file, kind, table) with kind "lockcheck" or "pip-tools".
    """
    directory = start.resolve()
    while True:
        for name in (".lockcheck.toml", "pyproject.toml"):
            path = directory / name
            if not path.is_file():
                continue
            data = _load_toml(path)
            if name == ".lockcheck.toml":
                table: Mapping[str, Any] | None = data
            else:
                table = _section(data, path, "tool", "lockcheck")
            if table is not None:
                return path, "lockcheck", table
        # pip-tools takes .pip-tools.toml when there is one, else pyproject.toml; both keep
        # their settings in [tool.pip-tools].
        for name in (".pip-tools.toml", "pyproject.toml"):
            path = directory / name
            if path.is_file():
                pip_tools = _section(_load_toml(path), path, "tool", "pip-tools")
                if pip_tools is not None or name == ".pip-tools.toml":
                    return path, "pip-tools", pip_tools or {}
        if (directory / ".git").exists() or directory.parent == directory:
            return None
        directory = directory.parent


def lower_bound_python(requires_python: str) -> str | None:
    """The lowest Python release a ``requires-python`` allows, as ``X.Y`` (or ``X.Y.Z``)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import Version

    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier as exc:
        raise ConfigError(f"invalid requires-python {requires_python!r}") from exc
    for minor in range(0, 40):
        for patch in range(0, 30):
            version = Version(f"3.{minor}.{patch}")
            if spec.contains(version, prereleases=False):
                return f"3.{minor}" if patch == 0 else f"3.{minor}.{patch}"
    return None


def _project_requires_python(root: Path) -> str | None:
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return None
    project = _section(_load_toml(pyproject), pyproject, "project") or {}
    requires = project.get("requires-python")
    return requires if isinstance(requires, str) else None


def _project_python(root: Path) -> str | None:
    requires = _project_requires_python(root)
    return lower_bound_python(requires) if requires else None


def _normalise_key(key: str) -> str:
    return key.replace("_", "-").lower()


def _option_changes(
    table: Mapping[str, Any], path: Path, where: str, *, pip_tools: bool
) -> dict[str, object]:
    """CompileSettings field changes from option keys of *table* (others are skipped)."""
    by_key = CONFIG_OPTIONS
    changes: dict[str, object] = {}
    spelled: dict[str, str] = {}
    for raw_key, value in table.items():
        key = _normalise_key(raw_key)
        if pip_tools:
            key = _PIP_TOOLS_ALIASES.get(key, key)
        option = by_key.get(key)
        negative = option is None and _negated(key, by_key)
        if negative:
            option = by_key[key[3:]]
        if option is None:
            continue
        coerced = _coerce(option, value, path, f"{where}{raw_key}")
        if negative:
            coerced = not coerced
        if option.field in changes and changes[option.field] != coerced:
            raise ConfigError(
                f"{where}{spelled[option.field]!r} and {raw_key!r} contradict each other",
                file=path,
            )
        changes[option.field] = coerced
        spelled[option.field] = raw_key
    try:
        return normalised_changes(changes)
    except InputError as exc:
        raise ConfigError(f"{where}{exc}", file=path) from None


def _negated(key: str, by_key: Mapping[str, Option]) -> bool:
    """``no-annotate``: the negative spelling of a ``--x/--no-x`` option (pip-tools'
    configs write them so); ``no-index`` is an option of its own."""
    option = by_key.get(key[3:]) if key.startswith("no-") else None
    return option is not None and option.kind == "negatable"


def _coerce(option: Option, value: object, path: Path, key: str) -> object:
    if option.field in ("exclude_newer", "exclude_newer_package"):
        return _cutoff_value(option, value, path, key)
    if option.kind in ("flag", "negatable"):
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, not {value!r}", file=path)
        return value
    if option.kind in ("multi", "multipath"):
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"{key} must be a string or a list of strings", file=path)
        return tuple(Path(i) for i in items) if option.kind == "multipath" else tuple(items)
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ConfigError(f"{key} must be a string, not {value!r}", file=path)
    return str(value)


def _cutoff_value(option: Option, value: object, path: Path, key: str) -> object:
    """``exclude-newer = "P7D"``; ``exclude-newer-package = { name = WHEN }`` (or a list of
    ``name=WHEN``), checked here so a bad value names this file."""
    from lockcheck.cutoff import package_cutoffs, parse_when

    if option.kind == "multi" and isinstance(value, dict):
        items = []
        for name, when in value.items():
            if isinstance(when, bool) and not when:
                when = "false"
            if not isinstance(when, str):
                raise ConfigError(f"{key}.{name} must be a string, not {when!r}", file=path)
            items.append(f"{name}={when}")
        value = sorted(items)
    elif option.kind == "multi" and isinstance(value, str):
        value = [value]
    if option.kind == "multi" and not (
        isinstance(value, list) and all(isinstance(i, str) for i in value)
    ):
        raise ConfigError(f"{key} must be a table of name = WHEN", file=path)
    if option.kind != "multi" and not isinstance(value, str):
        raise ConfigError(f"{key} must be a string, not {value!r}", file=path)
    try:
        if option.kind == "multi":
            package_cutoffs(value, option=key)  # type: ignore[arg-type]
            return tuple(value)  # type: ignore[arg-type]
        parse_when(value, option=key)  # type: ignore[arg-type]
    except InputError as exc:
        raise ConfigError(exc.message, file=path) from exc
    return value


#: Every option key a config file may hold, with the negative spellings of ``--x/--no-x``.
_OPTION_KEYS = frozenset(CONFIG_OPTIONS) | {
    f"no-{key}" for key, o in CONFIG_OPTIONS.items() if o.kind == "negatable"
}


def _known_key(key: str, allowed: set[str]) -> bool:
    return key in allowed or key in _OPTION_KEYS


def _check_keys(table: Mapping[str, Any], allowed: set[str], path: Path, where: str) -> None:
    for key in table:
        if not _known_key(_normalise_key(key), allowed):
            raise ConfigError(f"unknown configuration key {where}{key!r}", file=path)


def _paths(value: object, path: Path, key: str) -> tuple[Path, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"{key} must be a string or a list of strings", file=path)
    return tuple(Path(i) for i in items)


def _check_pip_tools_keys(table: Mapping[str, Any], path: Path, where: str) -> None:
    for key in table:
        norm = _PIP_TOOLS_ALIASES.get(_normalise_key(key), _normalise_key(key))
        if norm.startswith("no-") and norm[3:] in _PIP_TOOLS_IGNORED:
            continue  # no-upgrade, no-reuse-hashes, no-color ...
        if norm in _PIP_TOOLS_IGNORED or norm in {"inputs", "output"}:
            continue
        if not _known_key(norm, set()):
            raise ConfigError(f"unknown configuration key {where}{key!r}", file=path)


def _pip_tools_compile_table(table: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The keys that apply to a compile, from a ``[tool.pip-tools]`` table.

    pip-tools 7.4+ reads shared keys from the table itself and command-specific ones from its
    ``compile`` and ``sync`` sections, the section winning; every key is checked here so a
    typo is an error wherever it stands.
    """
    sections = {name: table.get(name, {}) for name in ("compile", "sync")}
    for name, section in sections.items():
        if not isinstance(section, dict):
            raise ConfigError(f"[tool.pip-tools.{name}] must be a table", file=path)
        _check_pip_tools_keys(section, path, f"[tool.pip-tools.{name}] ")
    shared = {k: v for k, v in table.items() if k not in sections}
    _check_pip_tools_keys(shared, path, "[tool.pip-tools] ")
    return {**shared, **sections["compile"]}


def _explicit_config(config_file: Path) -> tuple[Path, str, Mapping[str, Any]]:
    """``--config FILE``: a lockcheck table (the whole file, or its [tool.lockcheck]) or
    pip-tools' [tool.pip-tools] tables, whatever the file's name."""
    data = _load_toml(config_file)
    tools = _section(data, config_file, "tool")
    if tools is None and config_file.name != "pyproject.toml":
        return config_file.resolve(), "lockcheck", data
    for kind in ("lockcheck", "pip-tools"):
        table = _section(data, config_file, "tool", kind)
        if table is not None:
            return config_file.resolve(), kind, table
    return config_file.resolve(), "lockcheck", {}


def load_config(
    start: Path | None = None, *, config_file: Path | None = None, no_config: bool = False
) -> ProjectConfig:
    """Read the project configuration for *start* (default: the working directory);
    *no_config* (``--no-config``) reads none: zero config, as pip-tools' option."""
    start = (start or Path.cwd()).resolve()
    if no_config:
        found = None
    elif config_file is not None:
        found = _explicit_config(config_file)
    else:
        found = find_config(start)
    if found is None:
        python = _project_python(start)
        options = {"default_python_version": python} if python else {}
        return ProjectConfig(root=start, python_version=python, options=options)
    path, kind, table = found
    root = path.parent
    pip_tools = kind == "pip-tools"
    where = "[tool.pip-tools] " if pip_tools else ""
    if pip_tools:
        table = _pip_tools_compile_table(table, path)
    else:
        _check_keys(table, _GLOBAL_KEYS, path, where)
    base_changes = _option_changes(table, path, where, pip_tools=pip_tools)
    configured_python = base_changes.get("python_version")
    default_python = None if configured_python else _project_python(root)
    if default_python:
        base_changes["default_python_version"] = default_python
    requires_python = _project_requires_python(root)
    if requires_python:
        base_changes["requires_python"] = requires_python
    venv = table.get("venv")
    if venv is not None and not isinstance(venv, str):
        raise ConfigError("venv must be a path string", file=path)
    allow_yanked = _allow_yanked(table.get("allow-yanked", []), path)
    lock_tables = _lock_tables(table, path, pip_tools=pip_tools)
    targets = [
        _lock_target(lock, f"{where}lock[{i}].", base_changes, path, pip_tools=pip_tools)
        for i, lock in enumerate(lock_tables)
    ]
    shown_python = configured_python or default_python
    return ProjectConfig(
        root=root,
        path=path,
        source=kind,
        targets=order_targets(targets, path),
        venv=Path(venv) if venv else None,
        python_version=str(shown_python) if shown_python else None,
        options=base_changes,
        allow_yanked=allow_yanked,
    )


def _lock_tables(
    table: Mapping[str, Any], path: Path, *, pip_tools: bool
) -> list[Mapping[str, Any]]:
    """The tables that each declare one lock: ``[[tool.lockcheck.lock]]``, or pip-tools'
    ``src-files`` / ``output-file`` keys as one lock."""
    if pip_tools:
        keys = {_normalise_key(k) for k in table}
        if "src-files" not in keys and "output-file" not in keys:
            return []
        return [
            {
                "inputs": table.get("src-files", table.get("src_files", [])),
                "output": table.get("output-file", table.get("output_file")),
            }
        ]
    locks = table.get("lock", [])
    if not isinstance(locks, list) or not all(isinstance(t, dict) for t in locks):
        raise ConfigError("lock must be an array of tables ([[tool.lockcheck.lock]])", file=path)
    return locks


def _lock_target(
    lock: Mapping[str, Any],
    lwhere: str,
    base_changes: Mapping[str, object],
    path: Path,
    *,
    pip_tools: bool,
) -> LockTarget:
    """One declared lock, its options over the table's shared ones."""
    root = path.parent
    if not pip_tools:
        _check_keys(lock, _LOCK_KEYS, path, lwhere)
    inputs = _paths(lock.get("inputs") or [], path, f"{lwhere}inputs")
    if not inputs:
        raise ConfigError(f"{lwhere}inputs is required", file=path)
    output_value = lock.get("output")
    if output_value is not None and not isinstance(output_value, str):
        raise ConfigError(f"{lwhere}output must be a path string", file=path)
    output = (
        Path(output_value) if output_value else _relative(default_output_for(inputs, root), root)
    )
    constraints = _paths(lock.get("constraints") or [], path, f"{lwhere}constraints")
    changes = dict(base_changes)
    changes.update(_option_changes(lock, path, lwhere, pip_tools=False))
    configured = changes.get("constraint_files", ())
    assert isinstance(configured, tuple)  # _coerce makes every multi-path value a tuple
    changes["constraint_files"] = (*configured, *constraints)
    settings = CompileSettings(TargetOptions(inputs, output), cwd=root)
    return LockTarget(output, inputs, constraints, with_changes(settings, changes))


def _allow_yanked(value: object, path: Path) -> frozenset[str]:
    from packaging.utils import canonicalize_name

    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise ConfigError("allow-yanked must be a list of project names", file=path)
    return frozenset(canonicalize_name(i) for i in value)


#: The settings the config gives ``sync`` too (index and TLS options, ``pip-args``).
_SYNC_FIELDS = frozenset(o.field for o in TABLE if o.config and "sync" in o.commands)


@dataclass(frozen=True)
class SyncDefaults:
    """What the configuration says to ``sync``: its locks, its target and index options."""

    locks: tuple[Path, ...] = ()
    # The target venv (lockcheck's ``venv``) or interpreter (pip-tools' python-executable).
    python: Path | None = None
    # The configured index options (the command line's, where given, win).
    network: NetworkOptions = field(default_factory=NetworkOptions)


def sync_defaults(start: Path, *, no_config: bool = False) -> SyncDefaults:
    """The configured lock files, target and index options for ``sync``, read without the
    compile machinery (a no-op sync must stay cheap).  pip-tools' table gives its shared
    keys and its [tool.pip-tools.sync] section; lockcheck's its locks and ``venv``."""
    found = None if no_config else find_config(start)
    if found is None:
        return SyncDefaults()
    path, kind, table = found
    root = path.parent
    if kind == "pip-tools":
        section = table.get("sync", {})
        if not isinstance(section, Mapping):
            raise ConfigError("[tool.pip-tools.sync] must be a table", file=path)
        table = {k: v for k, v in table.items() if k not in ("compile", "sync")} | dict(section)
    pip_tools = kind == "pip-tools"
    where = "[tool.pip-tools] " if pip_tools else ""
    changes = _option_changes(table, path, where, pip_tools=pip_tools)
    options = {k: v for k, v in changes.items() if k in _SYNC_FIELDS}
    python: Path | None = None
    for raw_key, value in table.items():
        if _normalise_key(raw_key) in ("venv", "python-executable"):
            if not isinstance(value, str):
                raise ConfigError(f"{where}{raw_key} must be a path string", file=path)
            python = root / value
    # Field -> value pairs of NetworkOptions, each typed by _coerce from its option's kind.
    network = replace(NetworkOptions(), **options)  # type: ignore[arg-type]
    return SyncDefaults(tuple(_configured_locks(table, root, kind)), python, network)


def _configured_locks(table: Mapping[str, Any], root: Path, kind: str) -> list[Path]:
    if kind != "lockcheck":
        return []
    locks: list[Path] = []
    for lock in table.get("lock", []) or []:
        if not isinstance(lock, dict):
            continue
        output = lock.get("output")
        if not output:
            inputs = lock.get("inputs") or []
            first = inputs[0] if isinstance(inputs, list) and inputs else str(inputs)
            output = default_output_for((Path(first),), Path())
        locks.append(root / output)
    return locks


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path


def order_targets(
    targets: Sequence[LockTarget], path: Path | None = None
) -> tuple[LockTarget, ...]:
    """Locks in dependency order: a lock after every lock it is layered on."""
    by_output = {os.path.normpath(t.output): t for t in targets}
    ordered: list[LockTarget] = []
    state: dict[str, str] = {}

    def visit(target: LockTarget, chain: tuple[str, ...]) -> None:
        key = os.path.normpath(target.output)
        if state.get(key) == "done":
            return
        if state.get(key) == "visiting":
            raise ConfigError(
                "locks are layered in a cycle: " + " -> ".join((*chain, key)), file=path
            )
        state[key] = "visiting"
        for constraint in target.constraints:
            dep = by_output.get(os.path.normpath(constraint))
            if dep is not None:
                visit(dep, (*chain, key))
        state[key] = "done"
        ordered.append(target)

    for target in targets:
        visit(target, ())
    return tuple(ordered)
