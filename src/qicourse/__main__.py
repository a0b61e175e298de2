"""`python -m qicourse` runs the CLI (for machines where the `qicourse` script is not on PATH)."""

import sys

from qicourse.cli import main

sys.exit(main())
