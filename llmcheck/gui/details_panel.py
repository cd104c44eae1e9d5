"""The details of one grid cell: the verdict, the llama.cpp command (or, for a configuration
that will not run, the nearest ones that do), memory bars and the verdict's sentences."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from llmcheck.gui.widgets import TERM_COLOURS, TERM_WORDS, BarSegment, MemoryBar, verdict_style
from llmcheck.render.sentences import (
    context_words,
    max_context_words,
    placement_words,
    short_words,
    speed_basis,
    speed_long,
)
from llmcheck.units import clean_text, format_bytes

if TYPE_CHECKING:
    from llmcheck.catalog import ModelVariant
    from llmcheck.estimate import DeviceUse, Fit

NO_CELL = "Choose a cell of the grid to see its details."
NO_COMMAND = "No command: this will not run here"
# Details shown as a paragraph across the panel rather than in the form's narrow value column.
WIDE_DETAILS = frozenset({"basis"})
DETAILS = (
    ("verdict", "Verdict"),
    ("memory", "Memory needed"),
    ("max_context", "Largest context that fits"),
    ("best_quant", "Recommended quant"),
    ("download", "Download size"),
    ("speed", "Speed"),
    ("basis", "Why this speed"),
    ("placement", "Placement"),
    ("reason", "Why"),
)


class DetailsPanel(QScrollArea):
    """One fit in words. Every label is plain text: names and reasons may carry machine data.

    ``command_copied`` says the llama.cpp command is on the clipboard.
    """

    command_copied = Signal(str)
    alternative_chosen = Signal(int)  # the index of a line of "What would fit"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        page = QWidget()
        layout = QVBoxLayout(page)
        self.title = QLabel(NO_CELL)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.title.setAccessibleName("Selected model and quantization")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        layout.addWidget(self.title)
        # The verdict in a line, with how short a configuration that won't fit is.
        self.verdict_line = QLabel("")
        self.verdict_line.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict_line.setWordWrap(True)
        self.verdict_line.setAccessibleName("Verdict in words")
        layout.addWidget(self.verdict_line)
        # The command comes first, where a small screen still shows it.
        command_row = QHBoxLayout()
        self.command_edit = QLineEdit()
        self.command_edit.setReadOnly(True)
        self.command_edit.setAccessibleName("llama.cpp command")
        self.command_edit.setPlaceholderText("llama.cpp command")
        self.copy_button = QPushButton("&Copy")
        self.copy_button.setAccessibleName("Copy the llama.cpp command")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        command_row.addWidget(self.command_edit, 1)
        command_row.addWidget(self.copy_button)
        self.command_title = QLabel("llama.cpp command:")
        layout.addWidget(self.command_title)
        layout.addLayout(command_row)
        # For a configuration that will not run: the nearest that do, as links.
        self.alternatives_label = QLabel("")
        self.alternatives_label.setTextFormat(Qt.TextFormat.RichText)
        self.alternatives_label.setWordWrap(True)
        self.alternatives_label.setAccessibleName("What would fit")
        self.alternatives_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.alternatives_label.linkActivated.connect(self._on_alternative_link)
        self.alternatives_label.hide()
        layout.addWidget(self.alternatives_label)
        self.bars_box = QVBoxLayout()
        layout.addLayout(self.bars_box)
        self.bars: list[MemoryBar] = []
        # Fixed text of our own: rich text for the coloured squares.
        self.bar_legend = QLabel(
            "  ".join(
                f'<span style="color:{colour};">■</span> {TERM_WORDS[name]}'
                for name, colour in TERM_COLOURS.items()
            )
            + "  ┆ budget"
        )
        self.bar_legend.setTextFormat(Qt.TextFormat.RichText)
        self.bar_legend.setWordWrap(True)
        layout.addWidget(self.bar_legend)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.labels: dict[str, QLabel] = {}
        for key, text in DETAILS:
            label = QLabel("—")
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setAccessibleName(text)
            self.labels[key] = label
            if key in WIDE_DETAILS:
                # A paragraph: the whole width of the panel, its name at its start.
                label.setText(f"{text}: —")
                form.addRow(label)
            else:
                form.addRow(f"{text}:", label)
        layout.addLayout(form)
        self.assumptions_label = QLabel("")
        self.assumptions_label.setTextFormat(Qt.TextFormat.PlainText)
        self.assumptions_label.setWordWrap(True)
        self.assumptions_label.setAccessibleName("Assumptions")
        layout.addWidget(self.assumptions_label)
        layout.addStretch(1)
        # Long speed bases and assumption lists scroll rather than being cut off.
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(page)

    def clear(self) -> None:
        """No cell chosen."""
        self._set_bars(())
        self.title.setText(NO_CELL)
        for key, label in self.labels.items():
            label.setText(f"{label.accessibleName()}: —" if key in WIDE_DETAILS else "—")
            label.setToolTip("")
        self.command_edit.clear()
        self.command_edit.setPlaceholderText("llama.cpp command")
        self.copy_button.setEnabled(False)
        self.assumptions_label.clear()
        self.verdict_line.clear()
        self.show_alternatives(())

    def show_fit(
        self, variant: ModelVariant, fit: Fit, *, best_text: str, bandwidth_note: str
    ) -> None:
        """Show one fit; ``best_text`` and ``bandwidth_note`` are the window's sentences.

        A new cell starts at the top of the details. A configuration that will not run shows
        no command to copy; ``show_alternatives`` lists what would.
        """
        self.verticalScrollBar().setValue(0)
        self._set_bars(fit.devices)
        self.title.setText(
            f"{variant.name} · {fit.quant} · {context_words(fit.config.context_tokens)}"
        )
        labels = self.labels
        if str(fit.verdict) == "unknown":
            # No budget to judge against: "none fits" would be a verdict llmcheck did not reach.
            best_text = "unknown: the memory budget could not be read"
        labels["verdict"].setText(verdict_style(fit.verdict).badge)
        labels["memory"].setText(format_bytes(fit.total_bytes))
        labels["max_context"].setText(max_context_words(fit))
        labels["best_quant"].setText(best_text)
        labels["download"].setText(format_bytes(fit.file_size_bytes))
        labels["speed"].setText(speed_long(fit))
        labels["basis"].setText(f"Why this speed: {speed_basis(fit, variant, bandwidth_note)}")
        labels["basis"].setToolTip(
            f"The estimator's basis: {clean_text(fit.speed.basis, limit=600)}"
            if fit.speed is not None
            else ""
        )
        labels["placement"].setText(placement_words(fit, variant.architecture.n_layer + 1))
        labels["reason"].setText(clean_text(fit.reason, limit=600) if fit.reason else "—")
        wont_fit = str(fit.verdict) == "wont_fit"
        short = short_words(fit)
        self.verdict_line.setText(
            f"{verdict_style(fit.verdict).badge}"
            + (f": {short}" if short else "")
            + (f" · {speed_long(fit)}" if not wont_fit else "")
        )
        command = "" if wont_fit else fit.llama_cpp_command
        self.command_edit.setText(command)
        self.command_edit.setPlaceholderText(NO_COMMAND if wont_fit else "llama.cpp command")
        self.command_edit.setCursorPosition(0)
        self.copy_button.setEnabled(bool(command))
        if not wont_fit:
            self.show_alternatives(())
        self.assumptions_label.setText(
            "Assumptions: " + "; ".join(fit.assumptions) if fit.assumptions else ""
        )

    def show_alternatives(self, lines: Sequence[str]) -> None:
        """The nearest configurations that fit, as links (none: hidden)."""
        if not lines:
            self.alternatives_label.clear()
            self.alternatives_label.hide()
            return
        items = "".join(
            f'<li><a href="alt:{i}">{html.escape(line)}</a></li>' for i, line in enumerate(lines)
        )
        self.alternatives_label.setText(f"<b>What would fit:</b><ul>{items}</ul>")
        self.alternatives_label.show()

    def _on_alternative_link(self, link: str) -> None:
        number = link.removeprefix("alt:")
        if number.isdigit():
            self.alternative_chosen.emit(int(number))

    def _set_bars(self, devices: tuple[DeviceUse, ...]) -> None:
        for bar in self.bars:
            self.bars_box.removeWidget(bar)
            bar.hide()
            bar.deleteLater()
        self.bars = []
        for use in devices:
            bar = MemoryBar()
            terms = use.terms
            bar.set_data(
                clean_text(use.name) if use.name else use.device,
                (
                    # The CPU's repacked copies (AMX / CPU_REPACK) are weights to the eye.
                    BarSegment(
                        label="weights",
                        size_bytes=terms.weights_bytes + terms.repack_bytes,
                        colour=TERM_COLOURS["weights"],
                    ),
                    BarSegment(
                        label="KV cache",
                        size_bytes=terms.kv_cache_bytes,
                        colour=TERM_COLOURS["kv_cache"],
                    ),
                    BarSegment(
                        label="conv state",
                        size_bytes=terms.recurrent_state_bytes,
                        colour=TERM_COLOURS["recurrent_state"],
                    ),
                    BarSegment(
                        label="compute",
                        size_bytes=terms.compute_bytes,
                        colour=TERM_COLOURS["compute"],
                    ),
                    BarSegment(
                        label="output", size_bytes=terms.output_bytes, colour=TERM_COLOURS["output"]
                    ),
                    BarSegment(
                        label="overhead",
                        size_bytes=terms.overhead_bytes,
                        colour=TERM_COLOURS["overhead"],
                    ),
                ),
                use.budget_bytes,
            )
            self.bars_box.addWidget(bar)
            self.bars.append(bar)

    def _on_copy_button_clicked(self) -> None:
        self.command_copied.emit(self.command_edit.text())
