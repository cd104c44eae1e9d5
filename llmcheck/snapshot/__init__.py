"""The machine as the probe saw it: frozen value objects, and their JSON form.

The bottom layer: it imports nothing else from llmcheck. Every probe returns these types; the
estimator, the report, the CLI and the GUI read them. A snapshot written by ``llmcheck --json`` can
be read back with :func:`read_snapshot_file` / :func:`snapshot_from_dict`, so a machine can be
judged elsewhere.

Modules: ``types`` (the value objects), ``to_json`` (their JSON form), ``from_json`` (reading and
checking a document or a file).
"""

from __future__ import annotations

from llmcheck.snapshot.from_json import (
    inconsistencies,
    read_snapshot_file,
    snapshot_from_dict,
    snapshot_from_json_bytes,
)
from llmcheck.snapshot.to_json import (
    SnapshotError,
    gpu_to_dict,
    issue_to_dict,
    snapshot_to_dict,
    without_ids,
)
from llmcheck.snapshot.types import (
    MAX_PLAUSIBLE_BANDWIDTH_GB_S,
    MAX_PLAUSIBLE_BYTES,
    MAX_SNAPSHOT_FILE_BYTES,
    SNAPSHOT_SCHEMA_VERSION,
    CpuInfo,
    GpuInfo,
    GpuVendor,
    Issue,
    MemoryInfo,
    MemoryKind,
    MigInstance,
    OsInfo,
    Source,
    SystemSnapshot,
)

__all__ = [
    "MAX_PLAUSIBLE_BANDWIDTH_GB_S",
    "MAX_PLAUSIBLE_BYTES",
    "MAX_SNAPSHOT_FILE_BYTES",
    "SNAPSHOT_SCHEMA_VERSION",
    "CpuInfo",
    "GpuInfo",
    "GpuVendor",
    "Issue",
    "MemoryInfo",
    "MemoryKind",
    "MigInstance",
    "OsInfo",
    "SnapshotError",
    "Source",
    "SystemSnapshot",
    "gpu_to_dict",
    "inconsistencies",
    "issue_to_dict",
    "read_snapshot_file",
    "snapshot_from_dict",
    "snapshot_from_json_bytes",
    "snapshot_to_dict",
    "without_ids",
]
