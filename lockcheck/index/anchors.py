"""The ``<a>`` and ``<base>`` tags of a PEP 503 HTML page.

Apart from pages.py so that html.parser is imported only when an index answers in HTML
(PyPI and most mirrors answer PEP 691 JSON).
"""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["read_anchors"]


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base is None:
            href = dict(attrs).get("href")
            if href:
                self.base = href
        elif tag == "a":
            self.anchors.append(dict(attrs))


def read_anchors(text: str) -> tuple[str | None, list[dict[str, str | None]]]:
    """(the first ``<base href>``, the attributes of every ``<a>``), values unescaped."""
    parser = _AnchorParser()
    parser.feed(text)
    parser.close()
    return parser.base, parser.anchors
