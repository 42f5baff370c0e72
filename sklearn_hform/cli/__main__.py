"""``python -m sklearn_hform.cli``: the same as the ``hform`` command."""

import sys

from . import main

sys.exit(main())
