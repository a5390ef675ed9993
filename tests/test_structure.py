"""The package's shape holds: no import cycles, click only in the CLI layer, mypy clean, and a
start-up that imports no more than it needs.

These guard issue 14's consolidation: a cycle or a stray click import is how layers start to
leak into each other again, and start-up cost creeps in one innocent import at a time.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import describe, run_lockcheck, subprocess_env

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lockcheck"

# Modules the fast answers (`--help`, an unchanged `check`, a no-op `sync`) must never load:
# each costs tens of milliseconds, more than the whole answer.
HEAVY = ("httpx", "rich", "resolvelib", "installer", "build", "pyproject_hooks", "packaging.tags")

# Modules each fast answer may import beyond what a bare `python -c pass` imports (counted by
# `python -X importtime`; lockcheck's own, third-party and stdlib alike). On main when this
# test was written: --help 62 (click and its stdlib), then 71 once the CLI became a package of
# nine modules; check 14, sync 14. A jump past the budget
# means something crept onto the fast path: find it with `python -X importtime -m lockcheck ...`
# and import it where it is used.
IMPORT_BUDGET = {"help": 80, "check": 20, "sync": 20}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import that can run, at module level or inside a function; `if TYPE_CHECKING:`
    blocks are skipped since they never execute."""
    for node in ast.iter_child_nodes(tree):
        if _is_type_checking_block(node):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _runtime_imports(node)


def _imported_names(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    return [target, *(f"{target}.{alias.name}" for alias in node.names)]


def import_graph() -> dict[str, set[str]]:
    """lockcheck module -> the lockcheck modules it imports (innermost existing module)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _imported_names(name, path, node):
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components with more than one module: each is an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]


def test_no_import_cycle_in_lockcheck() -> None:
    """Counting imports inside functions: a lazy import still ties two layers together."""
    assert strongly_connected(import_graph()) == []


def test_click_is_imported_only_by_the_cli_package() -> None:
    outside = []
    for name, path in _modules().items():
        if name == "lockcheck.cli" or name.startswith("lockcheck.cli."):
            continue
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if any(t.split(".")[0] == "click" for t in _imported_names(name, path, node)):
                outside.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert outside == []


def test_mypy_passes_on_lockcheck() -> None:
    pytest.importorskip("mypy", reason="mypy comes with the test extra")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "lockcheck"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


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


def _imported_modules(importtime_stderr: str) -> list[str]:
    """Module names from `-X importtime` lines: `import time: self | cumulative | name`."""
    names = []
    for line in importtime_stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        name = line.rsplit("|", 1)[1].strip()
        if name != "imported package":
            names.append(name)
    return names


def _bare_interpreter_modules() -> set[str]:
    bare = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"], capture_output=True, text=True
    )
    return set(_imported_modules(bare.stderr))


def _assert_within_budget(which: str, result: subprocess.CompletedProcess[str]) -> None:
    modules = _imported_modules(result.stderr)
    heavy = sorted(m for m in modules if m in HEAVY)
    assert heavy == [], f"{which} imported {heavy}"
    added = [m for m in modules if m not in _bare_interpreter_modules()]
    assert 0 < len(added) <= IMPORT_BUDGET[which], (
        f"{which} imported {len(added)} modules beyond a bare interpreter's "
        f"(budget {IMPORT_BUDGET[which]}): {added}"
    )


IMPORTTIME = {"PYTHONPROFILEIMPORTTIME": "1"}


def test_help_imports_stay_within_the_start_up_budget(tmp_path: Path) -> None:
    result = run_lockcheck("--help", cwd=tmp_path, env=IMPORTTIME)
    assert result.returncode == 0, describe(result)
    _assert_within_budget("help", result)


def test_unchanged_check_and_noop_sync_stay_within_the_start_up_budget(project) -> None:
    folder, _server = project
    assert run_lockcheck("check", cwd=folder).returncode == 0  # writes the stamp
    result = run_lockcheck("check", cwd=folder, env=IMPORTTIME)
    assert result.returncode == 0, describe(result)
    assert "up to date" in result.stdout
    _assert_within_budget("check", result)

    venv = folder / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    first = run_lockcheck("sync", "--python", venv, cwd=folder)
    assert first.returncode == 0, describe(first)
    result = run_lockcheck("sync", "--python", venv, cwd=folder, env=IMPORTTIME)
    assert result.returncode == 0, describe(result)
    _assert_within_budget("sync", result)


# All a fast answer may load beyond what the interpreter had: the stamp modules and the
# interpreter's own builtin pieces (marshal for the stamp, CPython's sha256 for its key).
# json, pathlib, hashlib, threading and typing each cost 3-9 ms against a ~10 ms bare start,
# which the whole answer (about 1.0x a bare start) could not absorb.
FAST_ANSWER_MODULES = {
    "lockcheck",
    "lockcheck._entry",
    "lockcheck.stamps",
    "lockcheck.cachedir",
    "__future__",
    "gc",
    "atexit",
    "marshal",
    "time",
    "_sha2",
    "_sha256",
}

_FAST_ANSWER_PROBE = """
import atexit, sys
before = set(sys.modules)
atexit.register(lambda: print(" ".join(sorted(set(sys.modules) - before)), file=sys.stderr))
sys.argv = ["lockcheck", *sys.argv[1:]]
from lockcheck._entry import console
console()
"""


def test_fast_answers_load_only_the_stamp_modules(project) -> None:
    """An unchanged ``check`` and a no-op ``sync`` answer from a stamp loading nothing else:
    no click, and none of the standard modules that cost more than the answer."""
    folder, _server = project
    venv = folder / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    sync = ["sync", "--python", str(venv / "bin" / "python")]
    for args, answer in ((["check"], "requirements.txt: up to date"), (sync, "up-to-date")):
        first = run_lockcheck(*args, cwd=folder)  # writes the stamp
        assert first.returncode == 0, describe(first)
        probe = subprocess.run(
            [sys.executable, "-c", _FAST_ANSWER_PROBE, *args],
            cwd=folder,
            env=subprocess_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert probe.returncode == 0, probe.stderr
        assert answer in probe.stdout, probe.stdout
        loaded = set(probe.stderr.split())
        assert "lockcheck.stamps" in loaded, probe.stderr  # the probe saw the fast path
        assert loaded <= FAST_ANSWER_MODULES, sorted(loaded - FAST_ANSWER_MODULES)


# What only a run that talks to an index needs, or the email parser that METADATA with plain
# LF or CRLF header lines does not: a warm compile whose pages are all fresh loads none of it.
# (`ssl` is still loaded: lockcheck.index.http imports it for an isinstance check.)
NETWORK_ONLY = (
    "httpx",
    "http.client",
    "urllib.request",
    "email.parser",
    "packaging.metadata",
    "ssl",
)


def test_warm_compile_with_fresh_pages_loads_no_network_layer(project) -> None:
    """The commit-hook workload: the lock is there, one input line is added, and every page
    and metadata file it needs is in the cache and fresh; nothing is asked of the index, and
    the modules that only a request needs are not imported (tens of milliseconds each)."""
    folder, server = project
    with (folder / "requirements.in").open("a", encoding="utf-8") as fh:
        fh.write("werkzeug\n")  # flask's dependency: its page and metadata are cached
    result = run_lockcheck(
        "compile", "-i", server.url, "--generate-hashes", cwd=folder, env=IMPORTTIME
    )
    assert result.returncode == 0, describe(result)
    assert server.requests == []
    loaded = sorted(m for m in _imported_modules(result.stderr) if m in NETWORK_ONLY)
    assert loaded == [], f"a compile without requests imported {loaded}"
