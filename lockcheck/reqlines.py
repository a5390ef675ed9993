"""Requires-Dist lines of the common shapes as packaging Requirements, without its tokenizer.

Every compile reads a hundred METADATA files and their thousand Requires-Dist lines, and
packaging's parser (a tokenizer in Python) spent 60-80 us on each: a tenth of a warm
compile's CPU.  Most lines are a name, perhaps extras, specifiers and a marker that many
other lines repeat (``extra == "test"``).  For a line of exactly that shape the name and
extras are read here, the specifiers by :class:`~packaging.specifiers.SpecifierSet` and the
marker by :class:`~packaging.markers.Marker` (once per distinct text); the result has the
five attributes a parsed Requirement has, with the same values.  Any other line, and any
line whose specifiers or marker do not parse, goes to ``Requirement(line)`` itself, so
errors and their messages are packaging's.
"""

from __future__ import annotations

import re

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

__all__ = ["requirement_of"]

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
# Whitespace is what packaging's grammar takes between the parts: spaces and tabs only.
_WS = r"[ \t]*"
_SPEC = rf"(?:~=|===|==|!=|<=|>=|<|>){_WS}[^\s,;()\[\]]+"
_SPECS = rf"{_SPEC}(?:{_WS},{_WS}{_SPEC})*"
_SHAPE = re.compile(
    rf"(?P<name>{_NAME})"
    rf"(?:{_WS}\[{_WS}(?P<extras>{_NAME}(?:{_WS},{_WS}{_NAME})*){_WS}\])?"
    rf"{_WS}(?:(?P<specs>{_SPECS})|\({_WS}(?P<paren>{_SPECS}){_WS}\))?"
    rf"{_WS}(?:;{_WS}(?P<marker>[^ \t].*?))?{_WS}"
)
_COMMA = re.compile(rf"{_WS},{_WS}")

#: Marker text -> Marker: a run's metadata repeats a few hundred marker texts.
_MARKERS: dict[str, Marker] = {}
_MARKERS_LIMIT = 20_000


def requirement_of(line: str) -> Requirement:
    """``Requirement(line)``, faster for the common shapes; raises what it raises."""
    shape = _SHAPE.fullmatch(line)
    if shape is None:
        return Requirement(line)
    try:
        specifier = SpecifierSet(shape["specs"] or shape["paren"] or "")
        marker_text = shape["marker"]
        marker = None if marker_text is None else _marker(marker_text)
    except (InvalidSpecifier, InvalidMarker):
        return Requirement(line)  # packaging's own error, worded its way
    req = Requirement.__new__(Requirement)
    req.name = shape["name"]
    req.url = None
    extras = shape["extras"]
    req.extras = set(_COMMA.split(extras)) if extras else set()
    req.specifier = specifier
    req.marker = marker
    return req


def _marker(text: str) -> Marker:
    marker = _MARKERS.get(text)
    if marker is None:
        if len(_MARKERS) >= _MARKERS_LIMIT:
            _MARKERS.clear()
        marker = _MARKERS[text] = Marker(text)
    return marker
