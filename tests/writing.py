"""The requirements writer's inputs as one value, for the writer's and reader's tests.

The writer takes the output options as given (``OutputSettings``), the header the run
decided (``Header``), the run's effective index settings and its binary formats; a test case
names them together (:func:`written`, in the flat pip-compile terms the goldens use).
"""

from __future__ import annotations

from dataclasses import fields
from typing import NamedTuple

from lockcheck.index.settings import IndexSettings
from lockcheck.lockfile.settings import Header, OutputSettings
from lockcheck.lockfile.writer import options_block, render_requirements
from lockcheck.models import Resolution
from lockcheck.resolve.candidates import FormatControl

__all__ = ["Written", "written"]


class Written(NamedTuple):
    """What the writer is given for one lock."""

    output: OutputSettings = OutputSettings()
    header: Header = Header()
    index: IndexSettings | None = None
    formats: FormatControl | None = None

    def render(
        self,
        resolution: Resolution,
        *,
        existing_text: str | bytes | None = None,
        fallback_texts: tuple[bytes | None, ...] = (),
    ) -> str:
        return render_requirements(
            resolution,
            self.output,
            self.header,
            index=self.index,
            formats=self.formats,
            existing_text=existing_text,
            fallback_texts=fallback_texts,
        )

    def options_block(self) -> list[str]:
        return options_block(self.output, self.index, self.formats)


_OUTPUT = frozenset(f.name for f in fields(OutputSettings))
_HEADER = {
    "compile_command": "command",
    "custom_compile_command": "custom_command",
    "python_version": "python_version",
    "header_tool": "tool",
}
_INDEX = frozenset(f.name for f in fields(IndexSettings))
_FORMATS = frozenset(f.name for f in fields(FormatControl))


def written(**values: object) -> Written:
    """The writer's inputs from values named as options and the header's facts
    (``compile_command``, ``index_url``, ``no_binary`` ...); an unknown name is a TypeError."""
    unknown = set(values) - _OUTPUT - set(_HEADER) - _INDEX - _FORMATS
    if unknown:
        raise TypeError(f"not a writer input: {sorted(unknown)}")
    # None: not given (the default index), as a lock without an --index-url line says.
    index = {k: v for k, v in values.items() if k in _INDEX and v is not None}
    formats = {k: v for k, v in values.items() if k in _FORMATS}
    return Written(
        OutputSettings(**{k: v for k, v in values.items() if k in _OUTPUT}),  # type: ignore[arg-type]
        Header(**{_HEADER[k]: v for k, v in values.items() if k in _HEADER}),  # type: ignore[arg-type]
        IndexSettings(**index) if index else None,  # type: ignore[arg-type]
        FormatControl(**formats) if formats else None,  # type: ignore[arg-type]
    )
