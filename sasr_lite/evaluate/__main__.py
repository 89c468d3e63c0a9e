"""`python -m sasr_lite.evaluate ...` is `sasr-lite eval ...`."""

import sys

from sasr_lite.cli import main

sys.exit(main(["eval", *sys.argv[1:]]))
