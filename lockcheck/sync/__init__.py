"""``lockcheck sync``: make a virtualenv hold exactly what its locks pin.

* :mod:`~lockcheck.sync.engine` — ``sync_env(locks, venv, options) -> SyncReport``, the
  library entry point (its click command is :mod:`lockcheck.cli.sync`).
* :mod:`~lockcheck.sync.plan` — the pure ``plan(locked, installed, env) -> SyncPlan``.
* :mod:`~lockcheck.sync.target` (which venv), :mod:`~lockcheck.sync.interpreter` (what its
  python is), :mod:`~lockcheck.sync.installed` (what it holds), :mod:`~lockcheck.sync.locks`
  and :mod:`~lockcheck.sync.links` (what is wanted), :mod:`~lockcheck.sync.fetch` (wheels,
  verified), :mod:`~lockcheck.sync.apply` (the transaction) and
  :mod:`~lockcheck.sync.journal` (its on-disk record, for undoing a killed run),
  :mod:`~lockcheck.sync.stamp` (the no-op fast path).  :mod:`lockcheck.crashpoint` (the
  test-only hook that kills a run at a named point) is shared with the index cache.

Nothing is imported here: the no-op path must stay cheap.
"""

__all__: list[str] = []
