"""``python -m ftle_widget`` is the ``ftle-widget`` command line (see :mod:`ftle_widget.cli`)."""

import sys

from .cli import main

sys.exit(main())
