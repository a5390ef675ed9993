"""``python -m lockcheck``."""

from lockcheck._entry import console

console()
