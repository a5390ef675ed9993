"""What the index serves, recorded beside the numbers because it decides what caching can do.

An index (or a mirror in front of it) that sends no ``Cache-Control``/``ETag`` leaves pip's
HTTP cache empty, so pip-compile's warm runs redo every request; one that does not advertise
PEP 658 ``core-metadata`` makes pip download whole wheels while uv reads them by Range.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

__all__ = ["describe_index", "probe_index", "summarize_index"]

_JSON = "application/vnd.pypi.simple.v1+json"
_CACHE_HEADERS = ("cache-control", "etag", "last-modified")


def summarize_index(
    page: Mapping[str, Any],
    page_headers: Mapping[str, str],
    wheel_headers: Mapping[str, str] | None,
    metadata_status: int | None,
) -> dict[str, Any]:
    """Facts from one PEP 691 project page, its headers and its newest wheel's responses."""
    headers = {k.lower(): v for k, v in page_headers.items()}
    files = page.get("files", [])
    wheels = [f for f in files if str(f.get("filename", "")).endswith(".whl")]
    advertised = any(f.get("core-metadata") or f.get("dist-info-metadata") for f in wheels)
    wheel = {k.lower(): v for k, v in (wheel_headers or {}).items()}
    return {
        "api_version": (page.get("meta") or {}).get("api-version"),
        "page_cache_headers": [h for h in _CACHE_HEADERS if h in headers],
        "core_metadata_advertised": advertised,
        "metadata_file_served": metadata_status == 200 if metadata_status is not None else None,
        "wheel_range_requests": wheel.get("accept-ranges") == "bytes" if wheel else None,
    }


def describe_index(facts: Mapping[str, Any]) -> str:
    """One sentence for the report's notes."""
    if facts.get("error"):
        return f"Index probe failed: {facts['error']}."
    cache = facts.get("page_cache_headers") or []
    parts = [f"PEP 691 JSON (api {facts.get('api_version') or '?'})"]
    parts.append(
        f"pages carry {', '.join(cache)}"
        if cache
        else "pages carry no Cache-Control/ETag/Last-Modified (HTTP caches such as pip's keep "
        "nothing, so pip-compile's warm runs repeat every request)"
    )
    if facts.get("core_metadata_advertised"):
        parts.append("wheels advertise PEP 658 core-metadata")
    else:
        served = facts.get("metadata_file_served")
        parts.append(
            "wheels advertise no PEP 658 core-metadata"
            + (" although `.metadata` files are served" if served else "")
        )
    if facts.get("wheel_range_requests") is not None:
        parts.append(
            "wheel downloads accept Range requests"
            if facts["wheel_range_requests"]
            else "wheel downloads do not accept Range requests"
        )
    return f"Index {facts.get('url', '')} as seen from this machine: " + "; ".join(parts) + "."


def _open(request: urllib.request.Request, context: ssl.SSLContext, timeout: float) -> Any:
    return urllib.request.urlopen(request, context=context, timeout=timeout)


def probe_index(
    index: str = "https://pypi.org/simple", project: str = "flask", timeout: float = 20.0
) -> dict[str, Any]:
    """Fetch one project page and HEAD its newest wheel and that wheel's ``.metadata``."""
    url = f"{index.rstrip('/')}/{project}/"
    context = ssl.create_default_context()  # honours SSL_CERT_FILE, like the tools
    try:
        request = urllib.request.Request(url, headers={"Accept": _JSON})
        with _open(request, context, timeout) as response:
            page = json.load(response)
            page_headers = dict(response.headers.items())
        wheels = [f for f in page.get("files", []) if f.get("filename", "").endswith(".whl")]
        wheel_headers, metadata_status = None, None
        if wheels:
            wheel_url = wheels[-1]["url"]
            head = urllib.request.Request(wheel_url, method="HEAD")
            with _open(head, context, timeout) as response:
                wheel_headers = dict(response.headers.items())
            try:
                meta = urllib.request.Request(wheel_url + ".metadata", method="HEAD")
                with _open(meta, context, timeout) as response:
                    metadata_status = response.status
            except urllib.error.HTTPError as exc:
                metadata_status = exc.code
        facts = summarize_index(page, page_headers, wheel_headers, metadata_status)
    except (OSError, ValueError) as exc:
        facts = {"error": f"{type(exc).__name__}: {exc}"}
    facts["url"] = index
    return facts
