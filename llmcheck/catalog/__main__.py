"""``python -m llmcheck.catalog``: regenerate the precomputed table; ``--check`` only checks it."""

from __future__ import annotations

import sys

from llmcheck.catalog.precomputed import main

if __name__ == "__main__":
    sys.exit(main())
