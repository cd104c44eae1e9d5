"""Qt item models: thin adapters over immutable tuples of the estimator's results.

Each model declares its columns once, shows text for DisplayRole and hands the raw value out
for UserRole. New data replaces old with a model reset (the grid, when only its cells change,
with ``dataChanged``); nothing here computes a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from llmcheck.gui.widgets import plain_tip, verdict_style
from llmcheck.machines import MachineAnswer
from llmcheck.render.sentences import (
    DeviceRow,
    bandwidth_text,
    budget_text,
    cell_words,
    context_capped,
    fit_tooltip,
    short_words,
    speed_class,
    speed_text,
)
from llmcheck.units import clean_text, format_bandwidth, format_bytes

if TYPE_CHECKING:
    from llmcheck.catalog import ModelVariant
    from llmcheck.estimate import Fit

Index = QModelIndex | QPersistentModelIndex
VERDICT_ROLE = Qt.ItemDataRole.UserRole + 1  # the verdict's JSON string, for tests and sorting
_BADGE_TEXT = QColor("#000000")
# The speed class, marked in text (never colour alone) and shaded: the fill at full strength and
# no mark for "fast" (most cells: no noise), lighter and "↓" for "usable" (under twice the
# minimum speed), lightest and "↓↓" for "slow" (under it). Blended with white: black text stays
# readable on every shade.
SPEED_MARKS = {"fast": "", "usable": " ↓", "slow": " ↓↓"}
SPEED_SHADES = {"fast": 1.0, "usable": 0.6, "slow": 0.35}
CONTEXT_CAPPED_MARK = " *"
# The widest text a cell may show, for sizing the columns.
WIDEST_CELL = "✓ 888-1888 *"  # wider than "✗ -88.8 GiB" and "▲ 8.8-18 ↓↓"


def shade(fill: str, strength: float) -> QColor:
    """``fill`` blended with white: 1.0 is the fill itself, 0.0 white."""
    colour = QColor(fill)
    return QColor(
        round(255 - (255 - colour.red()) * strength),
        round(255 - (255 - colour.green()) * strength),
        round(255 - (255 - colour.blue()) * strength),
    )


def cell_text(fit: Fit, chosen_context_tokens: int | None = None) -> str:
    """A cell: the verdict's symbol, the speed (or how short), the speed class's mark, and "*"
    where the model was answered at its own longest context, shorter than the one chosen."""
    text = f"{verdict_style(fit.verdict).symbol} {cell_words(fit)}"
    klass = speed_class(fit) if str(fit.verdict) != "wont_fit" else None
    if klass is not None:
        text += SPEED_MARKS[klass]
    if chosen_context_tokens is not None and context_capped(fit, chosen_context_tokens):
        text += CONTEXT_CAPPED_MARK
    return text


def cell_tooltip(variant_name: str, fit: Fit, chosen_context_tokens: int | None = None) -> str:
    """A fit's tooltip, escaped: its reason may carry a device's name."""
    words = fit_tooltip(variant_name, fit, verdict_style(fit.verdict).words)
    short = short_words(fit)
    if short:
        words += f"\n{short[0].upper()}{short[1:]}"
    klass = speed_class(fit)
    if klass is not None and str(fit.verdict) != "wont_fit":
        words += f"\nSpeed class: {klass} (against the minimum speed)"
    if chosen_context_tokens is not None and context_capped(fit, chosen_context_tokens):
        words += (
            f"\n* This model takes at most {fit.config.context_tokens:,} tokens: it is"
            " answered at that context, shorter than the one chosen."
        )
    return plain_tip(words)


def short_machine_name(name: str) -> str:
    """A catalogued machine's name without the maker's brand words, for narrow tables."""
    for prefix in ("NVIDIA GeForce ", "AMD Radeon ", "Intel ", "NVIDIA "):
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return name


class FitGridModel(QAbstractTableModel):
    """Variants (rows, grouped by family then size) against quantizations (columns)."""

    def __init__(self) -> None:
        super().__init__()
        self._variants: tuple[ModelVariant, ...] = ()
        self._quants: tuple[str, ...] = ()
        self._cells: tuple[tuple[Fit | None, ...], ...] = ()
        self.chosen_context_tokens: int | None = None
        self.updating = False  # the cells belong to another machine: show none of them

    def mark_updating(self) -> None:
        """The machine changed and its answers are on their way: hide the old cells."""
        if self.updating or not self._cells:
            return
        self.updating = True
        self._cells = tuple(tuple(None for _ in row) for row in self._cells)
        self.dataChanged.emit(
            self.index(0, 0), self.index(len(self._variants) - 1, len(self._quants) - 1)
        )

    def find(self, variant_id: str, quant: str) -> QModelIndex:
        """The cell of ``variant_id`` x ``quant`` (invalid when not shown)."""
        for row, variant in enumerate(self._variants):
            if variant.id == variant_id and quant in self._quants:
                return self.index(row, self._quants.index(quant))
        return QModelIndex()

    def row_fits(self, row: int) -> tuple[Fit, ...]:
        """The answers shown in a row."""
        return tuple(f for f in self._cells[row] if f is not None)

    def set_fits(
        self, variants: Sequence[ModelVariant], quants: Sequence[str], fits: Sequence[Fit]
    ) -> None:
        """Show these fits; a variant not published in a quant gets an empty cell.

        Same rows and columns as shown (a new context, KV type or machine): ``dataChanged`` over
        the cells that changed, so the view keeps its current cell and asks only for what it
        paints. A reset makes Qt re-read every cell on the GUI thread (docs/faults.md).
        """
        self.updating = False
        by_key = {(f.variant_id, f.quant): f for f in fits}
        new_variants = tuple(variants)
        new_quants = tuple(quants)
        cells = tuple(tuple(by_key.get((v.id, q)) for q in new_quants) for v in new_variants)
        if new_variants and new_variants == self._variants and new_quants == self._quants:
            changed = [
                (row, column)
                for row, (old_row, new_row) in enumerate(zip(self._cells, cells, strict=True))
                for column, (old, new) in enumerate(zip(old_row, new_row, strict=True))
                if old != new
            ]
            self._cells = cells
            if changed:
                rows = [row for row, _ in changed]
                columns = [column for _, column in changed]
                self.dataChanged.emit(
                    self.index(min(rows), min(columns)), self.index(max(rows), max(columns))
                )
            return
        self.beginResetModel()
        self._variants = new_variants
        self._quants = new_quants
        self._cells = cells
        self.endResetModel()

    def clear(self) -> None:
        """Show nothing (while the machine is being read)."""
        self.set_fits((), (), ())

    def variant(self, row: int) -> ModelVariant:
        """The variant shown in a row."""
        return self._variants[row]

    def quant(self, column: int) -> str:
        """The quantization shown in a column."""
        return self._quants[column]

    def fit(self, row: int, column: int) -> Fit | None:
        """The fit in a cell (None: not published in that quant)."""
        return self._cells[row][column]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._variants)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._quants)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(self._quants) and role in (
                Qt.ItemDataRole.DisplayRole,
                Qt.ItemDataRole.ToolTipRole,
            ):
                return self._quants[section]
            return None
        if not 0 <= section < len(self._variants):
            return None
        variant = self._variants[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return variant.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{variant.name} ({variant.family}, {variant.size_label}, {variant.kind})"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._cells):
            return None
        fit = self._cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        variant = self._variants[index.row()]
        if fit is None:
            if self.updating and role in (
                Qt.ItemDataRole.DisplayRole,
                Qt.ItemDataRole.AccessibleTextRole,
            ):
                return "…"
            if role == Qt.ItemDataRole.DisplayRole:
                return "—"
            if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
                return f"{variant.name} is not published in {self._quants[index.column()]}"
            return None
        style = verdict_style(fit.verdict)
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(fit, self.chosen_context_tokens)
        if role == Qt.ItemDataRole.ToolTipRole:
            return cell_tooltip(variant.name, fit, self.chosen_context_tokens)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            klass = speed_class(fit)
            how = short_words(fit) or speed_text(fit)
            return f"{variant.name} {fit.quant}: {style.words}, {how}" + (
                f", {klass}" if klass and str(fit.verdict) != "wont_fit" else ""
            )
        if role == Qt.ItemDataRole.BackgroundRole:
            klass = speed_class(fit) if str(fit.verdict) != "wont_fit" else None
            return shade(style.fill, SPEED_SHADES.get(klass or "fast", 1.0))
        if role == Qt.ItemDataRole.ForegroundRole:
            return _BADGE_TEXT
        if role == Qt.ItemDataRole.UserRole:
            return fit
        if role == VERDICT_ROLE:
            return str(fit.verdict)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self._cells[index.row()][index.column()] is None:
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class _ColumnsModel(QAbstractTableModel):
    """A flat table over an immutable tuple of rows, with its columns declared once (COLUMNS)."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self._items: tuple[Any, ...] = ()

    def _replace(self, items: Sequence[Any]) -> None:
        self.beginResetModel()
        self._items = tuple(items)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.COLUMNS)
        ):
            return self.COLUMNS[section]
        return None


class DeviceTableModel(_ColumnsModel):
    """Each GPU, unified pool and the RAM: total, free, usable budget, bandwidth."""

    COLUMNS = ("Device", "Kind", "Total", "Free", "Usable budget", "Bandwidth")

    def set_rows(self, rows: Sequence[DeviceRow]) -> None:
        """Replace the rows."""
        self._replace(rows)

    def row(self, row: int) -> DeviceRow:
        """The device shown in a row."""
        item: DeviceRow = self._items[row]
        return item

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._items):
            return None
        row: DeviceRow = self._items[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tip(row.details)
        if role == Qt.ItemDataRole.UserRole:
            return row
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(row: DeviceRow, column: int) -> str:
        if column == 0:
            return row.name
        if column == 1:
            return row.kind
        if column == 5:
            return bandwidth_text(row)
        if column == 4:
            return budget_text(row)
        value = (row.total_bytes, row.free_bytes)[column - 2]
        return format_bytes(value)


class MachineAnswerModel(_ColumnsModel):
    """For one variant: which catalogued machines run it great, tight, or not."""

    # The machine's name carries its memory size ("RTX 4060 8 GB"), so no Memory column.
    COLUMNS = ("Machine", "Bandwidth", "Verdict", "Best quant", "Speed")
    VERDICT_COLUMN = 2

    def set_answers(self, answers: Sequence[MachineAnswer]) -> None:
        """Replace the answers."""
        self._replace(answers)

    def answer(self, row: int) -> MachineAnswer:
        """The answer shown in a row."""
        item: MachineAnswer = self._items[row]
        return item

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._items):
            return None
        answer: MachineAnswer = self._items[index.row()]
        fit = answer.fit
        column = index.column()
        verdict = "unknown" if fit is None else str(fit.verdict)
        style = verdict_style(verdict)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            machine = answer.machine
            texts = (
                clean_text(short_machine_name(machine.name)),
                format_bandwidth(machine.bandwidth_gb_s),
                style.badge,
                "—" if fit is None else fit.quant,
                "—" if fit is None else speed_text(fit),
            )
            return texts[column]
        if column == self.VERDICT_COLUMN and role == Qt.ItemDataRole.BackgroundRole:
            return QColor(style.fill)
        if column == self.VERDICT_COLUMN and role == Qt.ItemDataRole.ForegroundRole:
            return _BADGE_TEXT
        if role == Qt.ItemDataRole.ToolTipRole:
            where = (
                f"{clean_text(answer.machine.name)}\n"
                f"Source: {clean_text(answer.machine.source_note, limit=600)}"
            )
            if fit is not None:
                words = fit_tooltip(fit.variant_id, fit, verdict_style(fit.verdict).words)
                where = f"{words}\n{where}"
            return plain_tip(where)
        if role == Qt.ItemDataRole.UserRole:
            return answer
        if role == VERDICT_ROLE:
            return verdict
        return None
