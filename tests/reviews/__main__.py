"""``python -m tests.reviews``: see :mod:`tests.reviews.rates`."""

import sys

from .rates import main

sys.exit(main())
