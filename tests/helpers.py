"""What many tests share: the recorded machines and the published JSON Schema.

One place instead of a copy per test module, and no test module importing another's helpers.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema

from llmcheck.resources import resource_path
from llmcheck.snapshot import SystemSnapshot, read_snapshot_file

DATA_DIR = Path(__file__).parent / "data"
SNAPSHOT_DIR = DATA_DIR / "snapshots"
SNAPSHOT_NAMES = (
    "cpu-laptop",
    "one-nvidia",
    "two-gpus",
    "apple-m2-max",
    "dgx-spark",
    "container-limited",
    "unknown-budget",
)


def snapshot_path(name: str) -> Path:
    """A recorded machine's file in tests/data/snapshots/."""
    return SNAPSHOT_DIR / f"{name}.json"


def read_snapshot_doc(name: str) -> dict[str, Any]:
    """One recorded snapshot file, parsed as JSON."""
    loaded: dict[str, Any] = json.loads(snapshot_path(name).read_text(encoding="utf-8"))
    return loaded


def recorded_machine(name: str) -> SystemSnapshot:
    """A recorded machine, read the way the CLI and the window read a --snapshot file."""
    return read_snapshot_file(snapshot_path(name))


def load_schema() -> dict[str, Any]:
    """The schema as shipped in resources/."""
    text = resource_path("json-schema", "llmcheck-report.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validator_for(definition: str | None = None, *, strict: bool = False) -> jsonschema.Validator:
    """A draft 2020-12 validator for the whole schema or one of its $defs.

    With ``strict``, every object in the schema refuses keys it does not document, so a test
    can prove the output has no undocumented field (the published schema stays open for
    additions, as the docs promise).
    """
    schema = load_schema()
    if strict:
        schema = _closed(schema)
    if definition is not None:
        schema = {
            "$schema": schema["$schema"],
            "$defs": schema["$defs"],
            "$ref": f"#/$defs/{definition}",
        }
    return jsonschema.Draft202012Validator(schema)


def _closed(node: Any) -> Any:
    node = copy.deepcopy(node)
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "properties" in item:
                item.setdefault("additionalProperties", False)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return node
