"""``python -m lockcheck``."""

import sys

from lockcheck.cli import main

sys.exit(main())
