"""docs/bandwidth.md shows the class table as shipped, with the speed model's copy share."""

from __future__ import annotations

from pathlib import Path

from benchmarks.bandwidth_noise import class_table_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "bandwidth.md"


def test_class_table_in_the_docs_is_current() -> None:
    """Regenerate with ``python benchmarks/bandwidth_noise.py --classes`` after an edit of the
    table or of the copy share (PEAK_TO_COPY there, RAM_PEAK_TO_COPY in the estimator)."""
    assert class_table_markdown() in DOC.read_text(encoding="utf-8")
