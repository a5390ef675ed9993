"""The command line: the only code that imports click, maps outcomes to exit codes and
stamps answers for the fast path (:mod:`lockcheck._entry` answers them before click loads).

One module per command (:mod:`.compile`, :mod:`.check`, :mod:`.sync`, :mod:`.upgrade`), the
group and :func:`main` in :mod:`.app`, options in :mod:`.options`, exit codes in
:mod:`.exits`.
"""

from lockcheck.cli.app import cli, main
from lockcheck.cli.exits import fail

__all__ = ["cli", "fail", "main"]
