"""The ``lockcheck`` program's exit: the answer and the atexit handlers, not the teardown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import describe

PROGRAM = (
    "import sys\nsys.argv = ['lockcheck', *sys.argv[1:]]\n{setup}\n"
    "from lockcheck._entry import console\nconsole()\n"
)


def _program(tmp_path: Path, setup: str, *args: str) -> subprocess.CompletedProcess[str]:
    code = PROGRAM.format(setup=setup)
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_program_exits_without_tearing_the_interpreter_down(tmp_path: Path) -> None:
    """The interpreter is not torn down (a compile leaves hundreds of thousands of objects
    to free one by one); the output and the atexit handlers are all there."""
    setup = (
        "import atexit, os\n"
        "def seen(event, args, write=os.write):\n"
        "    if event == 'cpython.PyInterpreterState_Clear':\n"
        "        write(1, b'torn down')\n"
        "sys.addaudithook(seen)\n"
        "atexit.register(lambda: print('atexit ran'))\n"
    )
    result = _program(tmp_path, setup, "--version")
    assert result.returncode == 0, describe(result)
    assert result.stdout.startswith("lockcheck, version")
    assert "atexit ran" in result.stdout
    assert "torn down" not in result.stdout


def test_the_exit_code_survives_the_quick_exit(tmp_path: Path) -> None:
    result = _program(tmp_path, "", "check", "--no-such-option")
    assert result.returncode == 2, describe(result)
    assert "--no-such-option" in result.stderr


def test_a_running_thread_gets_the_ordinary_exit(tmp_path: Path) -> None:
    """A thread still at work (a cache write, OpenSSL loading the trust store) is waited
    for, as Python's own exit does."""
    setup = (
        "import threading, time, pathlib\n"
        "def late():\n    time.sleep(0.5)\n    pathlib.Path('written').write_text('yes')\n"
        "threading.Thread(target=late).start()\n"
    )
    result = _program(tmp_path, setup, "--version")
    assert result.returncode == 0, describe(result)
    assert (tmp_path / "written").read_text() == "yes"


def test_the_program_raises_the_collectors_threshold_and_keeps_a_bound(tmp_path: Path) -> None:
    """The program's collector waits for many more new objects than Python's 700 (a compile's
    objects are almost never in cycles), but it still has a threshold: it is not switched
    off, and what the imports made is frozen out of its walks."""
    setup = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('gc', gc.isenabled(), gc.get_threshold()[0],"
        " gc.get_freeze_count() > 1000))\n"
    )
    result = _program(tmp_path, setup, "--version")
    assert result.returncode == 0, describe(result)
    enabled, threshold, frozen = result.stdout.split("gc ")[1].split()
    assert enabled == "True"
    assert 100_000 <= int(threshold) <= 1_000_000
    assert frozen == "True"


def test_a_library_caller_keeps_its_own_collector(tmp_path: Path) -> None:
    """``lockcheck._entry.main`` called from another program (a test runner, a tool) leaves
    that program's collector as it was: no threshold of lockcheck's, nothing frozen."""
    code = (
        "import gc, sys\ngc.set_threshold(700, 10, 10)\n"
        "from lockcheck._entry import main\nmain(['--version'])\n"
        "print('gc', gc.get_threshold(), gc.get_freeze_count())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, describe(result)
    assert "gc (700, 10, 10) 0" in result.stdout
