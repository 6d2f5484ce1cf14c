"""``python -m action_scripts <action>``: what ``actions/factory-run.sh`` runs on a runner."""

import sys

from action_scripts.actions import main

sys.exit(main())
