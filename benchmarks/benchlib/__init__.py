"""Benchmark harness for lockcheck against pip-compile and uv (stdlib only).

The modules split the job so the pure parts can be unit tested without a network:
``stats`` (samples to medians), ``commands`` (argv and environments), ``lockdiff``
(lock comparison), ``report`` (markdown), and the impure ones: ``measure`` (one timed
subprocess), ``tools`` (tool virtualenvs), ``machine`` (host description), ``runner``.
"""

from __future__ import annotations

__all__: list[str] = []
