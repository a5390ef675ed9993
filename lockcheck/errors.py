"""The one exception tree of lockcheck.

Every error the tool reports on purpose derives from :class:`LockcheckError`, carries data
(file, line, URL, causes) and renders as one line.  Third-party exceptions are translated at
the adapter that calls the library (``raise InputError(...) from exc``); exit codes are mapped
once, in ``lockcheck.cli.exits``, from :attr:`LockcheckError.exit_code`.

    LockcheckError (exit 2)
    ├── InputError            malformed requirement file, pyproject.toml, bad option value
    ├── ConfigError           unknown or invalid [tool.lockcheck] keys
    ├── IndexUnavailable      index unreachable, HTTP errors after retries, offline miss
    │   ├── IndexUnreachable  no answer at all (DNS, refused connection, timeouts)
    │   └── RemoteFileOffline a remote requirement file, offline and not in the cache
    ├── MetadataError         a distribution whose metadata cannot be read or built
    │   └── BuildError        PEP 517 metadata preparation / wheel build failed
    ├── HashMismatch          a downloaded file does not match its expected hash
    ├── ResolutionFailed      no set of pins satisfies the inputs (carries the conflict chain)
    └── InstallFailed         sync could not apply its plan (venv restored)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "BuildError",
    "ConfigError",
    "HashMismatch",
    "IndexUnavailable",
    "InputError",
    "InstallFailed",
    "LockcheckError",
    "MetadataError",
    "RemoteFileOffline",
    "ResolutionFailed",
    "first_line",
    "printable",
    "redact_url",
]

_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")


def redact_url(text: str) -> str:
    """Mask every ``user:password@`` (or token) in URLs found in *text* as ``****``.

    Works on whole messages too, so any string heading for a terminal, a log or a lock file
    can be passed through it. ``https://user:pw@host/`` becomes ``https://****@host/``, which is
    what pip prints for a URL with credentials.
    """
    if "@" not in text:  # the pattern needs one: most texts are answered by this scan
        return text
    return _CREDENTIALS.sub(lambda m: f"{m.group('scheme')}****@", text)


def printable(text: str) -> str:
    """*text* with each character a terminal would act on or hide (NUL, escape sequences,
    carriage returns, form feeds, Unicode line separators, BOMs) written as its Python
    escape, so a message quoting a broken or hostile file cannot move the cursor, colour the
    output or forge a line.  Line feeds stay: a few messages span lines on purpose (a build's
    output tail); the parsers never put one in a message."""
    if all(char.isprintable() or char == "\n" for char in text):
        return text
    return "".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1] for c in text)


def first_line(error: BaseException | str) -> str:
    """The first line of a library's error message (``packaging`` adds a caret diagram on
    the lines below), or the exception's type name when it has no message."""
    text = (error if isinstance(error, str) else str(error)).strip()
    if text:
        return text.splitlines()[0]
    return "" if isinstance(error, str) else type(error).__name__


class LockcheckError(Exception):
    """Root of every deliberate lockcheck error; renders as a single line."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = printable(redact_url(message))
        self.file = printable(str(file)) if file is not None else None
        self.line = line
        self.hint = printable(redact_url(hint)) if hint is not None else None
        super().__init__(self.message)

    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}: " if self.line else f"{self.file}: "

    def __str__(self) -> str:
        return f"{self.location()}{self.message}"


class InputError(LockcheckError):
    """Malformed input: a requirement line, pyproject.toml table or option value."""


class ConfigError(LockcheckError):
    """Invalid lockcheck configuration ([tool.lockcheck] or .lockcheck.toml)."""


class IndexUnavailable(LockcheckError):
    """A package index or find-links location could not be reached or answered an error."""

    def __init__(self, message: str, *, url: str | None = None, **kwargs: object) -> None:
        self.url = redact_url(url) if url else None
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class IndexUnreachable(IndexUnavailable):
    """No answer at all (DNS, refused connection, timeouts): the network, not the index, failed.

    The commit hook then compiles from the cache instead (pre-commit.ci runs hooks offline).
    """


class RemoteFileOffline(IndexUnavailable):
    """Offline, and no cached copy of a remote requirement file: ``check --offline`` notes
    the file as not checked instead of failing."""


class MetadataError(LockcheckError):
    """The core metadata of a distribution could not be obtained."""


class BuildError(MetadataError):
    """A PEP 517 build (metadata preparation or wheel) failed."""

    #: The last lines of the backend's output (the message quotes them too).
    output_tail: Sequence[str] = ()


class HashMismatch(LockcheckError):
    """A file's digest differs from the expected one; nothing was installed or cached."""


class ResolutionFailed(LockcheckError):
    """No set of pins satisfies the inputs.

    ``causes`` is a list of human sentences, each naming who required what; the message is
    the one-line summary.
    """

    def __init__(self, message: str, *, causes: Sequence[str] = (), **kwargs: object) -> None:
        self.causes = [redact_url(c) for c in causes]
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class InstallFailed(LockcheckError):
    """sync could not apply its plan; the environment was restored."""
