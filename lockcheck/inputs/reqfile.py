"""pip's requirements-file syntax, read the way pip reads it.

pip-compile hands its ``.in`` files to pip's own parser, so every quirk of that parser shows
up in pip-compile's output (``# via -r sub/base.in``, ``--find-links`` joined to the file's
folder, an ``--index-url`` line discarding earlier ``--extra-index-url`` lines).  This module
re-implements that parser on ``packaging`` and the stdlib's ``optparse`` (which pip uses too,
so option abbreviations such as ``--extra-index`` behave the same) without importing pip.

Line processing follows pip's ``preprocess``: join ``\\`` continuations (a trailing comment
swallows the continued line, as in pip), strip comments (``#`` at line start or after
whitespace, so ``#egg=`` in URLs survives), drop blank lines, expand ``${VAR}``.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import locale
import logging
import optparse
import os
import re
import shlex
import sys
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn, TextIO

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from lockcheck.errors import (
    IndexUnreachable,
    InputError,
    LockcheckError,
    RemoteFileOffline,
    first_line,
    redact_url,
)
from lockcheck.models import IndexOptions, InputRequirement, ParsedInputs, parse_requirement
from lockcheck.references import VCS_NAMES, DirectReference, is_url, url_scheme

__all__ = [
    "STDIN",
    "Fetch",
    "RequirementFileParser",
    "parse_requirement_file",
    "parse_requirement_files",
    "preprocess",
    "skip_remote",
    "split_link_extras",
]

logger = logging.getLogger(__name__)

#: The path that stands for standard input (``pip-compile -``).
STDIN = "-"

#: Fetches a remote requirement file: URL -> (body, Content-Type).  Injected by the caller
#: (lockcheck.index.remotefiles), so this module never touches the network itself.
Fetch = Callable[[str], tuple[bytes, str]]

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
# pip: only ``${NAME}`` with uppercase letters, digits and underscores (POSIX names).
_ENV_VAR_RE = re.compile(r"(?P<var>\$\{(?P<name>[A-Z0-9_]+)\})")
_REMOTE_RE = re.compile(r"^https?:", re.I)
_CHARSET_RE = re.compile(r";\s*charset\s*=\s*([^;\s]+)", re.I)
_EGG_RE = re.compile(r"[#&]egg=([^&]*)")
_EGG_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])(\[[^\]]*\])?$", re.IGNORECASE)
_EXTRAS_SUFFIX_RE = re.compile(r"^(.+)(\[[^\]]+\])$")
_PEP263_RE = re.compile(rb"coding[:=]\s*([-\w.]+)")

_STRONG_HASHES = ("sha256", "sha384", "sha512")
_OPERATORS = ("~=", "==", "!=", "<=", ">=", "<", ">", "===")
_BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
]


# --------------------------------------------------------------------------------------
# line preprocessing (pip's req_file.preprocess)
# --------------------------------------------------------------------------------------


def _join_lines(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Join lines ending in a backslash; the joined line keeps the first line's number."""
    primary: int | None = None
    parts: list[str] = []
    for number, line in lines:
        if not line.endswith("\\") or _COMMENT_RE.match(line):
            if _COMMENT_RE.match(line):
                # a comment line ends a continuation and is stripped later as a whole
                line = " " + line
            if parts:
                parts.append(line)
                assert primary is not None
                yield primary, "".join(parts)
                parts = []
            else:
                yield number, line
        else:
            if not parts:
                primary = number
            parts.append(line.strip("\\"))
    if parts:
        assert primary is not None
        yield primary, "".join(parts)


def _ignore_comments(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    for number, line in lines:
        line = _COMMENT_RE.sub("", line).strip()
        if line:
            yield number, line


def _expand_env(
    lines: Iterable[tuple[int, str]], environ: Mapping[str, str]
) -> Iterator[tuple[int, str]]:
    for number, line in lines:
        for var, name in _ENV_VAR_RE.findall(line):
            value = environ.get(name)
            if value:  # pip leaves a missing or empty variable unexpanded
                line = line.replace(var, value)
        yield number, line


def preprocess(content: str, environ: Mapping[str, str] | None = None) -> list[tuple[int, str]]:
    """Logical lines of a requirements file as ``(first line number, text)``."""
    env = os.environ if environ is None else environ
    numbered = enumerate(content.splitlines(), start=1)
    return list(_expand_env(_ignore_comments(_join_lines(numbered)), env))


def _decode(data: bytes, label: str) -> str:
    """Decode like pip: BOM, then a PEP 263 coding comment, then UTF-8, then the locale."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_as(data[len(bom) :], encoding, label)
    for number, line in enumerate(data.split(b"\n")[:2], start=1):
        if line[:1] == b"#":
            match = _PEP263_RE.search(line)
            if match:
                return _decode_as(data, match.group(1).decode("ascii"), label, number)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        fallback = locale.getpreferredencoding(False) or sys.getdefaultencoding()
        if codecs.lookup(fallback).name != "utf-8":
            logger.warning("%s is not UTF-8; decoding it as %s", label, fallback)
        return _decode_as(data, fallback, label)


def _decode_remote(data: bytes, content_type: str, label: str) -> str:
    """Decode a fetched file as pip does (requests' ``Response.text``): the Content-Type's
    charset, else ISO-8859-1 for ``text/*`` and UTF-8 for JSON, undecodable bytes replaced;
    with no type to go by (requests guesses), as a local file."""
    match = _CHARSET_RE.search(content_type)
    mime = content_type.split(";", 1)[0]
    if match:
        encoding = match.group(1).strip("'\"")
    elif "text" in mime:
        encoding = "ISO-8859-1"
    elif "application/json" in mime:
        encoding = "utf-8"
    else:
        return _decode(data, label)
    try:
        return data.decode(encoding, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _decode_as(data: bytes, encoding: str, label: str, declared_on: int | None = None) -> str:
    """*data* decoded as *encoding*; a failure is an InputError naming the line of the first
    undecodable byte (or of the coding comment that named an unknown encoding)."""
    try:
        return data.decode(encoding)
    except LookupError as exc:
        raise InputError(f"unknown encoding {encoding!r}", file=label, line=declared_on) from exc
    except ValueError as exc:  # UnicodeDecodeError, or UnicodeError from codecs such as idna
        start = getattr(exc, "start", None)
        line = None
        if isinstance(start, int):
            with contextlib.suppress(LookupError, ValueError):
                line = data[:start].decode(encoding, "replace").count("\n") + 1
        raise InputError(
            f"cannot decode as {encoding}: {first_line(exc)}", file=label, line=line
        ) from exc


# --------------------------------------------------------------------------------------
# option parsing (the options pip accepts in requirement files)
# --------------------------------------------------------------------------------------


class _OptionError(Exception):
    pass


def _values(parser: optparse.OptionParser) -> optparse.Values:
    """The values a callback adds to (optparse sets them before calling any callback)."""
    values = parser.values
    if values is None:  # pragma: no cover - only outside parse_args
        raise _OptionError("an option callback ran outside parse_args")
    return values


def _hash_callback(
    option: optparse.Option, opt: str, value: str, parser: optparse.OptionParser
) -> None:
    algo, sep, digest = value.partition(":")
    if not sep:
        parser.error(
            f"Arguments to {opt} must be a hash name followed by a value, "
            "like --hash=sha256:abcde..."
        )
    if algo not in _STRONG_HASHES:
        parser.error(f"Allowed hash algorithms for {opt} are {', '.join(_STRONG_HASHES)}.")
    _values(parser).hashes.append(f"{algo}:{digest}")


def _format_callback(
    option: optparse.Option, opt: str, value: str, parser: optparse.OptionParser
) -> None:
    if value.startswith("-"):
        parser.error("--no-binary / --only-binary option requires 1 argument.")
    _values(parser).format_ops.append((option.dest, value))


def _release_callback(
    option: optparse.Option, opt: str, value: str, parser: optparse.OptionParser
) -> None:
    _values(parser).release_ops.append((opt, value))


def _config_callback(
    option: optparse.Option, opt: str, value: str, parser: optparse.OptionParser
) -> None:
    if "=" not in value:
        parser.error(f"Arguments to {opt} must be of the form KEY=VAL")


def _build_parser() -> optparse.OptionParser:
    parser = _RaisingParser(add_help_option=False)
    add = parser.add_option
    add("-i", "--index-url", "--pypi-url", dest="index_url", default=None)
    add("--extra-index-url", dest="extra_index_urls", action="append", default=[])
    add("--no-index", dest="no_index", action="store_true", default=False)
    add("-c", "--constraint", dest="constraints", action="append", default=[])
    add("-r", "--requirement", dest="requirements", action="append", default=[])
    add("-e", "--editable", dest="editables", action="append", default=[])
    add("-f", "--find-links", dest="find_links", action="append", default=[])
    for flag, dest in (("--no-binary", "no_binary"), ("--only-binary", "only_binary")):
        add(flag, dest=dest, action="callback", callback=_format_callback, type="str")
    add("--prefer-binary", dest="prefer_binary", action="store_true", default=False)
    add("--require-hashes", dest="require_hashes", action="store_true", default=False)
    add("--no-require-hashes", dest="no_require_hashes", action="store_true", default=False)
    add("--pre", dest="pre", action="store_true", default=False)
    for flag in ("--all-releases", "--only-final"):
        add(flag, action="callback", callback=_release_callback, type="str")
    add("--trusted-host", dest="trusted_hosts", action="append", default=[])
    add("--use-feature", dest="features_enabled", action="append", default=[])
    add("--hash", dest="hashes", action="callback", callback=_hash_callback, type="string")
    add("-C", "--config-settings", action="callback", callback=_config_callback, type="str")
    return parser


class _RaisingParser(optparse.OptionParser):
    """optparse that raises on a bad option instead of printing usage and exiting."""

    def exit(self, status: int = 0, msg: str | None = None) -> NoReturn:
        raise _OptionError((msg or "").strip().removeprefix("Usage:").strip())

    def error(self, msg: str) -> NoReturn:
        raise _OptionError(msg)


def _break_args_options(line: str) -> tuple[str, str]:
    """Split a line into the requirement part and the option part, exactly as pip does:
    the requirement is every space-separated token before the first one starting with '-'."""
    tokens = line.split(" ")
    args: list[str] = []
    options = tokens[:]
    for token in tokens:
        if token.startswith("-"):
            break
        args.append(token)
        options.pop(0)
    return " ".join(args), " ".join(options)


def _parse_line_options(line: str) -> tuple[str, optparse.Values]:
    args, options_text = _break_args_options(line)
    try:
        tokens = shlex.split(options_text)
    except ValueError as exc:
        raise _OptionError(f"could not split options: {options_text}") from exc
    # Most lines have no option: their defaults come from one shared parser, which only
    # reads.  A line with options parses with its own (optparse keeps state while parsing).
    parser = _build_parser() if tokens else _shared_parser()
    values = parser.get_default_values()
    values.hashes = []
    values.format_ops = []
    values.release_ops = []
    if not tokens:
        return args, values
    opts, _ = parser.parse_args(tokens, values)
    return args, opts


_shared_parser = functools.cache(_build_parser)


# --------------------------------------------------------------------------------------
# requirement strings
# --------------------------------------------------------------------------------------


def _url_path(url: str) -> str:
    """The path of *url*; a URL that urllib cannot split is a _RequirementError."""
    try:
        return urllib.parse.urlsplit(url).path
    except ValueError as exc:  # e.g. "Invalid IPv6 URL" for a host in unbalanced brackets
        raise _RequirementError(f"invalid URL {url!r}: {first_line(exc)}") from exc


def split_link_extras(link: str) -> tuple[str, frozenset[str]]:
    """Split ``./pkg[dev,test]`` into ``("./pkg", {"dev", "test"})`` (pip's strip_extras).

    ``InputRequirement.link`` keeps what the user wrote; consumers that need the location of
    an editable or a local path call this first.
    """
    match = _EXTRAS_SUFFIX_RE.match(link)
    if not match:
        return link, frozenset()
    extras = Requirement("placeholder" + match.group(2).lower()).extras
    return match.group(1).rstrip(), frozenset(extras)


def _egg_fragment(link: str) -> str | None:
    match = _EGG_RE.search(link)
    if not match:
        return None
    egg = match.group(1)
    if not _EGG_NAME_RE.match(egg):
        raise _RequirementError(f"{egg!r} is not a valid egg fragment (project name) in {link}")
    return egg


def _looks_like_path(name: str) -> bool:
    return os.sep in name or (os.altsep is not None and os.altsep in name) or name.startswith(".")


def _is_installable_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "pyproject.toml")) or os.path.isfile(
        os.path.join(path, "setup.py")
    )


class _RequirementError(Exception):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def _parse_requirement_string(text: str) -> Requirement:
    try:
        return parse_requirement(text)
    except InvalidRequirement as exc:
        hint = None
        if os.sep in text:
            hint = "It looks like a path."
            hint += (
                f" File '{text}' does not exist."
                if not os.path.exists(text)
                else " The path does exist."
            )
        elif "=" in text and not any(op in text for op in _OPERATORS):
            hint = "= is not a valid operator. Did you mean == ?"
        raise _RequirementError(f"invalid requirement {text!r}: {first_line(exc)}", hint) from exc


def _with_marker(req: Requirement, marker_text: str | None) -> Requirement:
    if marker_text:
        try:
            req.marker = Marker(marker_text)
        except InvalidMarker as exc:
            raise _RequirementError(
                f"invalid requirement {req.name!r}: invalid marker {marker_text!r}: "
                f"{first_line(exc)}"
            ) from exc
    return req


@dataclass(frozen=True)
class _Parsed:
    requirement: Requirement | None
    link: str | None


def _parse_line_requirement(text: str) -> _Parsed:
    """A non-editable requirement line (pip's parse_req_from_line)."""
    marker_sep = "; " if is_url(text) else ";"
    marker_text: str | None = None
    if marker_sep in text:
        text, marker_text = text.split(marker_sep, 1)
        marker_text = marker_text.strip() or None
    name = text.strip()

    location: str | None = None
    extras_text = ""
    missing_file = False
    if is_url(name):
        location = name
    else:
        path = os.path.normpath(os.path.abspath(name))
        match = _EXTRAS_SUFFIX_RE.match(path)
        if match:
            path, extras_text = match.group(1).rstrip(), match.group(2)
        if _looks_like_path(name) and os.path.isdir(path):
            if not _is_installable_dir(path):
                raise _RequirementError(
                    f"Directory {name!r} is not installable. "
                    "Neither 'setup.py' nor 'pyproject.toml' found."
                )
            location = name
        elif DirectReference.parse(path).kind == "archive":
            before_at = name.split("@", 1)
            if os.path.isfile(path) or len(before_at) < 2 or _looks_like_path(before_at[0]):
                missing_file = not os.path.isfile(path)
                location = name

    if location is None:
        # a PEP 508 requirement, possibly "name @ url"
        req = _with_marker(_parse_requirement_string(name), marker_text)
        return _Parsed(req, req.url)

    bare = location if is_url(location) else split_link_extras(location)[0]
    filename = _url_path(bare).rsplit("/", 1)[-1] if is_url(bare) else bare
    filename = filename.replace("\\", "/").rsplit("/", 1)[-1]
    req_text: str | None
    if filename.lower().endswith(".whl"):
        try:
            wheel_name = parse_wheel_filename(filename)[0]
        except InvalidWheelFilename as exc:
            raise _RequirementError(f"invalid wheel filename {filename!r}: {exc}") from exc
        req_text = f"{wheel_name}{extras_text}"
    else:
        egg = _egg_fragment(location)
        req_text = f"{egg}{extras_text}" if egg else None
    named = _with_marker(_parse_requirement_string(req_text), marker_text) if req_text else None
    if missing_file:  # (only for a line that parses: a bad one gets its error alone)
        logger.warning("Requirement %r looks like a filename, but the file does not exist", name)
    return _Parsed(named, location)


def _parse_editable(text: str) -> _Parsed:
    """An ``-e`` value (pip's parse_editable): a local project path or a VCS URL."""
    try:
        direct = parse_requirement(text)
    except InvalidRequirement:
        direct = None
    if direct is not None and direct.url:
        url = direct.url
        direct.url = None
        if not (_is_vcs(url) or url_scheme(url) == "file"):
            raise _RequirementError(_not_editable(text))
        return _Parsed(direct, url)

    location, extras = split_link_extras(text)
    if os.path.isdir(location) or url_scheme(location) == "file":
        egg = _egg_fragment(location)
        if egg and extras:
            egg = f"{Requirement(egg).name}[{','.join(sorted(extras))}]"
        return _Parsed(_parse_requirement_string(egg) if egg else None, text)

    url = text
    for vcs in VCS_NAMES:
        if url.lower().startswith(f"{vcs}:"):
            url = f"{vcs}+{url}"
            break
    if not _is_vcs(url):
        raise _RequirementError(_not_editable(text))
    egg = _egg_fragment(url)
    if not egg:
        raise _RequirementError(
            f"Could not detect requirement name for '{text}', "
            "please specify one with your_package_name @ URL"
        )
    return _Parsed(_parse_requirement_string(egg), text)


def _is_vcs(url: str) -> bool:
    """A VCS URL pip accepts for ``-e`` (a scheme of pip's own VCS backends)."""
    return is_url(url) and DirectReference.parse(url).kind == "vcs"


def _not_editable(text: str) -> str:
    return (
        f"{text} is not a valid editable requirement. It should either be a path to a "
        "local project or a VCS URL (beginning with git+, hg+, svn+ or bzr+)."
    )


# --------------------------------------------------------------------------------------
# the parser
# --------------------------------------------------------------------------------------


@dataclass
class _OptionsBuilder:
    """Mutable twin of IndexOptions, updated line by line the way pip updates its finder."""

    index_url: str | None = None
    no_index: bool = False
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    trusted_hosts: list[str] = field(default_factory=list)
    pre: bool = False
    no_binary: set[str] = field(default_factory=set)
    only_binary: set[str] = field(default_factory=set)

    def apply(self, opts: optparse.Values, file_dir: str | None) -> None:
        if opts.no_index:
            self.no_index = True
            self.index_url = None
            self.extra_index_urls.clear()
        if opts.index_url and not self.no_index:
            # pip: ``index_urls = [opts.index_url]`` drops extra indexes seen before it
            self.index_url = opts.index_url
            self.extra_index_urls.clear()
        if opts.extra_index_urls and not self.no_index:
            _extend_unique(self.extra_index_urls, opts.extra_index_urls)
        for value in opts.find_links:
            # pip: a relative find-links path is taken relative to the requirements file
            # when it exists there, else it is kept as written (relative to the cwd)
            if file_dir is not None:
                joined = os.path.join(file_dir, value)
                if os.path.exists(joined):
                    value = joined
            _extend_unique(self.find_links, [value])
        _extend_unique(self.trusted_hosts, opts.trusted_hosts)
        if opts.pre:
            self.pre = True
        for opt, value in opts.release_ops:
            if opt == "--all-releases" and ":all:" in value.split(","):
                self.pre = True
        for dest, value in opts.format_ops:
            if dest == "no_binary":
                _handle_mutual_excludes(value, self.no_binary, self.only_binary)
            else:
                _handle_mutual_excludes(value, self.only_binary, self.no_binary)

    def build(self) -> IndexOptions:
        return IndexOptions(
            index_url=self.index_url,
            no_index=self.no_index,
            extra_index_urls=tuple(self.extra_index_urls),
            find_links=tuple(self.find_links),
            trusted_hosts=tuple(self.trusted_hosts),
            pre=self.pre,
            only_binary=frozenset(self.only_binary),
            no_binary=frozenset(self.no_binary),
        )


def _extend_unique(target: list[str], values: Iterable[str]) -> None:
    for value in values:
        if value not in target:
            target.append(value)


def _handle_mutual_excludes(value: str, target: set[str], other: set[str]) -> None:
    """pip's FormatControl.handle_mutual_excludes: ``:all:``, ``:none:`` and names."""
    new = value.split(",")
    while ":all:" in new:
        other.clear()
        target.clear()
        target.add(":all:")
        del new[: new.index(":all:") + 1]
        if ":none:" not in new:
            return
    for name in new:
        if name == ":none:":
            target.clear()
            continue
        canonical = canonicalize_name(name)
        other.discard(canonical)
        target.add(canonical)


@dataclass(frozen=True)
class _Origin:
    """Where a file came from: its absolute path and how labels are derived for it."""

    path: Path  # absolute, or Path("-") for stdin
    display: str  # path as written in labels and error messages
    constraint: bool
    from_stdin: bool = False  # read through stdin: pip-compile labels it all "-r -"
    url: str | None = None  # a remote file: what it includes joins this URL


class RequirementFileParser:
    """Reads requirement files into one ParsedInputs, sharing option state across files as
    pip-compile does (all its inputs feed one pip finder).

    Files reached more than once (diamond ``-r`` includes, or the same file given twice) are
    read once per mode (requirement / constraint); a file that includes itself, directly or
    through others, is an InputError.
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        relative_to: Path | None = None,
        stdin: TextIO | None = None,
        fetch: Fetch | None = None,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._fetch = fetch
        self._remote: list[str] = []
        self._unchecked: list[str] = []
        self._relative_to = relative_to
        self._stdin = stdin
        self._requirements: list[InputRequirement] = []
        self._constraints: list[InputRequirement] = []
        self._options = _OptionsBuilder()
        self._files: list[Path] = []
        self._done: set[tuple[Path | str, bool]] = set()
        # pip-tools keeps every label absolute when the top-level path was given absolute
        self._absolute_labels = False

    # -- public ------------------------------------------------------------------------

    def parse(self, path: Path | str, *, constraint: bool = False) -> None:
        """Read one top-level file (``"-"`` reads standard input) and everything it includes."""
        text = os.fspath(path)
        if text == STDIN:
            origin = _Origin(Path(STDIN), STDIN, constraint, from_stdin=True)
            content = (self._stdin or sys.stdin).read()
            self._parse_content(content, origin, chain=(), stdin=True)
            return
        given = Path(text)
        absolute = Path(os.path.abspath(text))
        self._absolute_labels = given.is_absolute()
        if given.is_absolute():
            display = absolute.as_posix()
        elif self._relative_to is None:
            display = given.as_posix()
        else:
            display = self._relative(absolute)
        self._parse_file(_Origin(absolute, display, constraint), chain=(), include_site=None)

    def result(self) -> ParsedInputs:
        return ParsedInputs(
            requirements=tuple(self._requirements),
            constraints=tuple(self._constraints),
            options=self._options.build(),
            files=tuple(self._files),
            remote=tuple(self._remote),
            unchecked_remote=tuple(self._unchecked),
        )

    # -- internals ---------------------------------------------------------------------

    def _relative(self, absolute: Path) -> str:
        if self._absolute_labels:
            return absolute.as_posix()
        base = self._relative_to if self._relative_to is not None else Path.cwd()
        return Path(os.path.relpath(absolute, os.path.abspath(base))).as_posix()

    def _parse_file(
        self,
        origin: _Origin,
        chain: tuple[Path | str, ...],
        include_site: tuple[str, int] | None,
    ) -> None:
        key = (origin.path, origin.constraint)
        if key in self._done:
            return
        kind = "constraint" if origin.constraint else "requirements"
        try:
            data = origin.path.read_bytes()
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            reason = getattr(exc, "strerror", None) or str(exc)
            shown = origin.display if origin.display.isprintable() else repr(origin.display)
            file, line = include_site if include_site else (None, None)
            raise InputError(
                f"could not open {kind} file {shown}: {reason}", file=file, line=line
            ) from exc
        self._done.add(key)
        if origin.path not in self._files:
            self._files.append(origin.path)
        content = _decode(data, origin.display)
        self._parse_content(content, origin, chain=(*chain, origin.path), stdin=False)

    def _parse_content(
        self, content: str, origin: _Origin, chain: tuple[Path | str, ...], *, stdin: bool
    ) -> None:
        file_dir = None if stdin or origin.url else os.path.dirname(origin.path)
        for number, line in preprocess(content, self._environ):
            try:
                args, opts = _parse_line_options(line)
            except _OptionError as exc:
                raise InputError(
                    f"invalid line {line!r}: {exc}", file=origin.display, line=number
                ) from exc

            if args or opts.editables:
                self._add_requirement(args, opts, origin, number)
                continue
            if opts.requirements or opts.constraints:
                nested_constraint = not opts.requirements
                target = (opts.requirements or opts.constraints)[0]
                self._include(target, nested_constraint, origin, number, chain, stdin=stdin)
                continue
            if opts.hashes:
                logger.warning(
                    "%s line %s has --hash but no requirement, and will be ignored.",
                    origin.display,
                    number,
                )
            self._options.apply(opts, file_dir)

    def _include(
        self,
        target: str,
        constraint: bool,
        origin: _Origin,
        number: int,
        chain: tuple[Path | str, ...],
        *,
        stdin: bool,
    ) -> None:
        if origin.url is not None:
            # pip: everything a remote file includes is joined to its URL
            target = urllib.parse.urljoin(origin.url, target)
        if _REMOTE_RE.match(target):
            self._parse_remote(target, constraint, origin, number, chain)
            return
        if target.lower().startswith("file:"):
            from urllib.request import url2pathname  # here: it pulls in http.client, email

            try:
                target = url2pathname(_url_path(target))
            except _RequirementError as exc:
                raise InputError(str(exc), file=origin.display, line=number) from exc
        # pip joins with the including file's folder (stdin: the current directory)
        base = os.getcwd() if stdin else os.path.dirname(origin.path)
        absolute = Path(os.path.abspath(os.path.join(base, target)))
        if absolute in chain:
            raise InputError(
                f"{self._relative(absolute)} recursively references itself",
                file=origin.display,
                line=number,
            )
        nested = _Origin(absolute, self._relative(absolute), constraint, origin.from_stdin)
        self._parse_file(nested, chain, include_site=(origin.display, number))

    def _parse_remote(
        self,
        url: str,
        constraint: bool,
        origin: _Origin,
        number: int,
        chain: tuple[Path | str, ...],
    ) -> None:
        """Fetch and read ``-r``/``-c`` *url*; recursion is told by URL, as pip tells it."""
        if url in chain:
            raise InputError(
                f"{redact_url(url)} recursively references itself",
                file=origin.display,
                line=number,
            )
        key = (url, constraint)
        if key in self._done:
            return
        kind = "constraint" if constraint else "requirements"
        if self._fetch is None:
            raise InputError(
                f"remote {kind} files are not supported here: {redact_url(url)}",
                file=origin.display,
                line=number,
            )
        try:
            data, content_type = self._fetch(url)
        except RemoteFileOffline:
            self._done.add(key)
            self._unchecked.append(redact_url(url))
            return
        except LockcheckError as exc:
            # no network at all stays IndexUnreachable: a hook then compiles from the cache
            error = IndexUnreachable if isinstance(exc, IndexUnreachable) else InputError
            raise error(
                f"could not fetch {kind} file: {exc.message}", file=origin.display, line=number
            ) from exc
        self._done.add(key)
        if url not in self._remote:
            self._remote.append(url)
        # labels (``# via -c https://…``) and messages show the URL, credentials masked
        shown = redact_url(url)
        nested = _Origin(Path(url), shown, constraint, origin.from_stdin, url=url)
        content = _decode_remote(data, content_type, shown)
        self._parse_content(content, nested, chain=(*chain, url), stdin=False)

    def _add_requirement(
        self, args: str, opts: optparse.Values, origin: _Origin, number: int
    ) -> None:
        editable = not args
        text = args or opts.editables[0]
        try:
            parsed = _parse_editable(text) if editable else _parse_line_requirement(text)
        except _RequirementError as exc:
            raise InputError(str(exc), file=origin.display, line=number, hint=exc.hint) from exc
        if origin.constraint and editable:
            raise InputError(
                "editable requirements are not allowed as constraints",
                file=origin.display,
                line=number,
            )
        if origin.constraint and parsed.requirement is None:
            raise InputError(
                f"unnamed requirements are not allowed as constraints: {text}",
                file=origin.display,
                line=number,
            )
        if origin.from_stdin:
            source = "-r -"  # pip-compile labels everything read through stdin this way
        else:
            source = f"{'-c' if origin.constraint else '-r'} {origin.display}"
        item = InputRequirement(
            requirement=parsed.requirement,
            source=source,
            file=origin.display if origin.url else origin.path,
            line=number,
            constraint=origin.constraint,
            editable=editable,
            link=parsed.link,
            hashes=tuple(opts.hashes) if not editable else (),
        )
        (self._constraints if origin.constraint else self._requirements).append(item)


def parse_requirement_files(
    paths: Sequence[Path | str],
    *,
    environ: Mapping[str, str] | None = None,
    relative_to: Path | None = None,
    constraint: bool = False,
    fetch: Fetch | None = None,
) -> ParsedInputs:
    """Read requirement files in order (pip-compile's src files, or its ``--constraint``
    files when *constraint* is true) into one ParsedInputs.

    ``relative_to`` is the folder labels are written relative to (pip-compile: the current
    directory, which is the default); a path given as absolute keeps absolute labels.
    *fetch* reads remote ``-r``/``-c`` files; without it they are an InputError.
    """
    parser = RequirementFileParser(environ=environ, relative_to=relative_to, fetch=fetch)
    for path in paths:
        parser.parse(path, constraint=constraint)
    return parser.result()


def skip_remote(url: str) -> tuple[bytes, str]:
    """A fetch that reads nothing: remote files are left out (``unchecked_remote``), for
    callers that only need the local files an input reaches."""
    raise RemoteFileOffline(f"{url} was not fetched", url=url)


def parse_requirement_file(
    path: Path | str,
    *,
    environ: Mapping[str, str] | None = None,
    relative_to: Path | None = None,
    constraint: bool = False,
) -> ParsedInputs:
    """Read a single requirements file (and what it includes)."""
    return parse_requirement_files(
        [path], environ=environ, relative_to=relative_to, constraint=constraint
    )
