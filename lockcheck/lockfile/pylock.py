"""PEP 751 ``pylock.toml``: render a Resolution as a lock any installer can use, read one back.

A requirements.txt names versions and leaves file selection to pip at install time; a
pylock.toml names the files themselves (URL, size, upload time, hashes), the source of every
direct reference (directory, VCS commit, archive) and the environments it is valid for.  The
installer never resolves: it evaluates markers and picks a wheel by its tags.

The TOML is written by a small writer of our own (no runtime dependency, and byte-stable:
keys in the order of the specification, arrays sorted, one inline table per file, LF
newlines), then parsed back and checked with :class:`packaging.pylock.Pylock` before it is
returned, so an invalid lock is never written.  :func:`read_pylock` returns the same
:class:`~lockcheck.lockfile.reader.ParsedLock` shape the requirements.txt reader does (as the
subclass :class:`ParsedPylock`, which adds the lock-level fields), so ``check`` and ``sync``
consume both formats alike.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import posixpath
import re
import sys
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from lockcheck.cutoff import parse_timestamp
from lockcheck.errors import InputError, first_line, redact_url
from lockcheck.lockfile.reader import LockEntry, ParsedLock, lock_source
from lockcheck.models import DistFile, IndexOptions, LockedPackage, Resolution
from lockcheck.references import DirectReference

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:
    from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock

__all__ = [
    "LOCK_VERSION",
    "ParsedPylock",
    "PylockSettings",
    "format_upload_time",
    "is_pylock_path",
    "read_pylock",
    "render_pylock",
    "with_file_hashes",
]

#: The only ``lock-version`` PEP 751 defines.
LOCK_VERSION = "1.0"

_COMMIT_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_PACKAGES_HEADER_RE = re.compile(r"^\s*\[\[\s*packages\s*\]\]\s*(?:#.*)?$")
_TABLE_HEADER_RE = re.compile(r"^\s*\[")
_TOML_ERROR_LINE_RE = re.compile(r"at line (\d+)")
_CONTEXT_PACKAGE_RE = re.compile(r"^packages\[(\d+)\]")
_INDENT = "    "


# --------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PylockSettings:
    """Everything that shapes the bytes of a pylock.toml besides the resolution."""

    #: Lock-level ``requires-python`` (``">=3.10"``); None omits the key.
    requires_python: str | None = None
    #: PEP 508 markers the lock is valid for, written in the given order; empty omits the key.
    environments: tuple[str, ...] = ()
    #: ``created-by``: the normalised name of the tool (PEP 751 asks for it).
    created_by: str = "lockcheck"
    #: ``extras`` / ``dependency-groups`` / ``default-groups``.  None omits the key (a
    #: single-use lock); an empty tuple writes ``[]``, which PEP 751 reads as "the inputs had
    #: none".  Written sorted; extras are normalised (the spec requires it).
    extras: tuple[str, ...] | None = None
    dependency_groups: tuple[str, ...] | None = None
    default_groups: tuple[str, ...] | None = None
    #: pylock.toml always records file hashes (PEP 751 requires them), so this does not switch
    #: them off.  It only shapes the error for a file without a sha256: without it, the hint
    #: says to ask for hashes so the caller computes the missing ones (see
    #: :func:`with_file_hashes`).
    generate_hashes: bool = True
    #: The folder the lock is written to: local paths (``file:`` URLs, absolute paths) inside
    #: it are written relative to it, as PEP 751 wants; relative links are already relative to
    #: it and kept.  Local paths outside it stay absolute.
    output_dir: Path = field(default_factory=Path.cwd)
    #: Written as ``[tool.lockcheck]`` (inputs, the command that regenerates the file ...).
    #: Strings pass through :func:`~lockcheck.errors.redact_url`.
    tool_table: Mapping[str, Any] | None = None
    #: Simple-API index URLs (``--index-url`` and extras).  When given, a package's ``index``
    #: is written only if its files came from one of these (a ``--find-links`` location is not
    #: an index); None trusts :attr:`DistFile.index` as it is.
    index_urls: tuple[str, ...] | None = None
    #: Commit ids of VCS links whose ref is not already a full commit (``git+https://h/r@v1``
    #: -> ``"0123abcd..."``), keyed by :attr:`LockedPackage.link` exactly.  PEP 751 requires
    #: ``commit-id``; a VCS link without one is an :class:`InputError`.
    vcs_commits: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "environments", tuple(self.environments))
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        for name in ("extras", "dependency_groups", "default_groups", "index_urls"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))
        if self.requires_python is not None:
            try:
                SpecifierSet(self.requires_python)
            except InvalidSpecifier as exc:
                raise InputError(f"invalid requires-python {self.requires_python!r}") from exc
        for marker in self.environments:
            try:
                Marker(marker)
            except InvalidMarker as exc:
                raise InputError(
                    f"invalid environment marker {marker!r}: {first_line(exc)}"
                ) from exc
        if not self.created_by:
            raise InputError("created-by must not be empty")


# --------------------------------------------------------------------------------------
# TOML writing (only what a pylock.toml needs)
# --------------------------------------------------------------------------------------
# Written by hand on purpose (issue 14, measured on examples/library/pylock.toml, 15
# packages, 138 kB): tomli-w cannot write the inline layout of PEP 751's examples and uv
# (``wheels = [ { ... }, ]``, literal strings for markers, ``...Z`` times), so every lock
# written so far would read as drift; tomlkit can come close (not byte for byte: it writes
# ``{name = ...}``) at 172 ms a render against 37 ms here, plus 20 ms of import.


def _toml_key(key: str) -> str:
    return key if _BARE_KEY_RE.match(key) else _toml_string(key)


def _is_control(char: str) -> bool:
    return ord(char) < 0x20 or ord(char) == 0x7F


def _toml_string(value: str) -> str:
    """A TOML string: a literal string when that avoids escapes (markers with ``"``, Windows
    paths), else a basic string with TOML's escapes."""
    needs_escapes = "\\" in value or '"' in value
    if needs_escapes and "'" not in value and not any(_is_control(c) for c in value):
        return f"'{value}'"
    out = []
    for char in value:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[char])
        elif _is_control(char):
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def format_upload_time(value: str | _dt.datetime | None) -> str | None:
    """An upload time as pylock.toml writes it: RFC 3339 in UTC with a ``Z`` offset,
    microseconds only when not zero (``2024-03-05T12:34:56.789012Z``).  None when *value*
    is missing or not a date-time (an unknown field is omitted, not guessed)."""
    moment = value if isinstance(value, _dt.datetime) else parse_timestamp(value)
    if moment is None:
        return None
    if moment.tzinfo is None:  # PEP 751: recorded in UTC; a naive time is taken as UTC
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    moment = moment.astimezone(_dt.timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


class _Raw(str):
    """Text already in TOML syntax (a date-time), written verbatim."""


def _toml_value(value: object) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, Path):
        return _toml_string(value.as_posix())
    if isinstance(value, Mapping):
        return _inline_table(value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _inline_table(items: Iterable[tuple[str, object]]) -> str:
    body = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in items if v is not None)
    return "{ " + body + " }" if body else "{}"


def _tool_value(value: object) -> object:
    """A tool-table value with keys sorted at every level (a tool table has no order of its
    own) and credentials masked in every string (it often holds a command line)."""
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, Mapping):
        return {
            str(k): _tool_value(v)
            for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
            if v is not None
        }
    if isinstance(value, (list, tuple)):
        return [_tool_value(v) for v in value]
    return value


# --------------------------------------------------------------------------------------
# locations
# --------------------------------------------------------------------------------------


def _strip_userinfo(url: str) -> str:
    """*url* without ``user:password@``; a bare ssh user (``git@host``) is an account, kept."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return redact_url(url)
    if "@" not in parts.netloc:
        return url
    if parts.scheme.endswith("ssh") and parts.password is None:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _local_path(link: str, output_dir: Path) -> Path:
    """Absolute path of a local link (``file:`` URL, absolute or relative path)."""
    return DirectReference.parse(link).local_path(output_dir)


def _written_path(link: str, output_dir: Path) -> str:
    """The ``path`` value for a local link: relative links stay as given (normalised, POSIX
    separators); absolute ones inside *output_dir* become relative to it."""
    reference = DirectReference.parse(link)
    if not reference.is_url and not os.path.isabs(link) and not link.startswith("~"):
        return posixpath.normpath(link.replace(os.sep, "/"))
    target = reference.local_path(output_dir)
    base = Path(os.path.abspath(output_dir))
    try:
        relative = target.relative_to(base)
    except ValueError:
        return target.as_posix()
    return relative.as_posix() if relative.parts else "."


# --------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------


def _missing_hash(package: LockedPackage, what: str, settings: PylockSettings) -> InputError:
    hint = (
        "the index gave no sha256 for it; compute the file hashes before writing"
        if settings.generate_hashes
        else "use --generate-hashes so lockcheck computes the missing file hashes"
    )
    return InputError(
        f"{package.name}: {what} has no sha256 hash, which pylock.toml (PEP 751) requires",
        hint=hint,
    )


def _file_hashes(
    package: LockedPackage, file: DistFile, settings: PylockSettings
) -> dict[str, str]:
    hashes = {k.lower(): v.lower() for k, v in file.hashes.items() if v}
    if "sha256" not in hashes:
        raise _missing_hash(package, file.filename, settings)
    return dict(sorted(hashes.items()))


def _file_entry(
    package: LockedPackage, file: DistFile, settings: PylockSettings
) -> dict[str, object]:
    """``{name, url|path, upload-time, size, hashes}`` of one wheel or sdist."""
    entry: dict[str, object] = {"name": file.filename}
    if file.url.lower().startswith("file:"):
        entry["path"] = _written_path(file.url, settings.output_dir)
    else:
        entry["url"] = _strip_userinfo(file.url)
    upload_time = format_upload_time(file.upload_time)
    if upload_time is not None:
        entry["upload-time"] = _Raw(upload_time)
    if file.size is not None:
        entry["size"] = file.size
    entry["hashes"] = _file_hashes(package, file, settings)
    return entry


def _requires_python(files: Sequence[DistFile]) -> str | None:
    """The files' Requires-Python when they all agree on one (else unknown: omitted)."""
    specs = {f.requires_python for f in files}
    if len(specs) != 1:
        return None
    (spec,) = specs
    return str(spec) if spec is not None and str(spec) else None


def _index_of(files: Sequence[DistFile], settings: PylockSettings) -> str | None:
    indexes = {_strip_userinfo(f.index) for f in files if f.index}
    if len(indexes) != 1 or len({bool(f.index) for f in files}) != 1:
        return None
    (index,) = indexes
    if settings.index_urls is not None:
        known = {_strip_userinfo(u).rstrip("/") for u in settings.index_urls}
        if index.rstrip("/") not in known:
            return None
    return index


def _package_hash_map(package: LockedPackage) -> dict[str, str]:
    """``{"sha256": hex}`` from ``package.hashes`` when it holds exactly one per algorithm."""
    found: dict[str, set[str]] = {}
    for item in package.hashes:
        algorithm, _, digest = item.partition(":")
        if digest:
            found.setdefault(algorithm.lower(), set()).add(digest.lower())
    return {k: next(iter(v)) for k, v in sorted(found.items()) if len(v) == 1}


def _vcs_table(package: LockedPackage, settings: PylockSettings) -> dict[str, object]:
    link = package.link or ""
    if package.editable:
        raise InputError(
            f"{package.name}: an editable VCS checkout ({redact_url(link)}) cannot be written "
            "to pylock.toml",
            hint="clone it and use -e ./path, or drop -e to lock the commit",
        )
    reference = DirectReference.parse(link)
    url, ref = reference.repository
    commit = settings.vcs_commits.get(link)
    if commit is None and ref and _COMMIT_RE.match(ref.lower()):
        commit = ref.lower()
    if not commit:
        raise InputError(
            f"{package.name}: {redact_url(link)} does not name a commit, and pylock.toml "
            "(PEP 751) requires the commit id of a VCS reference",
            hint="pin the full commit hash in the link (@<sha>)",
        )
    table: dict[str, object] = {"type": reference.vcs, "url": _strip_userinfo(url)}
    if ref:
        table["requested-revision"] = ref
    table["commit-id"] = commit
    if reference.subdirectory:
        table["subdirectory"] = reference.subdirectory
    return table


def _archive_table(package: LockedPackage, settings: PylockSettings) -> dict[str, object]:
    reference = DirectReference.parse(package.link or "")
    base, params = reference.location, reference.params
    table: dict[str, object] = {}
    if reference.is_remote:
        table["url"] = _strip_userinfo(base)
    else:
        table["path"] = _written_path(base, settings.output_dir)
    file = package.files[0] if len(package.files) == 1 else None
    if file is not None:
        upload_time = format_upload_time(file.upload_time)
        if upload_time is not None:
            table["upload-time"] = _Raw(upload_time)
        if file.size is not None:
            table["size"] = file.size
    hashes: dict[str, str] = {}
    if file is not None:
        hashes.update({k.lower(): v.lower() for k, v in file.hashes.items() if v})
    for algorithm, digest in _package_hash_map(package).items():
        hashes.setdefault(algorithm, digest)
    for algorithm in ("sha256", "sha384", "sha512"):
        if params.get(algorithm):
            hashes.setdefault(algorithm, params[algorithm].lower())
    if "sha256" not in hashes:
        raise _missing_hash(package, redact_url(base), settings)
    table["hashes"] = dict(sorted(hashes.items()))
    if params.get("subdirectory"):
        table["subdirectory"] = params["subdirectory"]
    return table


def _source(package: LockedPackage, settings: PylockSettings) -> tuple[str, dict[str, object]]:
    """(``vcs`` | ``directory`` | ``archive``, its table) of a direct reference."""
    link = package.link or ""
    reference = DirectReference.parse(link)
    if reference.kind == "vcs":
        return "vcs", _vcs_table(package, settings)
    if reference.is_remote:
        if package.editable:
            raise InputError(f"{package.name}: an editable must be a local directory: {link}")
        return "archive", _archive_table(package, settings)
    base, params = reference.location, reference.params
    if package.editable or reference.is_dir(settings.output_dir):
        table: dict[str, object] = {
            "path": _written_path(base, settings.output_dir),
            "editable": package.editable,
        }
        if params.get("subdirectory"):
            table["subdirectory"] = params["subdirectory"]
        return "directory", table
    return "archive", _archive_table(package, settings)


def _sort_key(package: LockedPackage) -> tuple[object, ...]:
    return (
        package.name,
        package.version is not None,
        package.version or Version("0"),
        str(package.marker) if package.marker is not None else "",
        package.link or "",
    )


def _package_lines(package: LockedPackage, settings: PylockSettings) -> Iterator[str]:
    yield "[[packages]]"
    yield f"name = {_toml_string(package.name)}"
    direct = package.link is not None
    kind, table = _source(package, settings) if direct else ("", {})
    if package.version is not None and kind not in ("vcs", "directory"):
        yield f"version = {_toml_string(str(package.version))}"
    if package.marker is not None:
        yield f"marker = {_toml_string(str(package.marker))}"
    files = sorted(package.files, key=lambda f: f.filename)
    requires_python = _requires_python(files)
    if requires_python:
        yield f"requires-python = {_toml_string(requires_python)}"
    if direct:
        yield f"{kind} = {_inline_table(table.items())}"
        return
    if package.version is None:
        raise InputError(f"{package.name} has neither a version nor a link")
    if not files:
        raise InputError(
            f"{package.name}=={package.version}: no file to lock (pylock.toml lists the "
            "wheels and sdist of each pin)"
        )
    index = _index_of(files, settings)
    if index:
        yield f"index = {_toml_string(index)}"
    sdists = [f for f in files if not f.is_wheel]
    wheels = [f for f in files if f.is_wheel]
    if len(sdists) > 1:
        names = ", ".join(f.filename for f in sdists)
        raise InputError(f"{package.name}=={package.version}: several sdists ({names})")
    if sdists:
        yield f"sdist = {_inline_table(_file_entry(package, sdists[0], settings).items())}"
    if wheels:
        yield "wheels = ["
        for wheel in wheels:
            yield f"{_INDENT}{_inline_table(_file_entry(package, wheel, settings).items())},"
        yield "]"


def _header_lines(settings: PylockSettings) -> Iterator[str]:
    yield f"lock-version = {_toml_string(LOCK_VERSION)}"
    if settings.environments:
        yield "environments = ["
        for marker in dict.fromkeys(str(Marker(m)) for m in settings.environments):
            yield f"{_INDENT}{_toml_string(marker)},"
        yield "]"
    if settings.requires_python is not None:
        yield f"requires-python = {_toml_string(str(SpecifierSet(settings.requires_python)))}"
    if settings.extras is not None:
        extras = sorted({canonicalize_name(e) for e in settings.extras})
        yield f"extras = {_toml_value(extras)}"
    if settings.dependency_groups is not None:
        yield f"dependency-groups = {_toml_value(sorted(set(settings.dependency_groups)))}"
    if settings.default_groups is not None:
        yield f"default-groups = {_toml_value(sorted(set(settings.default_groups)))}"
    yield f"created-by = {_toml_string(settings.created_by)}"


def _tool_lines(tool: Mapping[str, Any]) -> Iterator[str]:
    yield "[tool.lockcheck]"
    table = _tool_value(tool)
    assert isinstance(table, dict)
    for key, value in table.items():
        yield f"{_toml_key(key)} = {_toml_value(value)}"


def render_pylock(resolution: Resolution, settings: PylockSettings) -> str:
    """The complete pylock.toml text (LF newlines, ending with one).

    Packages are sorted by name, version and marker; each lists every file of its pin
    (``LockedPackage.files``) or its direct source.  Raises :class:`InputError` for what
    PEP 751 cannot express or forbids: a file without a sha256, a VCS link without a commit,
    an editable VCS checkout, a pin without files.  The text is validated with
    :mod:`packaging.pylock` before it is returned.
    """
    blocks: list[list[str]] = [list(_header_lines(settings))]
    for package in sorted(resolution.packages.values(), key=_sort_key):
        blocks.append(list(_package_lines(package, settings)))
    if not resolution.packages:  # required, even when there is nothing to install
        blocks[0].append("packages = []")
    if settings.tool_table:
        blocks.append(list(_tool_lines(settings.tool_table)))
    text = "\n\n".join("\n".join(block) for block in blocks) + "\n"
    _validate(_parse_toml(text, "<rendered pylock.toml>"), "<rendered pylock.toml>")
    return text


def with_file_hashes(resolution: Resolution, sha256: Callable[[DistFile], str]) -> Resolution:
    """The resolution with a sha256 added to every file that lacks one (``sha256(file)``,
    e.g. :meth:`PackageFinder.sha256`), so :func:`render_pylock` can write it."""
    packages = {}
    for key, package in resolution.packages.items():
        files = tuple(
            f if f.hashes.get("sha256") else replace(f, hashes={**f.hashes, "sha256": sha256(f)})
            for f in package.files
        )
        packages[key] = replace(package, files=files) if files != package.files else package
    return replace(resolution, packages=packages)


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedPylock(ParsedLock):
    """A pylock.toml as a :class:`ParsedLock` (``header`` None, no options block), plus the
    lock-level fields of PEP 751 and the validated :class:`packaging.pylock.Pylock`."""

    requires_python: SpecifierSet | None = None
    #: None when the lock does not restrict its environments.
    environments: tuple[Marker, ...] | None = None
    created_by: str = ""
    extras: tuple[str, ...] | None = None
    dependency_groups: tuple[str, ...] | None = None
    default_groups: tuple[str, ...] | None = None
    #: The ``[tool]`` table (``tool["lockcheck"]`` is what lockcheck wrote).
    tool: Mapping[str, Any] | None = None
    pylock: Pylock | None = None


def is_pylock_path(path: str | os.PathLike[str]) -> bool:
    """``pylock.toml`` or ``pylock.<name>.toml`` (PEP 751 file names)."""
    # packaging.pylock here and in _validate: 16 ms of import that a requirements.txt,
    # the common lock, never needs.
    from packaging.pylock import is_valid_pylock_path

    return is_valid_pylock_path(Path(path))


def _toml_error_line(exc: Exception, text: str) -> int | None:
    line = getattr(exc, "lineno", None)
    if isinstance(line, int):
        return line
    match = _TOML_ERROR_LINE_RE.search(str(exc))
    if match:
        return int(match.group(1))
    if "end of document" in str(exc):
        return max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
    return None


def _package_lines_of(text: str, count: int) -> list[tuple[int, int]] | None:
    """(first, last) line of each ``[[packages]]`` table; None when the file does not spell
    its *count* packages as that many tables (e.g. an inline array)."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if _PACKAGES_HEADER_RE.match(line)]
    if len(starts) != count:
        return None
    spans = []
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(lines)
        for probe in range(start + 1, stop):
            line = lines[probe].strip()
            if _TABLE_HEADER_RE.match(line) and not line.startswith(("[packages.", "[[packages.")):
                stop = probe
                break
        end = stop - 1
        while end > start and not lines[end].strip():
            end -= 1
        spans.append((start + 1, end + 1))
    return spans


def _parse_toml(text: str, where: str | Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            f"not valid TOML: {exc}", file=where, line=_toml_error_line(exc, text)
        ) from exc


def _validate(
    data: Mapping[str, Any], where: str | Path, spans: Sequence[tuple[int, int]] = ()
) -> Pylock:
    """packaging's PEP 751 validation; a failure is an :class:`InputError` pointing at the
    ``[[packages]]`` table it concerns when the file has one per package."""
    from packaging.pylock import Pylock, PylockValidationError

    try:
        return Pylock.from_dict(data)
    except PylockValidationError as exc:
        line = None
        match = _CONTEXT_PACKAGE_RE.match(exc.context or "")
        if match and int(match.group(1)) < len(spans):
            line = spans[int(match.group(1))][0]
        # the message's first line (packaging adds a caret diagram below), then the key
        where_in = f" in {exc.context!r}" if exc.context else ""
        message = f"{first_line(exc.message)}{where_in}"
        raise InputError(f"not a valid pylock.toml: {message}", file=where, line=line) from exc


def _hash_strings(hashes: Mapping[str, str]) -> list[str]:
    return [f"{k}:{v}" for k, v in hashes.items()]


def _read_file(
    entry: Package,
    dist: PackageWheel | PackageSdist,
    base_dir: Path,
    index: str,
) -> DistFile:
    """A DistFile from a ``wheels`` item or the ``sdist`` table."""
    filename = dist.filename
    if dist.url:
        url = dist.url
    else:
        url = _local_path(dist.path or "", base_dir).as_uri()  # validated: url or path
    tags: frozenset[Tag] = frozenset()
    is_wheel = filename.lower().endswith(".whl")
    if is_wheel:
        name, version, _, tags = parse_wheel_filename(filename)
    else:
        name, version = parse_sdist_filename(filename)
    return DistFile(
        filename=filename,
        url=url,
        name=name,
        version=version,
        is_wheel=is_wheel,
        hashes=dict(dist.hashes),
        requires_python=entry.requires_python,
        size=dist.size,
        upload_time=format_upload_time(dist.upload_time),
        index=index,
        tags=frozenset(tags),
    )


def _read_location(path: str) -> str:
    """A ``path`` value as a lock link: relative paths read ``./x`` (clearly a path)."""
    if os.path.isabs(path) or path.startswith((".", "/", "\\")) or re.match(r"^[A-Za-z]:", path):
        return path
    return f"./{path}"


def _with_subdirectory(link: str, subdirectory: str | None) -> str:
    return f"{link}#subdirectory={subdirectory}" if subdirectory else link


def _read_package(entry: Package, base_dir: Path) -> LockedPackage:
    name = entry.name
    common: dict[str, Any] = {
        "name": name,
        "display_name": name,
        "version": entry.version,
        "marker": entry.marker,
    }
    if entry.vcs is not None:
        vcs = entry.vcs
        location = vcs.url or _local_path(vcs.path or ".", base_dir).as_uri()
        link = _with_subdirectory(f"{vcs.type}+{location}@{vcs.commit_id}", vcs.subdirectory)
        return LockedPackage(**common, link=link)
    if entry.directory is not None:
        directory = entry.directory
        link = _with_subdirectory(_read_location(directory.path), directory.subdirectory)
        return LockedPackage(**common, link=link, editable=bool(directory.editable))
    if entry.archive is not None:
        archive = entry.archive
        location = archive.url or _read_location(archive.path or "")
        files: tuple[DistFile, ...] = ()
        filename = DirectReference.parse(archive.url or archive.path or "").filename
        parsed: tuple[frozenset[Tag], Version] | None = None
        try:
            if filename.lower().endswith(".whl"):
                wheel = parse_wheel_filename(filename)
                parsed = (wheel[3], wheel[1])
            else:
                parsed = (frozenset(), parse_sdist_filename(filename)[1])
        except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
            if entry.version is not None:
                parsed = (frozenset(), entry.version)
        if parsed is not None:
            url = archive.url or _local_path(archive.path or "", base_dir).as_uri()
            files = (
                DistFile(
                    filename=filename,
                    url=url,
                    name=name,
                    version=parsed[1],
                    is_wheel=filename.lower().endswith(".whl"),
                    hashes=dict(archive.hashes),
                    requires_python=entry.requires_python,
                    size=archive.size,
                    upload_time=format_upload_time(archive.upload_time),
                    tags=frozenset(parsed[0]),
                ),
            )
        return LockedPackage(
            **common,
            link=_with_subdirectory(location, archive.subdirectory),
            hashes=tuple(sorted(_hash_strings(archive.hashes))),
            files=files,
        )
    index = entry.index or ""
    dists: list[PackageWheel | PackageSdist] = [*(entry.wheels or ())]
    dists += [entry.sdist] if entry.sdist else []
    files = tuple(
        sorted((_read_file(entry, d, base_dir, index) for d in dists), key=lambda f: f.filename)
    )
    if entry.version is None:  # optional in PEP 751: the files' names tell it
        versions = {f.version for f in files}
        if len(versions) == 1:
            common["version"] = versions.pop()
    hashes = sorted({f"sha256:{f.hashes['sha256']}" for f in files if f.hashes.get("sha256")})
    return LockedPackage(**common, hashes=tuple(hashes), files=files)


def read_pylock(
    source: Path | str | bytes, *, name: str | None = None, base_dir: Path | None = None
) -> ParsedPylock:
    """Parse and validate a pylock.toml into a :class:`ParsedPylock`.

    A :class:`~pathlib.Path` is read from disk; ``str``/``bytes`` are the content (*name*
    labels errors, default ``<pylock.toml>``; relative paths in it are taken from *base_dir*,
    default the working directory).  Each entry keeps the lines of its ``[[packages]]``
    table (1 for a file that writes its packages as an inline array).  Raises
    :class:`InputError` (with file and, when known, line) for invalid TOML or a file that
    breaks PEP 751.
    """
    path, data, where = lock_source(source, name, "<pylock.toml>")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc.reason}", file=where) from exc
    newline = "\r\n" if b"\r\n" in data else ("\n" if b"\n" in data else None)
    normalised = text.replace("\r\n", "\n")
    if base_dir is None:
        base_dir = path.parent if path is not None else Path.cwd()
    base_dir = Path(os.path.abspath(base_dir))

    data_toml = _parse_toml(text, where)
    raw_packages = data_toml.get("packages")
    count = len(raw_packages) if isinstance(raw_packages, list) else 0
    found = _package_lines_of(normalised, count)
    lock = _validate(data_toml, where, found or ())
    spans = found or [(1, 1)] * len(lock.packages)
    entries = []
    for package, (first, last) in zip(lock.packages, spans, strict=True):
        try:
            locked = _read_package(package, base_dir)
        except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion, ValueError) as exc:
            raise InputError(f"{package.name}: {first_line(exc)}", file=where, line=first) from exc
        entries.append(LockEntry(locked, first, last))
    return ParsedPylock(
        path=path,
        header=None,
        options=IndexOptions(),
        entries=tuple(entries),
        newline=newline,
        requires_python=lock.requires_python,
        environments=tuple(lock.environments) if lock.environments is not None else None,
        created_by=lock.created_by,
        extras=tuple(lock.extras) if lock.extras is not None else None,
        dependency_groups=tuple(lock.dependency_groups)
        if lock.dependency_groups is not None
        else None,
        default_groups=tuple(lock.default_groups) if lock.default_groups is not None else None,
        tool=lock.tool,
        pylock=lock,
    )
