"""``python -m carbon_cpn.cli ...``: the ``carbon-cpn`` command line."""

import sys

from carbon_cpn.cli import main

sys.exit(main())
