"""``python -m calibrate`` runs the command line."""

import sys

from calibrate.cli import main

if __name__ == "__main__":
    sys.exit(main())
