"""The README fault table in docs/faults.md matches the fault-matrix parametrization."""

from __future__ import annotations

from tests.faults.cases import all_cases
from tests.faults.table import DOC, END, START, render_table, splice


def test_docs_fault_table_is_current() -> None:
    """Regenerate with `python benchmarks/fault_table.py` when this fails."""
    document = DOC.read_text(encoding="utf-8")
    assert splice(document, render_table()) == document


def test_table_counts_every_case_once() -> None:
    cases = all_cases()
    table = render_table(cases)
    assert f"**{len(cases)}**" in table
    survived = sum(1 for c in cases if c.known_bug is None)
    assert f"**{survived}**" in table
    assert table.count("| NVML nvmlInit |") == 1


def test_splice_refuses_a_document_without_markers() -> None:
    import pytest

    with pytest.raises(ValueError, match="markers"):
        splice("no markers here", "table")
    assert splice(f"a\n{START}\nold\n{END}\nb", "new\n") == f"a\n{START}\nnew\n{END}\nb"
