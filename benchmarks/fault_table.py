"""Write the fault table (faults tried / survived per source) into docs/faults.md.

The table is rendered from ``tests/faults/cases.py``, the same list the fault-matrix test
parametrizes, so it cannot drift; ``tests/faults/test_fault_table.py`` fails when docs/faults.md
is stale. Run: ``.venv/bin/python benchmarks/fault_table.py`` (add ``--check`` to only compare).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for tests.faults

from tests.faults.table import DOC, render_table, splice


def main(argv: list[str]) -> int:
    """Rewrite (or with --check, compare) the generated block of docs/faults.md."""
    table = render_table()
    current = DOC.read_text(encoding="utf-8")
    updated = splice(current, table)
    if "--check" in argv:
        if updated != current:
            print("docs/faults.md is stale: run python benchmarks/fault_table.py", file=sys.stderr)
            return 1
        print("docs/faults.md is up to date")
        return 0
    DOC.write_text(updated, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
