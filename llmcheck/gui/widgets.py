"""Small custom widgets: the context control, the stacked memory bar, and the verdict palette."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPalette, QPen, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from llmcheck.units import format_bytes

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency. Black text stays readable (contrast >= 4.5:1) on each of the fills used below.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#BBBBBB",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class VerdictStyle:
    """How one verdict looks: a symbol and words (readable without colour) and a fill."""

    symbol: str
    words: str
    fill: str

    @property
    def badge(self) -> str:
        """The symbol and words together, as a grid cell shows them."""
        return f"{self.symbol} {self.words}"


# Keyed by the Verdict enum's string values, so this module needs no estimator import.
VERDICT_STYLES: dict[str, VerdictStyle] = {
    "runs_great": VerdictStyle(symbol="✓", words="Runs great", fill=OKABE_ITO["bluish_green"]),
    "tight": VerdictStyle(symbol="▲", words="Tight", fill=OKABE_ITO["orange"]),
    "wont_fit": VerdictStyle(symbol="✗", words="Won't fit", fill=OKABE_ITO["vermillion"]),
    "unknown": VerdictStyle(symbol="?", words="Unknown", fill=OKABE_ITO["grey"]),
}


def verdict_style(verdict: object) -> VerdictStyle:
    """The style of a verdict (an unknown value falls back to "unknown")."""
    return VERDICT_STYLES.get(str(verdict), VERDICT_STYLES["unknown"])


# The longest context any LFM2 / LFM2.5 GGUF takes (the catalog's gguf_context_tokens: 128,000,
# not 131,072). The control's top step is this, so the grid answers for exactly the context it
# shows; the estimator caps a larger one at each model's own maximum anyway.
MAX_CONTEXT_TOKENS = 128_000

# llmcheck's context steps: powers of two and 3 * 2^k from 2K to 96K, then the models' maximum.
CONTEXT_STEPS: tuple[int, ...] = (
    *sorted({2**k for k in range(11, 17)} | {3 * 2**k for k in range(10, 16)}),
    MAX_CONTEXT_TOKENS,
)


def context_label(tokens: int) -> str:
    """ "4K", "48K" (K = 1,024), or the plain count: "128,000", not "125K", for a round
    decimal count (LFM2's maximum), and "5,000" for a count that is no whole K."""
    if tokens % 1024 == 0 and tokens % 1000 != 0:
        return f"{tokens // 1024}K"
    return f"{tokens:,}"


def context_step_label(tokens: int) -> str:
    """A step as the context drop-down lists it, the same count as everywhere else: "4,096",
    ..., "98,304", "128,000"."""
    return f"{tokens:,}"


def snap_context(tokens: int) -> int:
    """The context step nearest to ``tokens`` on a log scale."""
    target = math.log(max(tokens, 1))
    return min(CONTEXT_STEPS, key=lambda step: abs(math.log(step) - target))


class ContextControl(QWidget):
    """A log-scaled context slider (2K up to the models' 128,000) with a matching drop-down."""

    context_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._label = QLabel("&Context:")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, len(CONTEXT_STEPS) - 1)
        self.slider.setPageStep(2)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(2)
        self.slider.setAccessibleName("Context length slider")
        tip = (
            "Context length in tokens (log scale: powers of two and 3 x 2^k; K = 1,024). The top"
            f" step is {MAX_CONTEXT_TOKENS:,} tokens, the longest context LFM2 models take."
        )
        self.slider.setToolTip(tip)
        self.slider.setMinimumWidth(100)
        self.combo = QComboBox()
        self.combo.setAccessibleName("Context length")
        self.combo.setToolTip(tip)
        for step in CONTEXT_STEPS:
            self.combo.addItem(context_step_label(step), step)
            self.combo.setItemData(
                self.combo.count() - 1, f"{step:,} tokens", Qt.ItemDataRole.ToolTipRole
            )
        self._label.setBuddy(self.combo)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.combo)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.combo.currentIndexChanged.connect(self._on_combo_index_changed)
        self.set_context(4096)

    def context_tokens(self) -> int:
        """The chosen context, in tokens."""
        return CONTEXT_STEPS[self.slider.value()]

    def set_context(self, tokens: int) -> None:
        """Show ``tokens`` (snapped to the nearest step); emits context_changed if it moved."""
        self.slider.setValue(CONTEXT_STEPS.index(snap_context(tokens)))

    def _on_slider_value_changed(self, index: int) -> None:
        if self.combo.currentIndex() != index:
            self.combo.setCurrentIndex(index)
        self.context_changed.emit(CONTEXT_STEPS[index])

    def _on_combo_index_changed(self, index: int) -> None:
        if index >= 0 and self.slider.value() != index:
            self.slider.setValue(index)


@dataclass(frozen=True, slots=True, kw_only=True)
class BarSegment:
    """One term of the stacked memory bar."""

    label: str
    size_bytes: int
    colour: str


TERM_COLOURS = {
    "weights": OKABE_ITO["blue"],
    "kv_cache": OKABE_ITO["orange"],
    "recurrent_state": OKABE_ITO["reddish_purple"],
    "compute": OKABE_ITO["sky_blue"],
    "output": OKABE_ITO["yellow"],
    "overhead": "#999999",
}


TERM_WORDS = {
    "weights": "weights",
    "kv_cache": "KV cache",
    "recurrent_state": "conv state",
    "compute": "compute",
    "output": "output",
    "overhead": "overhead",
}


def plain_tip(text: str) -> str:
    """A tooltip that shows ``text`` literally: Qt renders a tooltip that looks like HTML as
    rich text, so text that carries machine or file data is escaped first."""
    return Qt.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpaceNormal)


class MemoryBar(QWidget):
    """A stacked bar of memory terms against a device budget, drawn with QPainter."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._segments: tuple[BarSegment, ...] = ()
        self._budget_bytes: int | None = None
        self._title = ""
        self.setMinimumHeight(54)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Memory needed against the device budget")

    def set_data(
        self, title: str, segments: tuple[BarSegment, ...], budget_bytes: int | None
    ) -> None:
        """Show these segments against this budget (None: the budget is unknown)."""
        self._title = title
        self._segments = tuple(s for s in segments if s.size_bytes > 0)
        self._budget_bytes = budget_bytes
        total = sum(s.size_bytes for s in self._segments)
        parts = ", ".join(f"{s.label} {format_bytes(s.size_bytes)}" for s in self._segments)
        words = f"{title}: needs {format_bytes(total)} of {format_bytes(budget_bytes)}\n{parts}"
        if budget_bytes is not None and total > budget_bytes:
            words = f"{format_bytes(total - budget_bytes)} short. {words}"
        self.setToolTip(plain_tip(words))
        self.setAccessibleDescription(words)
        self.update()

    def over_budget(self) -> bool:
        """The segments add up to more than the budget."""
        total = sum(s.size_bytes for s in self._segments)
        return self._budget_bytes is not None and total > self._budget_bytes

    def segments(self) -> tuple[BarSegment, ...]:
        """What the bar shows now."""
        return self._segments

    def sizeHint(self) -> QSize:
        return QSize(360, 54)

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text_colour = pal.color(QPalette.ColorRole.WindowText)
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        metrics = painter.fontMetrics()
        title_h = metrics.height() + 2
        bar = QRectF(rect.left(), rect.top() + title_h, rect.width(), rect.height() - title_h - 2)
        total = sum(s.size_bytes for s in self._segments)
        scale_max = max(total, self._budget_bytes or 0, 1)
        painter.setPen(text_colour)
        used = format_bytes(total) if self._segments else "nothing to show"
        # The numbers keep their place at the right; a long device name gives way ("…").
        amount = f"{used} of {format_bytes(self._budget_bytes)} budget"
        if self.over_budget():
            amount = f"✗ {format_bytes(total - (self._budget_bytes or 0))} short · {amount}"
        amount_w = metrics.horizontalAdvance(amount)
        title_rect = QRectF(rect.left(), rect.top(), rect.width(), title_h)
        painter.drawText(
            title_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, amount
        )
        title = metrics.elidedText(
            self._title, Qt.TextElideMode.ElideRight, max(0, int(rect.width()) - amount_w - 12)
        )
        painter.drawText(
            title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(pal.color(QPalette.ColorRole.AlternateBase))
        painter.drawRect(bar)
        x = bar.left()
        for segment in self._segments:
            width = bar.width() * segment.size_bytes / scale_max
            painter.setBrush(QColor(segment.colour))
            painter.drawRect(QRectF(x, bar.top(), width, bar.height()))
            x += width
        if self.over_budget() and self._budget_bytes is not None:
            # What does not fit: hatched in vermillion, beyond the budget line, so it reads
            # as "over" without colour too.
            bx = bar.left() + bar.width() * self._budget_bytes / scale_max
            over = QRectF(bx, bar.top(), bar.right() - bx, bar.height())
            painter.setBrush(QColor(OKABE_ITO["vermillion"]))
            painter.drawRect(over)
            painter.setBrush(QBrush(QColor("#000000"), Qt.BrushStyle.BDiagPattern))
            painter.drawRect(over)
        if self._budget_bytes is not None:
            bx = bar.left() + bar.width() * self._budget_bytes / scale_max
            painter.setPen(QPen(text_colour, 2, Qt.PenStyle.DashLine))
            painter.drawLine(int(bx) - 1, int(bar.top()) - 2, int(bx) - 1, int(bar.bottom()) + 2)
        painter.setPen(QPen(text_colour, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(bar)
        painter.end()


class BadgeDelegate(QStyledItemDelegate):
    """Paints a cell as its badge: the fill stays when selected, a thick frame marks the choice.

    Qt's default delegate paints the selection colour over the fill, which would hide the
    verdict's colour exactly on the cell the user is looking at.
    """

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: object) -> None:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        plain = QStyleOptionViewItem(option)
        if selected:
            plain.state &= ~QStyle.StateFlag.State_Selected
        super().paint(painter, plain, index)  # type: ignore[arg-type]
        if selected:
            painter.save()
            painter.setPen(QPen(option.palette.color(QPalette.ColorRole.WindowText), 3))
            painter.drawRect(option.rect.adjusted(1, 1, -2, -2))
            painter.restore()
