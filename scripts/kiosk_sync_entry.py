"""Second entry script of the bundle (kiosk.spec): the same as the `kiosk-sync` console script."""

import sys

from sync.client_cli import main

if __name__ == "__main__":
    sys.exit(main())
