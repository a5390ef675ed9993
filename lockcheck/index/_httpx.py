"""httpx, imported without its command-line module.

``import httpx`` also imports ``httpx._main`` (its optional CLI) whenever click and rich are
installed, which loads rich's console and pygments: a fifth of lockcheck's start-up for a
command line nobody runs here.  A placeholder module takes its place before the import.
"""

from __future__ import annotations

import sys
import types

__all__ = ["httpx"]

if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
    _placeholder = types.ModuleType("httpx._main")

    def _no_cli(*args: object, **kwargs: object) -> None:  # pragma: no cover
        raise SystemExit("the httpx command line is not available inside lockcheck")

    _placeholder.main = _no_cli  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = _placeholder

import httpx
