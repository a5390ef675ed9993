"""The command line in a lock's header: written from effective options, read back by check.

pip-compile rebuilds its header command from click's parameters (``get_compile_command``):
long option names, values that differ from the defaults only, one-off options dropped,
``shlex.quote``-d values with URL credentials masked, all options sorted as strings, then the
sorted sources.  :func:`format_compile_command` does the same from a plain mapping so nothing
below the CLI needs click.

The options mapping, long option name -> value (only options that differ from defaults):

* ``True``  -> the flag itself: ``{"--generate-hashes": True}`` -> ``--generate-hashes``.
* ``False`` -> the negative flag: ``{"--annotate": False}`` -> ``--no-annotate``,
  ``{"--strip-extras": False}`` -> ``--no-strip-extras``.  For flags that have no negative
  form (:data:`POSITIVE_ONLY_FLAGS`, e.g. ``--generate-hashes``) False is their default and
  writes nothing.  A key that already is negative (``{"--no-index": True}``) is written as is.
* ``None`` -> nothing (unset).
* a string, number or path -> ``--name=value``; a list/tuple/set -> one ``--name=value`` per
  item (``--extra=a --extra=b``, ``--unsafe-package=...``).
* ``--output-file`` must be present: pip-compile always writes it.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from lockcheck.errors import InputError, redact_url
from lockcheck.options import TABLE, command_options
from lockcheck.references import is_url

if TYPE_CHECKING:
    from lockcheck.settings import CompileSettings

__all__ = [
    "EXCLUDED_OPTIONS",
    "MULTIPLE_OPTIONS",
    "NEGATABLE_FLAGS",
    "ONLY_NEGATIVE_FLAGS",
    "POSITIVE_ONLY_FLAGS",
    "VALUE_OPTIONS",
    "format_compile_command",
    "header_command",
    "parse_compile_command",
    "pip_compile_options",
]

#: pip-tools' ``COMPILE_EXCLUDE_OPTIONS`` (one-off or output-neutral options), plus
#: lockcheck's own cache/network switches that do not change the lock.
EXCLUDED_OPTIONS = frozenset(
    {
        "--dry-run",
        "--quiet",
        "--rebuild",
        "--upgrade",
        "--upgrade-package",
        "--verbose",
        "--cache-dir",
        "--no-reuse-hashes",
        "--reuse-hashes",
        "--no-config",
        # lockcheck
        "--refresh",
        "--offline",
        "--no-cache",
    }
)

#: ``--x/--no-x`` pairs of pip-compile (and lockcheck): False writes ``--no-x``.
NEGATABLE_FLAGS = frozenset(
    {
        "--color",
        "--header",
        "--emit-trusted-host",
        "--annotate",
        "--upgrade",
        "--allow-unsafe",
        "--strip-extras",
        "--reuse-hashes",
        "--build-isolation",
        "--emit-find-links",
        "--emit-index-url",
        "--emit-options",
    }
)
#: Flags with no ``--no-`` form: False is their default.
POSITIVE_ONLY_FLAGS = frozenset(
    {
        "--dry-run",
        "--pre",
        "--rebuild",
        "--all-extras",
        "--generate-hashes",
        "--all-build-deps",
        "--only-build-deps",
    }
)
#: Flags whose only form is negative (pip-tools' ``ONLY_NEGATIVE_OPTIONS`` and ``--no-config``).
ONLY_NEGATIVE_FLAGS = frozenset({"--no-index", "--no-config"})
#: Options that take a value (``--name=value`` or ``--name value`` when read back): pip-compile's,
#: and every valued option of lockcheck's table (its other spellings too).
_VALUED_KINDS = ("value", "int", "path", "multi", "multipath")
VALUE_OPTIONS = frozenset(
    flag
    for o in TABLE
    if o.kind in _VALUED_KINDS
    for flag in (o.long, *o.flags)
    if flag.startswith("--")
) | frozenset(
    {
        "--extra",
        "--find-links",
        "--index-url",
        "--extra-index-url",
        "--cert",
        "--client-cert",
        "--trusted-host",
        "--uploaded-prior-to",
        "--exclude-newer",
        "--exclude-newer-package",
        "--annotation-style",
        "--header-style",
        "--upgrade-package",
        "--output-file",
        "--newline",
        "--max-rounds",
        "--cache-dir",
        "--pip-args",
        "--resolver",
        "--unsafe-package",
        "--config",
        "--constraint",
        "--build-deps-for",
        "--python-version",
        "--no-binary",
        "--only-binary",
    }
)
#: Value options that may repeat; read back as tuples (pip-compile's, and the table's).
MULTIPLE_OPTIONS = frozenset(o.long for o in TABLE if o.kind in ("multi", "multipath")) | frozenset(
    {
        "--extra",
        "--find-links",
        "--extra-index-url",
        "--trusted-host",
        "--upgrade-package",
        "--unsafe-package",
        "--constraint",
        "--build-deps-for",
        "--no-binary",
        "--only-binary",
        "--exclude-newer-package",
    }
)
_SHORT_OPTIONS = {
    "-o": "--output-file",
    "-c": "--constraint",
    "-f": "--find-links",
    "-i": "--index-url",
    "-P": "--upgrade-package",
    "-U": "--upgrade",
    "-p": "--pre",
    "-n": "--dry-run",
    "-v": "--verbose",
    "-q": "--quiet",
    "-r": "--rebuild",
}


def _format_value(option: str, value: object) -> str:
    text = str(value)
    if is_url(text):  # only values that are URLs get their credentials masked
        text = redact_url(text)
    if option == "--pip-args":
        # pip-tools uses repr() here: shlex.quote would make nested quoting unreadable.
        return f"{option}={text!r}"
    return f"{option}={shlex.quote(text)}"


def _option_args(option: str, value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool):
        if value:
            return [shlex.quote(option)]
        if option.startswith("--no-") or option in POSITIVE_ONLY_FLAGS:
            return []
        return [shlex.quote("--no-" + option[2:])]
    if isinstance(value, (str, int, float, PathLike)):
        return [_format_value(option, value)]
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [_format_value(option, item) for item in items]
    raise TypeError(f"unsupported value for {option}: {value!r}")


def format_compile_command(
    options: Mapping[str, object],
    sources: Sequence[str],
    *,
    program: str = "lockcheck compile",
) -> str:
    """The header command for *options* (see the module docstring) and input *sources*.

    Reproduces pip-tools' ``get_compile_command``: excluded options dropped, URL credentials
    masked (as ``****``, lockcheck's one redaction style), each argument ``shlex.quote``-d,
    options sorted as strings, then ``--`` (when a source starts with ``-``) and the sources,
    sorted as well.
    """
    if options.get("--output-file") in (None, ""):
        raise ValueError("--output-file is required in the compile command")
    left: list[str] = []
    for option, value in options.items():
        if not option.startswith("--"):
            raise ValueError(f"expected a long option name, got {option!r}")
        positive = "--" + option[5:] if option.startswith("--no-") else option
        if option in EXCLUDED_OPTIONS or positive in EXCLUDED_OPTIONS:
            continue
        left.extend(_option_args(option, value))
    right = [shlex.quote(src) for src in sources]
    if any(src.startswith("-") and src != "-" for src in sources):
        right.append("--")
    return " ".join([program, *sorted(left), *sorted(right)])


#: lockcheck options pip-compile has no spelling for: a pip-compile header cannot carry them.
_LOCKCHECK_ONLY_OPTIONS = (
    "--universal",
    "--environment",
    "--python-platform",
    "--format",
    "--group",
    "--only-binary",
    "--no-binary",
    "--exclude-newer-package",
)


def pip_compile_options(options: Mapping[str, object], *, strip_extras: bool) -> dict[str, object]:
    """lockcheck's header options (non-defaults) as pip-compile 7 spells the same lock.

    The target Python goes to the header's first line, not the command (pip-compile runs
    under it); ``--strip-extras`` is written out when set, since pip-compile 7 keeps extras
    by default.  Raises :class:`InputError` for an option pip-compile does not have: a bot
    re-running the command would write another lock, or fail.
    """
    out = {k: v for k, v in options.items() if k not in ("--python-version", "--header-style")}
    if out.get("--format") == "requirements":
        del out["--format"]
    unsupported = [o for o in _LOCKCHECK_ONLY_OPTIONS if out.get(o) not in (None, False, (), "")]
    if unsupported:
        raise InputError(
            f"--header-style=pip-compile cannot carry {', '.join(unsupported)}: "
            "pip-compile has no such option",
            hint="write this lock with the lockcheck header style (the default)",
        )
    cutoff = out.pop("--exclude-newer", None)
    if cutoff:
        if str(cutoff).upper().startswith("P"):
            raise InputError(
                f"--header-style=pip-compile cannot carry --exclude-newer={cutoff}: "
                "pip-compile's --uploaded-prior-to takes a moment, not a duration",
                hint="give the cut-off as a date or timestamp, or use the lockcheck header style",
            )
        out["--uploaded-prior-to"] = cutoff
    out.pop("--strip-extras", None)
    if strip_extras:
        out["--strip-extras"] = True
    return out


def _program_length(tokens: Sequence[str]) -> int:
    """How many leading tokens name the program (``pip-compile``, ``lockcheck compile`` ...)."""
    first = tokens[0].rsplit("/", 1)[-1]
    if first.startswith("pip-compile"):
        return 1
    if first in {"lockcheck", "python", "python3"} or first.startswith("python"):
        for index, token in enumerate(tokens[1:], start=1):
            if token == "compile":
                return index + 1
            if token.startswith("-") and token != "-m":
                break
    raise InputError(f"not a pip-compile or lockcheck compile command: {redact_url(tokens[0])}")


def _store(result: dict[str, object], option: str, value: object) -> None:
    if option in MULTIPLE_OPTIONS:
        previous = result.get(option, ())
        result[option] = (*previous, value)  # type: ignore[misc]
    else:
        result[option] = value


def parse_compile_command(header_line: str) -> tuple[dict[str, object], list[str]]:
    """Options and sources of a header command, the inverse of :func:`format_compile_command`.

    Accepts the header line itself (``#    lockcheck compile --generate-hashes ...``) or the
    bare command.  Flags come back as ``True``/``False`` (``--no-annotate`` ->
    ``{"--annotate": False}``, ``--no-index`` -> ``{"--no-index": True}``), values as strings,
    repeatable options as tuples in their order.  Short options are expanded.  Raises
    :class:`InputError` when the line is not a pip-compile/lockcheck command (e.g. a
    ``CUSTOM_COMPILE_COMMAND`` such as ``make lock``).
    """
    text = header_line.strip()
    if text.startswith("#"):
        text = text[1:].strip()
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise InputError(f"unreadable compile command: {exc}") from exc
    if not tokens:
        raise InputError("empty compile command")
    tokens = tokens[_program_length(tokens) :]
    options: dict[str, object] = {}
    sources: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token == "--":
            sources.extend(tokens[index:])
            break
        if not token.startswith("-") or token == "-":
            sources.append(token)
            continue
        name, has_value, value = token.partition("=")
        name = _SHORT_OPTIONS.get(name, name)
        if has_value:
            _store(options, name, value)
        elif name in VALUE_OPTIONS:
            if index >= len(tokens):
                raise InputError(f"option {name} needs a value in the compile command")
            _store(options, name, tokens[index])
            index += 1
        elif name.startswith("--no-") and name not in ONLY_NEGATIVE_FLAGS:
            options["--" + name[5:]] = False
        else:
            options[name] = True
    return options, sources


def header_command(
    settings: CompileSettings,
    src_files: Sequence[Path],
    output: Path | None,
    cwd: Path,
    *,
    style: str = "lockcheck",
) -> str:
    """The command that writes *output* from *src_files* with *settings*, as the header (of
    *style*: ``lockcheck`` or ``pip-compile``) and check's fix line show it."""
    options = command_options(settings)
    program = "lockcheck compile"
    if style == "pip-compile":
        options = pip_compile_options(options, strip_extras=settings.output.strip_extras)
        program = "pip-compile"
    if output is not None:
        try:
            shown = os.path.relpath(output, cwd)
        except ValueError:  # pragma: no cover - other drive on Windows
            shown = str(output)
        options["--output-file"] = shown.replace(os.sep, "/")
    else:
        options["--output-file"] = "-"
    sources = [str(s).replace(os.sep, "/") for s in src_files]
    return format_compile_command(options, sources, program=program)
