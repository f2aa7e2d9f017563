"""``python -m tests.pythons``: see :mod:`tests.pythons.matrix`."""

import sys

from .matrix import main

sys.exit(main())
