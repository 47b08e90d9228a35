"""Entry point of the desktop bundle: the same as the `omokage` console script."""
import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
