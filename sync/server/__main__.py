"""``python -m sync.server`` = ``district-server``."""

import sys

from sync.server.cli import main

sys.exit(main())
