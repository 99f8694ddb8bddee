"""`python -m forge_desktop.cli`, as the tests and `forge` itself run it."""
import sys

from . import main

sys.exit(main())
