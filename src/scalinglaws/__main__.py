"""``python -m scalinglaws`` is the ``scalinglaws`` command."""

import sys

from .outputs.cli import main

sys.exit(main())
