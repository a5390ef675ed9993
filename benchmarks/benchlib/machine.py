"""A short description of the host, so a table always says where it was measured."""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["describe_machine", "parse_cpu_model", "parse_mem_total", "parse_os_release"]


def parse_cpu_model(cpuinfo: str) -> str | None:
    """First ``model name`` of /proc/cpuinfo."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return None


def parse_mem_total(meminfo: str) -> float | None:
    """MemTotal of /proc/meminfo in GiB."""
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            fields = line.split()
            if len(fields) >= 2 and fields[1].isdigit():
                return int(fields[1]) / (1024 * 1024)
    return None


def parse_os_release(text: str) -> str | None:
    """PRETTY_NAME of /etc/os-release."""
    for line in text.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return None


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def describe_machine() -> dict[str, object]:
    """CPU model, cores, RAM, OS and kernel of this host."""
    mem = parse_mem_total(_read("/proc/meminfo"))
    return {
        "cpu": parse_cpu_model(_read("/proc/cpuinfo")) or platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "ram_gib": round(mem, 1) if mem is not None else None,
        "os": parse_os_release(_read("/etc/os-release")) or platform.system(),
        "kernel": platform.release(),
        "arch": platform.machine(),
    }
