"""``python -m factory_cli``: the same as the ``factory`` command."""

import sys

from factory_cli.main import main

sys.exit(main())
