"""Render a :class:`~lockcheck.models.Resolution` as pip-compile's requirements.txt, byte for byte.

The layout follows pip-tools 7.6.2's ``OutputWriter`` (see /work/shared/FORMAT.md): header,
options block, editables, pins sorted by canonical name, unsafe section.  The deliberate
differences are the header (names lockcheck and the *target* Python) and credentials, which
are masked as ``****`` in every URL instead of being written in clear.

:func:`write_atomically` puts the text on disk; writing to stdout (``-``) is the caller's job.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from lockcheck.errors import LockcheckError, redact_url
from lockcheck.lockfile.settings import DEFAULT_INDEX_URL, Header, OutputSettings
from lockcheck.models import LockedPackage, Resolution
from lockcheck.references import DirectReference

if TYPE_CHECKING:
    from lockcheck.index.settings import IndexSettings
    from lockcheck.resolve.candidates import FormatControl

__all__ = [
    "MESSAGE_UNHASHED_PACKAGE",
    "MESSAGE_UNSAFE_PACKAGES",
    "MESSAGE_UNSAFE_PACKAGES_UNPINNED",
    "detect_newline",
    "format_package",
    "options_block",
    "render_requirements",
    "write_atomically",
]

MESSAGE_UNHASHED_PACKAGE = (
    "# WARNING: pip install will require the following package to be hashed."
    "\n# Consider using a hashable URL like "
    "https://github.com/jazzband/pip-tools/archive/SOMECOMMIT.zip"
)
MESSAGE_UNSAFE_PACKAGES_UNPINNED = (
    "# WARNING: The following packages were not pinned, but pip requires them to be"
    "\n# pinned when the requirements file includes hashes and the requirement is not"
    "\n# satisfied by a package already installed. "
    "Consider using the --allow-unsafe flag."
)
MESSAGE_UNSAFE_PACKAGES = (
    "# The following packages are considered to be unsafe in a requirements file:"
)

# pip-tools' strip_extras(): applied to annotations (sources may carry extras).
_EXTRAS_RE = re.compile(r"\[.+?\]")
# The hash fragment pip's Link recognises (and pip-tools keeps in direct references).
_HASH_FRAGMENT_RE = re.compile(r"^(sha512|sha384|sha256|sha224|sha1|md5)=([a-f0-9]+)$")
# The column pip-tools pads a pin to before a line-style annotation.
_LINE_ANNOTATION_COLUMN = 24
_NEWLINES = {"lf": "\n", "crlf": "\r\n", "native": os.linesep}


# --------------------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------------------


def _direct_reference(name: str, extras: str, reference: DirectReference) -> str:
    """``name[extras] @ url`` as pip-tools writes it: ``#egg=`` dropped, subdirectory and hash
    fragments kept (in that order).  A relative path (kept relative on purpose) cannot be a
    PEP 508 direct reference, so it is written bare, as pip-tools writes relative links."""
    link = reference.redacted
    if not reference.is_url:
        return link
    url, _, fragment = link.partition("#")
    subdirectory = None
    digest = None
    for part in fragment.split("&") if fragment else ():
        key, _, value = part.partition("=")
        if key == "subdirectory":
            subdirectory = value
        elif _HASH_FRAGMENT_RE.match(part):
            digest = part
    kept = [f"subdirectory={subdirectory}"] if subdirectory else []
    if digest:
        kept.append(digest)
    written = f"{name}{extras} @ {url}"
    return f"{written}#{'&'.join(kept)}" if kept else written


# --------------------------------------------------------------------------------------
# one entry
# --------------------------------------------------------------------------------------


def _requirement_text(package: LockedPackage, settings: OutputSettings) -> str:
    """The requirement part of a pin, before marker and hashes."""
    extras = ""
    if package.extras and not settings.strip_extras:
        extras = "[" + ",".join(sorted({canonicalize_name(e) for e in package.extras})) + "]"
    if package.editable:
        if not package.link:
            raise ValueError(f"editable {package.name} has no link")
        return f"-e {DirectReference.parse(package.link).redacted}"
    if package.link:
        return _direct_reference(package.name, extras, DirectReference.parse(package.link))
    if package.version is None:
        raise ValueError(f"{package.name} has neither a version nor a link")
    return f"{package.name}{extras}=={package.version}"


def _annotation(via: Iterable[str], settings: OutputSettings) -> str | None:
    sources = sorted({redact_url(v) for v in via})
    if not sources:
        return None
    if settings.annotation_style == "line":
        text = "# via " + ", ".join(sources)
    elif len(sources) == 1:
        text = "# via " + sources[0]
    else:
        text = "\n".join(["# via", *("    #   " + s for s in sources)])
    return _EXTRAS_RE.sub("", text) if settings.strip_extras else text


def format_package(package: LockedPackage, settings: OutputSettings) -> str:
    """One entry: pin (or ``-e``/direct reference), `` ; marker``, hashes, annotation.

    May span several lines (joined by ``\\n``); pip-tools' ``_format_requirement``.
    """
    line = _requirement_text(package, settings)
    if package.marker is not None:
        line = f"{line} ; {package.marker}"
    hashes = sorted(package.hashes) if settings.generate_hashes else []
    for digest in hashes:
        line += f" \\\n    --hash={digest}"
    if not settings.annotate:
        return line
    annotation = _annotation(package.via, settings)
    if annotation is None:
        return line
    sep = "  " if settings.annotation_style == "line" and not hashes else "\n    "
    text = f"{line:{_LINE_ANNOTATION_COLUMN}}{sep}{annotation}"
    return "\n".join(part.rstrip() for part in text.splitlines())


# --------------------------------------------------------------------------------------
# blocks
# --------------------------------------------------------------------------------------


def _header(resolution: Resolution, settings: OutputSettings, header: Header) -> Iterator[str]:
    if not settings.header:
        return
    python = header.python_version or resolution.python_version
    yield "#"
    yield f"# This file is autogenerated by {header.tool} with Python {python}"
    yield "# by the following command:"
    yield "#"
    yield f"#    {redact_url(header.command_line())}"
    yield "#"


def _dedup(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _options(
    settings: OutputSettings, index: IndexSettings | None, formats: FormatControl | None
) -> Iterator[str]:
    if index is not None and settings.emit_index_url:
        for position, url in enumerate(_dedup(index.index_urls)):
            if position == 0 and url.rstrip("/") == DEFAULT_INDEX_URL:
                continue
            flag = "--index-url" if position == 0 else "--extra-index-url"
            yield f"{flag} {redact_url(url)}"
    if index is not None and settings.emit_find_links:
        for link in _dedup(index.find_links):
            yield f"--find-links {redact_url(link)}"
    if index is not None and settings.emit_trusted_host:
        for host in _dedup(index.trusted_hosts):
            yield f"--trusted-host {host}"
    if formats is None:
        return
    # :all: first, then names: pip's FormatControl lets names override :all:.
    no_binary = set(formats.no_binary)
    only_binary = set(formats.only_binary)
    if ":all:" in no_binary:
        yield "--no-binary :all:"
        no_binary.discard(":all:")
    if ":all:" in only_binary:
        yield "--only-binary :all:"
        only_binary.discard(":all:")
    for name in sorted(no_binary):
        yield f"--no-binary {name}"
    for name in sorted(only_binary):
        yield f"--only-binary {name}"


def options_block(
    settings: OutputSettings,
    index: IndexSettings | None = None,
    formats: FormatControl | None = None,
) -> list[str]:
    """The option lines the lock starts with: the run's effective *index* settings and
    binary *formats* (none with ``--no-emit-options``).

    ``check`` compares a lock's own lines with these: an edited ``--index-url`` would send
    every later ``sync`` to another server.
    """
    return list(_options(settings, index, formats)) if settings.emit_options else []


def _sort_key(package: LockedPackage) -> tuple[bool, str]:
    return (not package.editable, package.name)


def _lines(
    resolution: Resolution,
    settings: OutputSettings,
    header: Header,
    index: IndexSettings | None,
    formats: FormatControl | None,
) -> Iterator[str]:
    """pip-tools' ``OutputWriter._iter_lines``: each item is one write, maybe multi-line."""
    yielded = False
    for line in _header(resolution, settings, header):
        yielded = True
        yield line
    options = options_block(settings, index, formats)
    if options:
        yielded = True
        yield from options
        yield ""

    packages = sorted(resolution.packages.values(), key=_sort_key)
    unsafe_names = settings.unsafe_names
    safe = [p for p in packages if not (p.unsafe or p.name in unsafe_names)]
    unsafe = [p for p in packages if p.unsafe or p.name in unsafe_names]
    pinned = safe + unsafe if settings.allow_unsafe else safe
    has_hashes = settings.generate_hashes and any(p.hashes for p in pinned)

    for package in safe:
        if has_hashes and not package.hashes:
            yield MESSAGE_UNHASHED_PACKAGE
        yield format_package(package, settings)
        yielded = True

    if unsafe:
        yield ""
        yielded = True
        if has_hashes and not settings.allow_unsafe:
            yield MESSAGE_UNSAFE_PACKAGES_UNPINNED
        else:
            yield MESSAGE_UNSAFE_PACKAGES
        for package in unsafe:
            if settings.allow_unsafe:
                yield format_package(package, settings)
            else:
                yield f"# {package.name}"

    if not yielded:  # pip-compile writes a lone newline rather than an empty file
        yield ""


# --------------------------------------------------------------------------------------
# newline and the whole file
# --------------------------------------------------------------------------------------


def detect_newline(*texts: str | bytes | None) -> str | None:
    """The newline of the first text that has one (CRLF if any ``\\r\\n``), else None.

    Texts must be read without newline translation (bytes, or ``newline=""``).
    """
    for text in texts:
        if text is None:
            continue
        data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
        if b"\r\n" in data:
            return "\r\n"
        if b"\n" in data:
            return "\n"
    return None


def render_requirements(
    resolution: Resolution,
    settings: OutputSettings,
    header: Header | None = None,
    *,
    index: IndexSettings | None = None,
    formats: FormatControl | None = None,
    existing_text: str | bytes | None = None,
    fallback_texts: Iterable[str | bytes | None] = (),
) -> str:
    """The complete requirements.txt text, newlines already in their final form.

    *settings* are the output options as given, *header* what the header says (None: the
    default ``lockcheck compile`` one), *index* and *formats* the run's effective index
    settings and binary formats, which the options block lists (None: no such lines).

    With ``newline="preserve"`` the style of *existing_text* (the current output file, read
    untranslated) is kept; pip-compile then looks at the input files, in order, which the
    caller may pass as *fallback_texts*; LF when none has a newline.
    """
    lines = _lines(resolution, settings, header or Header(), index, formats)
    text = "".join(line + "\n" for line in lines)
    # pip-compile spells them LF, CRLF, native, preserve, in any case.
    if settings.newline.lower() == "preserve":
        newline = detect_newline(existing_text, *fallback_texts) or "\n"
    else:
        newline = _NEWLINES[settings.newline.lower()]
    return text if newline == "\n" else text.replace("\n", newline)


def write_atomically(path: Path, text: str | bytes, *, encoding: str = "utf-8") -> None:
    """Replace *path* with *text* so readers see the old or the new file, never half of one.

    The text is written as is (newlines already chosen by :func:`render_requirements`) to a
    temporary file in the same directory, fsynced, given the existing file's permission bits
    (or the umask's defaults for a new file) and moved over *path* with ``os.replace``.  A
    symlinked *path* has its target replaced, not the link.
    """
    target = Path(os.path.realpath(path))
    data = text.encode(encoding) if isinstance(text, str) else text
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    try:
        st = target.stat()
        mode = st.st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    if mode is not None and not stat.S_ISREG(st.st_mode):
        # /dev/null, a pipe, a terminal: write into it; replacing it would put a regular
        # file where the device was (as root, /dev/null itself).
        _write_into(path, data)
        return
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if mode is not None:
                _chmod(fd, tmp, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        # On a read-only filesystem even removing a file that was never made fails (EROFS).
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise _cannot_write(path, exc) from exc
    _fsync_directory(target.parent)


def _write_into(path: Path, data: bytes) -> None:
    try:
        with open(path, "wb") as stream:
            stream.write(data)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc


def _cannot_write(path: Path, exc: OSError) -> LockcheckError:
    kept = "left as it was" if os.path.lexists(path) else "not created"
    return LockcheckError(f"cannot write the file ({exc.strerror or exc}); {kept}", file=path)


def _chmod(fd: int, path: Path, mode: int) -> None:
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # Windows
        os.chmod(path, mode)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; best effort (not possible on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
