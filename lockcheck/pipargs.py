"""pip-compile's ``--pip-args "…"``: the pip options in it that lockcheck has, as settings.

pip-compile hands the string to pip after its own options, so a single-valued option in it
(``--index-url``) wins and a repeatable one (``--extra-index-url``) adds.  An option lockcheck
has no equivalent for is an error naming it, rather than a lock that silently differs from
what pip would have resolved; options that only steer pip's own console, cache or retries
are accepted and have no effect.
"""

from __future__ import annotations

import functools
import shlex
from typing import Any

from lockcheck.errors import InputError

__all__ = ["merged_pip_args", "parse_pip_args"]

#: pip option -> (settings field, how the value applies).
_VALUED = {
    "--index-url": ("index_url", "set"),
    "-i": ("index_url", "set"),
    "--extra-index-url": ("extra_index_urls", "add"),
    "--find-links": ("find_links", "add"),
    "-f": ("find_links", "add"),
    "--trusted-host": ("trusted_hosts", "add"),
    "--cert": ("cert", "set"),
    "--client-cert": ("client_cert", "set"),
    "--only-binary": ("only_binary", "add"),
    "--no-binary": ("no_binary", "add"),
    "--timeout": ("timeout", "float"),
    "--default-timeout": ("timeout", "float"),
    "--retries": ("retries", "int"),
}
_FLAGS = {
    "--pre": ("pre", True),
    "--no-index": ("no_index", True),
    "--no-build-isolation": ("build_isolation", False),
}
#: pip options about pip's console, its own cache or its environment: no effect on a lock.
_NEUTRAL_FLAGS = frozenset(
    {
        "-q",
        "--quiet",
        "-v",
        "--verbose",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--no-color",
        "--no-input",
        "--use-pep517",
        "--isolated",
    }
)
_NEUTRAL_VALUED = frozenset(
    {"--cache-dir", "--progress-bar", "--log", "--exists-action", "--use-feature"}
)


@functools.lru_cache(maxsize=32)
def _parsed(text: str) -> tuple[tuple[str, object], ...]:
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise InputError(f"--pip-args: unreadable: {exc}") from None
    out: list[tuple[str, object]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        name, has_value, value = token.partition("=")
        if name in _FLAGS and not has_value:
            out.append(_FLAGS[name])
            continue
        if name in _NEUTRAL_FLAGS and not has_value:
            continue
        if name in _VALUED or name in _NEUTRAL_VALUED:
            if not has_value:
                if index >= len(tokens):
                    raise InputError(f"--pip-args: pip option {name} needs a value")
                value = tokens[index]
                index += 1
            if name in _VALUED:
                field, how = _VALUED[name]
                out.append((field, _typed(name, how, value)))
            continue
        raise InputError(
            f"--pip-args: pip option {name} is not supported by lockcheck",
            hint="lockcheck takes --index-url, --extra-index-url, --find-links, --no-index, "
            "--trusted-host, --cert, --client-cert, --only-binary, --no-binary, --pre, "
            "--no-build-isolation, --timeout and --retries from --pip-args",
        )
    return tuple(out)


def _typed(name: str, how: str, value: str) -> object:
    if how not in ("float", "int"):
        return (how, value)
    try:
        return float(value) if how == "float" else int(value)
    except ValueError:
        raise InputError(f"--pip-args: {name} needs a number, not {value!r}") from None


def parse_pip_args(text: str | None) -> dict[str, object]:
    """CompileSettings field -> value for the pip options in *text* (repeatable ones as
    tuples of what they add)."""
    changes: dict[str, Any] = {}
    for field, value in _parsed(text or ""):
        if isinstance(value, tuple) and value[0] == "add":
            changes[field] = (*changes.get(field, ()), value[1])
        elif isinstance(value, tuple):
            changes[field] = value[1]
        else:
            changes[field] = value
    return changes


def merged_pip_args(current: object, value: object) -> object:
    """A setting's value after ``--pip-args`` gave *value*: a repeatable option adds to
    what is there (once each), a single-valued one replaces it."""
    if isinstance(value, tuple):
        existing = current if isinstance(current, tuple) else ()
        return tuple(dict.fromkeys((*existing, *value)))
    return value
