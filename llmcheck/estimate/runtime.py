"""The runtime people use (issue #12): llama-server, llama-cpp-python, Ollama, LM Studio.

All four run llama.cpp, so one memory model serves them; what differs is the flags each passes
and its defaults, which this module turns into (a) the :class:`RunConfig` to estimate with
(:func:`runtime_config`), (b) the command that reproduces the estimate (:func:`runtime_command`)
and (c) the assumptions to show (:func:`runtime_assumptions`). Facts and their sources:
``docs/runtimes.md``.
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from enum import StrEnum

from llmcheck.catalog import ModelVariant
from llmcheck.estimate.types import Fit, FrontEnd, KvType, Placement, RunConfig

__all__ = [
    "OLLAMA_BATCH_BY_CONTEXT",
    "Runtime",
    "runtime_assumptions",
    "runtime_command",
    "runtime_config",
]


class Runtime(StrEnum):
    """Which program runs the model."""

    LLAMA_SERVER = "llama-server"  # the default: the command llama_cpp_command prints
    LLAMA_CPP_PYTHON = "llama-cpp-python"  # libllama from Python: a whole batch of logits
    OLLAMA = "ollama"
    LM_STUDIO = "lm-studio"


# Ollama (server/sched.go generationBatchForContext at ollama fb30760): the batch it passes to
# llama-server as -b and -ub, by context, when the GPU has the headroom (else 512 or 256).
OLLAMA_BATCH_BY_CONTEXT = ((4096, 512), (32768, 1024))
OLLAMA_BATCH_ABOVE = 2048

# llama-cpp-python's settings take the KV type as a ggml type id (ggml.h enum ggml_type).
_GGML_TYPE_ID = {KvType.F16: 1, KvType.Q8_0: 8, KvType.Q4_0: 2}


def runtime_config(config: RunConfig, runtime: Runtime) -> RunConfig:
    """``config`` as ``runtime`` actually runs it.

    llama-cpp-python reserves the logits of a whole micro-batch (``FrontEnd.LIBLLAMA``); Ollama
    raises its batch with the context (:data:`OLLAMA_BATCH_BY_CONTEXT`: a bigger compute
    buffer), and its ``-c`` is ``num_ctx`` x parallel (both kept as asked here: ``parallel``
    defaults to 1 in Ollama too). llama-server and LM Studio run it as given.
    """
    if runtime is Runtime.LLAMA_CPP_PYTHON:
        return replace(config, front_end=FrontEnd.LIBLLAMA)
    if runtime is Runtime.OLLAMA:
        batch = next(
            (b for limit, b in OLLAMA_BATCH_BY_CONTEXT if config.context_tokens <= limit),
            OLLAMA_BATCH_ABOVE,
        )
        return replace(config, ubatch=max(config.ubatch, batch), front_end=FrontEnd.LLAMA_SERVER)
    return replace(config, front_end=FrontEnd.LLAMA_SERVER)


def runtime_command(
    fit: Fit, variant: ModelVariant, runtime: Runtime, *, model_file: str | None = None
) -> str:
    """The command (or commands, one per line) that runs ``fit`` in ``runtime``.

    ``model_file``: the user's own GGUF (a path), else the published file of ``variant``. For
    llama-server this is ``fit.llama_cpp_command`` itself.
    """
    if runtime is Runtime.LLAMA_SERVER:
        return fit.llama_cpp_command
    c = fit.config
    ngl = fit.gpu_layers if fit.gpu_layers is not None else 0
    if runtime is Runtime.LLAMA_CPP_PYTHON:
        parts = ["python", "-m", "llama_cpp.server"]
        if model_file is not None:
            parts += ["--model", shlex.quote(model_file)]
        else:
            parts += [
                "--hf_model_repo_id",
                variant.hf_repo,
                "--model",
                variant.gguf_file_name(fit.quant),
            ]
        parts += [
            "--n_ctx",
            str(c.context_tokens),
            "--n_gpu_layers",
            str(ngl),
            "--n_ubatch",
            str(c.ubatch),
            "--flash_attn",
            "true" if c.flash_attn else "false",
        ]
        if KvType(c.kv_type) is not KvType.F16:
            type_id = str(_GGML_TYPE_ID[KvType(c.kv_type)])
            parts += ["--type_k", type_id, "--type_v", type_id]
        return " ".join(parts)
    if runtime is Runtime.OLLAMA:
        env = [f"OLLAMA_FLASH_ATTENTION={1 if c.flash_attn else 0}"]
        if KvType(c.kv_type) is not KvType.F16:
            env.append(f"OLLAMA_KV_CACHE_TYPE={c.kv_type}")
        if c.parallel != 1:
            env.append(f"OLLAMA_NUM_PARALLEL={c.parallel}")
        serve = " ".join([*env, "ollama", "serve"])
        params = [f"PARAMETER num_ctx {c.context_tokens}"]
        if fit.placement is not Placement.NONE:
            params.append(f"PARAMETER num_gpu {ngl}")
        if model_file is not None:
            lines = " ".join(shlex.quote(line) for line in [f"FROM {model_file}", *params])
            name = _ollama_name(variant)
            return (
                f"{serve}\n"
                f"printf '%s\\n' {lines} > Modelfile && ollama create {name} -f Modelfile"
                f" && ollama run {name}"
            )
        sets = " then ".join(f"/set parameter {p.split(' ', 1)[1]}" for p in params)
        return f"{serve}\nollama run hf.co/{variant.hf_repo}:{fit.quant}   (then {sets})"
    # LM Studio: lms load takes a path in its models folder (publisher/repo/file).
    target = model_file or f"{variant.hf_repo}/{variant.gguf_file_name(fit.quant)}"
    if fit.placement is Placement.CPU or ngl == 0:
        gpu = "off"
    elif ngl >= fit.offloadable_layers:
        gpu = "max"
    else:
        gpu = f"{ngl / fit.offloadable_layers:.2f}"
    return f"lms load {shlex.quote(target)} --context-length {c.context_tokens} --gpu {gpu}"


def runtime_assumptions(fit: Fit, runtime: Runtime) -> tuple[str, ...]:
    """What the estimate assumes of ``runtime`` beyond llama.cpp's rules (docs/runtimes.md)."""
    out: list[str] = []
    if runtime is Runtime.LLAMA_SERVER:
        return ()
    out.append(f"{runtime}: memory from llama.cpp's rules, the engine {runtime} runs")
    if runtime is Runtime.LLAMA_CPP_PYTHON:
        out.append(
            "llama-cpp-python reserves the logits of a whole micro-batch (n_ubatch x vocabulary "
            "floats), more than llama-server's one token per sequence"
        )
    elif runtime is Runtime.OLLAMA:
        out.append(
            "Ollama without num_ctx uses 4,096 tokens (32,768 from 23 GiB of VRAM, 262,144 from "
            "47 GiB): set it as shown; -c is num_ctx x OLLAMA_NUM_PARALLEL (default 1)"
        )
        out.append(
            f"Ollama's batch for this context: -b/-ub {fit.config.ubatch} (512 up to 4K, 1,024 "
            "up to 32K, 2,048 above, when the GPU has the headroom)"
        )
        out.append("Ollama picks -ngl itself unless num_gpu is set (set as shown)")
    else:
        out.append(
            "LM Studio's --gpu is a fraction of the layers; its own defaults (context, flash "
            "attention, KV type) are set in its load settings, assumed as in the command"
        )
    if fit.n_cpu_moe:
        out.append(
            f"{runtime} has no --n-cpu-moe: run llama-server for the experts-in-RAM placement, "
            "or expect a layer split"
        )
    return tuple(out)


def _ollama_name(variant: ModelVariant) -> str:
    return "".join(ch if ch.isalnum() or ch in "-._" else "-" for ch in variant.id.lower())
