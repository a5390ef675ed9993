"""PEP 660 editable wheels of local source trees (``-e ./pkg`` in a lock).

Same isolation and index environment as :func:`lockcheck.build.build_wheel` (it reuses that
module's runner, requirement installer and error translation), but asks the backend for
``build_editable``, with the requirements of ``get_requires_for_build_editable``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from lockcheck import build as builds

__all__ = ["build_editable"]


def build_editable(
    source: Path,
    out_dir: Path,
    *,
    isolation: bool = True,
    index_env: Mapping[str, str] | None = None,
) -> Path:
    """Build an editable wheel of the source tree *source* into *out_dir*; returns its path.

    Raises :class:`~lockcheck.errors.BuildError` (backend without PEP 660 support included).
    """
    import build  # here: pypa build is only needed when an editable is (re)built
    import build.env

    source = Path(source)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    runner = builds._Runner(index_env, builds.step_timeout())
    with contextlib.ExitStack() as stack:
        with builds._translate_errors("cannot set up the editable build", source):
            if isolation:
                env = stack.enter_context(build.env.DefaultIsolatedEnv())
                builder = build.ProjectBuilder.from_isolated_env(env, source, runner=runner)
            else:
                builder = build.ProjectBuilder(
                    source, python_executable=sys.executable, runner=runner
                )
        if isolation:
            builds._install(env, builder.build_system_requires, index_env, source)
            with builds._translate_errors("cannot set up the editable build", source):
                extra = builder.get_requires_for_build("editable")
            builds._install(env, extra, index_env, source)
        with builds._translate_errors("failed to build an editable wheel", source):
            return Path(builder.build("editable", os.fspath(out_dir)))
