"""What llama.cpp will allocate for an LFM2 model, where, and whether this machine holds it.

Pure functions: dataclasses in, dataclasses out; no I/O, no logging, no global state, no work at
import. The rules follow llama.cpp at commit 0c1e57098 (vendored in llama-cpp-python 0.3.36); the
facts they rest on, with their sources, are in ``docs/llama-cpp-memory.md``.

Modules, each importing only those below it (an import-linter contract keeps it so):

* :mod:`~llmcheck.estimate.from_gguf` (:func:`estimate_file`, :func:`pair_projector`: a GGUF
  file as the question) and :mod:`~llmcheck.estimate.runtime` (:func:`runtime_config`,
  :func:`runtime_command`, :func:`runtime_assumptions`: llama-server, llama-cpp-python, Ollama,
  LM Studio), over the entry points;
* :mod:`~llmcheck.estimate.api`: :func:`estimate`, :func:`estimate_all`, :func:`best_quant`,
  :func:`max_context`;
* :mod:`~llmcheck.estimate.context`: the largest-context search;
* :mod:`~llmcheck.estimate.placement` (where the layers go, VERDICT_RULES),
  :mod:`~llmcheck.estimate.speed` (tokens per second), :mod:`~llmcheck.estimate.command`
  (the llama-server command and the assumptions);
* :mod:`~llmcheck.estimate.budget`: what each device may hold;
* :mod:`~llmcheck.estimate.moe_offload`: MoE experts in RAM (``--n-cpu-moe``), read by
  placement and api;
* :mod:`~llmcheck.estimate.memory` (the memory terms) and :mod:`~llmcheck.estimate.weights`
  (weights, file size, CPU repacking);
* :mod:`~llmcheck.estimate.types`: the value types, standard library only.

Importing the package loads the value types only; the functions load their modules (and the
catalog code) on first use, so ``from llmcheck.estimate import RunConfig`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from llmcheck.estimate.types import (
    DeviceBudget,
    DeviceUse,
    Fit,
    FrontEnd,
    KvType,
    Limit,
    MemoryTerms,
    Placement,
    RunConfig,
    SpeedRange,
    Verdict,
)

if TYPE_CHECKING:
    from llmcheck.estimate.api import best_quant, estimate, estimate_all, max_context
    from llmcheck.estimate.budget import budgets
    from llmcheck.estimate.from_gguf import estimate_file, file_question, pair_projector
    from llmcheck.estimate.memory import compute_bytes, kv_cache_bytes
    from llmcheck.estimate.runtime import runtime_assumptions, runtime_command, runtime_config
    from llmcheck.estimate.speed import decode_bytes_per_token
    from llmcheck.estimate.weights import file_size_bytes, repack_mode

# The functions, by the module that defines them (loaded on first use, PEP 562).
_FUNCTIONS = {
    "best_quant": "api",
    "estimate": "api",
    "estimate_all": "api",
    "max_context": "api",
    "budgets": "budget",
    "estimate_file": "from_gguf",
    "file_question": "from_gguf",
    "pair_projector": "from_gguf",
    "runtime_assumptions": "runtime",
    "runtime_command": "runtime",
    "runtime_config": "runtime",
    "compute_bytes": "memory",
    "kv_cache_bytes": "memory",
    "decode_bytes_per_token": "speed",
    "file_size_bytes": "weights",
    "repack_mode": "weights",
}


def __getattr__(name: str) -> object:
    """Load one of the functions of ``__all__`` from its module on first use."""
    module = _FUNCTIONS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


__all__ = [
    "DeviceBudget",
    "DeviceUse",
    "Fit",
    "FrontEnd",
    "KvType",
    "Limit",
    "MemoryTerms",
    "Placement",
    "RunConfig",
    "SpeedRange",
    "Verdict",
    "best_quant",
    "budgets",
    "compute_bytes",
    "decode_bytes_per_token",
    "estimate",
    "estimate_all",
    "estimate_file",
    "file_question",
    "file_size_bytes",
    "kv_cache_bytes",
    "max_context",
    "pair_projector",
    "repack_mode",
    "runtime_assumptions",
    "runtime_command",
    "runtime_config",
]
