"""The shape issue 14 asked for, kept: click only in lockcheck/cli/, no import cycle through
the CLI, the option table and the settings, and a ``--help`` that loads none of the layers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lockcheck"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module *path* imports, at the top or inside a function."""
    package = _module_name(path)
    package = package if path.name == "__init__.py" else package.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for target in _imports(path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and target != "lockcheck":
                edges.add(target)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return out


def test_click_is_imported_only_under_lockcheck_cli() -> None:
    outside = sorted(
        _module_name(p)
        for p in PACKAGE.rglob("*.py")
        if not _module_name(p).startswith("lockcheck.cli")
        and any(m == "click" or m.startswith("click.") for m in _imports(p))
    )
    assert outside == []


def test_no_import_cycle_runs_through_the_cli_the_options_or_the_settings() -> None:
    ours = ("lockcheck.cli", "lockcheck.options", "lockcheck.settings", "lockcheck.compile")
    ours += ("lockcheck.config", "lockcheck.targets", "lockcheck.upgrade", "lockcheck.sync.engine")
    bad = [sorted(c) for c in _cycles(_graph()) if any(m.startswith(ours) for m in c)]
    assert bad == []


def test_help_loads_no_layer_of_the_pipeline() -> None:
    """``lockcheck --help`` builds the click options from the option table without the
    settings, config, compile or index modules."""
    code = (
        "import sys\nfrom lockcheck._entry import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('lockcheck'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.strip().splitlines()[-1].split())
    light = {"lockcheck", "lockcheck._entry", "lockcheck.stamps", "lockcheck.cachedir"}
    light |= {"lockcheck.ui", "lockcheck.errors", "lockcheck.options"}
    assert {m for m in loaded if not m.startswith("lockcheck.cli")} <= light, loaded
