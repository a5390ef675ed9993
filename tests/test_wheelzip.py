"""The central-directory shortcut for a wheel's METADATA agrees with zipfile or steps aside."""

from __future__ import annotations

import io
import random
import zipfile

import pytest

from lockcheck.index.lazywheel import RangeFile
from lockcheck.index.wheelzip import read_metadata_member

METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n" + b"long text " * 500


def _wheel(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED, **kw) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method, **kw) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _read_remotely(data: bytes) -> tuple[bytes | None, list[tuple[int, int]]]:
    """Read through Range requests as the finder does (the 64 KiB tail held first); also
    the spans fetched beyond it."""
    calls: list[tuple[int, int]] = []

    def fetch(start: int, end: int) -> bytes:
        calls.append((start, end))
        return data[start:end]

    remote = RangeFile(len(data), fetch)
    tail = 64 * 1024
    remote.add(len(data) - tail, data[-tail:])
    return read_metadata_member(remote, len(data)), calls  # type: ignore[arg-type]


def _read(data: bytes) -> bytes | None:
    return read_metadata_member(io.BytesIO(data), len(data))


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_reads_the_metadata_member(method: int) -> None:
    files = {f"demo/mod{i}.py": b"x = 1\n" * i for i in range(300)}
    files["demo-1.0.dist-info/METADATA"] = METADATA
    files["demo-1.0.dist-info/RECORD"] = b"r" * 70_000
    assert _read(_wheel(files, method)) == METADATA


def test_over_range_requests_fetches_only_what_it_needs() -> None:
    noise = random.Random(0)
    filler = {f"demo/data{i}.bin": noise.randbytes(10_000) for i in range(50)}
    data = _wheel({**filler, "demo-1.0.dist-info/METADATA": METADATA})
    assert len(data) > 400_000
    got, calls = _read_remotely(data)
    assert got == METADATA
    assert calls == []  # central directory and METADATA were in the tail


@pytest.mark.parametrize(
    "members",
    [
        {"a-1.dist-info/METADATA": METADATA, "b-1.dist-info/METADATA": METADATA},  # two
        {"pkg/vendored-1.dist-info/METADATA": METADATA},  # nested only
        {"demo/other.txt": b"no metadata"},  # none
    ],
)
def test_steps_aside_when_not_certain(members: dict[str, bytes]) -> None:
    assert _read(_wheel(members)) is None


def test_steps_aside_on_corruption_and_non_zips() -> None:
    data = bytearray(_wheel({"demo-1.0.dist-info/METADATA": METADATA}))
    at = data.find(b"long text")
    if at < 0:  # deflated: flip a byte of the compressed stream instead
        at = 60
    data[at] ^= 0xFF
    assert _read(bytes(data)) is None
    assert _read(b"not a zip at all" * 10) is None
    assert _read(b"") is None


def test_ignores_longer_names_ending_alike() -> None:
    data = _wheel(
        {
            "demo-1.0.dist-info/METADATA.orig": b"wrong",
            "demo-1.0.dist-info/METADATA": METADATA,
        }
    )
    assert _read(data) == METADATA


def test_a_member_without_a_directory_name_is_not_the_metadata() -> None:
    assert _read(_wheel({".dist-info/METADATA": METADATA})) is None


def test_a_big_wheel_costs_one_extra_range_request() -> None:
    """Central directory beyond the tail, METADATA and a long RECORD just before it: one
    request fetches the directory with the .dist-info files in front of it."""
    noise = random.Random(1)
    files = {f"big/data{i}.bin": noise.randbytes(2_000) for i in range(400)}
    files.update({f"big/mod{i:05d}_{'x' * 60}.py": b"" for i in range(1500)})
    files["big-1.0.dist-info/METADATA"] = METADATA
    files["big-1.0.dist-info/RECORD"] = noise.randbytes(150_000)
    data = _wheel(files)
    got, calls = _read_remotely(data)
    assert got == METADATA
    assert len(calls) == 1, calls
