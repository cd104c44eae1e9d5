"""A context above the model's own maximum is answered for that maximum, never beyond it."""

from __future__ import annotations

import json
from pathlib import Path

from llmcheck.catalog import load_catalog
from llmcheck.estimate import RunConfig, estimate
from llmcheck.snapshot import snapshot_from_dict

SNAPSHOTS = Path(__file__).parent / "data" / "snapshots"


def test_128k_in_a_chooser_means_the_models_128000() -> None:
    snap = snapshot_from_dict(json.loads((SNAPSHOTS / "one-nvidia.json").read_text("utf-8")))
    variant = load_catalog().variant("lfm2-1.2b")
    assert variant.gguf_context_tokens == 128000
    above = estimate(variant, "Q4_K_M", RunConfig(context_tokens=131072), snap)
    at_max = estimate(variant, "Q4_K_M", RunConfig(context_tokens=128000), snap)
    assert above.config.context_tokens == 128000
    assert above.total_bytes == at_max.total_bytes
    assert " -c 128000 " in above.llama_cpp_command
    below = estimate(variant, "Q4_K_M", RunConfig(context_tokens=65536), snap)
    assert below.config.context_tokens == 65536
    assert below.total_bytes < at_max.total_bytes


def test_recommendation_stops_at_q8_0_quality() -> None:
    """A 1.2B that fits at F16 is still recommended at Q8_0: same quality, half the memory."""
    from llmcheck.estimate import Verdict, best_quant

    snap = snapshot_from_dict(json.loads((SNAPSHOTS / "one-nvidia.json").read_text("utf-8")))
    variant = load_catalog().variant("lfm2-1.2b")
    config = RunConfig(context_tokens=4096)
    assert estimate(variant, "F16", config, snap).verdict is Verdict.RUNS_GREAT
    assert best_quant(variant, snap, config) == "Q8_0"
