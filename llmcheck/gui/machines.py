"""Moved to :mod:`llmcheck.machines` (not Qt); kept so older imports keep working."""

from __future__ import annotations

from llmcheck.machines import (
    GIB,
    CatalogMachine,
    MachineCatalogError,
    load_machines,
    machine_snapshot,
)

__all__ = ["GIB", "CatalogMachine", "MachineCatalogError", "load_machines", "machine_snapshot"]
