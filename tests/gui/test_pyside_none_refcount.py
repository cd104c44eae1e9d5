"""The PySide6 that llmcheck installs must not leak references to None from model data().

PySide6 6.12.0 drops one reference to None per QAbstractItemModel.data() call that returns None
(measured: -1000 after 1000 calls; 6.11.2 and 6.11.3: 0). On CPython 3.11, where None is not yet
immortal, a window that repaints long enough aborts with "Fatal Python error: none_dealloc", so
pyproject.toml keeps 3.11 below 6.12. This test fails if the pin is lost.
"""

from __future__ import annotations

import sys

from PySide6 import QtCore


class _NoneModel(QtCore.QAbstractTableModel):
    def rowCount(self, parent: object = None) -> int:
        return 1

    def columnCount(self, parent: object = None) -> int:
        return 1

    def data(self, index: object, role: int = 0) -> None:
        return None


def test_model_data_returning_none_keeps_nones_refcount(qapp: object) -> None:
    model = _NoneModel()
    index = model.index(0, 0)
    before = sys.getrefcount(None)
    for _ in range(1000):
        index.data(QtCore.Qt.ItemDataRole.ToolTipRole)
    after = sys.getrefcount(None)
    if sys.version_info >= (3, 12):
        return  # None is immortal: its count is a constant, nothing can reach zero
    # Other threads may hold or drop a few references meanwhile; a leak is -1000.
    assert after - before > -100
