"""``python -m lockcheck``."""

import sys

from lockcheck._entry import main

sys.exit(main())
