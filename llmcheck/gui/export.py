"""The Markdown export: it lives in ``llmcheck.render.markdown`` (Qt-free); kept importable here."""

from __future__ import annotations

from llmcheck.render.markdown import report_markdown

__all__ = ["report_markdown"]
