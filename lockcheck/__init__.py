"""lockcheck: keeps a project's pinned requirements honest.

The heavy modules are imported lazily so ``lockcheck --help`` and a no-op ``check``/``sync``
start fast; import from the submodules (``lockcheck.compile``, ``lockcheck.errors``).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
