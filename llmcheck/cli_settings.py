"""The command line's settings and question, checked before the machine is read.

``llmcheck.cli`` wires these into ``main``; each raises :class:`UsageError` (one line on stderr,
exit 2) for input that cannot be right, so a typo fails before a probe starts.
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from llmcheck.machine_spec import (
    Overrides,
    SpecError,
    parse_bandwidth,
    parse_gpu_memory,
    parse_size,
)
from llmcheck.snapshot import SystemSnapshot
from llmcheck.units import clean_text

if TYPE_CHECKING:
    from llmcheck.catalog import Catalog, ModelVariant
    from llmcheck.estimate import RunConfig

MAX_PARALLEL = 256
MAX_UBATCH = 65536
MAX_GPU_LAYERS = 9999  # llama.cpp reads "-ngl 999" as "every layer"; RunConfig's bound
MAX_MIN_SPEED = 100_000  # tok/s; RunConfig's bound
# Without a model to bound it (the whole-machine report), a context above this is a typo.
MAX_CONTEXT_TOKENS_ANY = 1 << 24
# `--ctx max`: larger than any model's context, so the estimator answers for each model's own
# maximum (it caps a context above the GGUF's context_length); check_settings knows the spelling.
CONTEXT_MAX = MAX_CONTEXT_TOKENS_ANY


class UsageError(Exception):
    """Bad usage or input: reported as one line on stderr, exit 2."""


# More digits than any context length needs (MAX_CONTEXT_TOKENS_ANY has far fewer).
_MAX_CONTEXT_DIGITS = 15


def parse_context(text: str) -> int:
    """A context length: "32768", "32k", "32K" (k = 1024, as llama.cpp users write it), or "max".

    "max" is each model's own longest context (its GGUF context_length: 128,000 for LFM2, which
    is less than "128k" = 131,072); it parses to :data:`CONTEXT_MAX`.

    Raises:
        UsageError: not a positive whole number of tokens.
    """
    if text.strip().lower() == "max":
        return CONTEXT_MAX
    match = re.fullmatch(r"\s*(\d+)\s*([kK]?)\s*", text)
    if match is None:
        raise UsageError(f"--ctx: {text!r} is not a context length (write e.g. 4096, 32k or max)")
    digits = match.group(1).lstrip("0") or "0"
    if len(digits) > _MAX_CONTEXT_DIGITS:
        # Checked before int(): Python refuses to parse more than 4,300 digits (ValueError).
        shown = f"{text.strip()[:20]}... ({len(text.strip())} characters)"
        raise UsageError(f"--ctx: {shown} is larger than any model supports")
    tokens = int(digits) * (1024 if match.group(2) else 1)
    if tokens <= 0:
        raise UsageError(f"--ctx: the context must be at least 1 token, got {text!r}")
    if tokens > MAX_CONTEXT_TOKENS_ANY:
        raise UsageError(f"--ctx: {text!r} ({tokens} tokens) is larger than any model supports")
    return tokens


MAX_THREADS = 1024  # RunConfig's bound


def _positive(name: str, text: str, maximum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{name}: {text!r} is not a whole number") from None
    if not 1 <= value <= maximum:
        raise UsageError(f"{name}: must be from 1 to {maximum}, got {value}")
    return value


def find_variant(catalog: Catalog, wanted: str) -> ModelVariant:
    """The variant a name means (:func:`find_question` without the quant)."""
    return find_question(catalog, wanted, None)[0]


def find_question(
    catalog: Catalog, wanted: str, quant: str | None
) -> tuple[ModelVariant, str | None]:
    """The variant and quant that a pasted name (and ``-q``) ask about, resolved offline.

    ``wanted`` is anything :func:`llmcheck.names.resolve` reads: a catalog id or name,
    ``hf.co/ORG/REPO:QUANT``, ``ORG/REPO[-GGUF]``, a GGUF file name, an Ollama tag. The quant
    comes from the name when it holds one; given both ways, they must agree.

    Raises:
        UsageError: an unknown name (suggestions ranked exact / longest match first), or a
            quant in the name that ``-q`` contradicts.
    """
    from llmcheck.names import NameNotFound, parse_quant, resolve

    try:
        found = resolve(wanted, catalog)
    except NameNotFound as exc:
        hint = (
            f"; did you mean {', '.join(exc.suggestions)}?"
            if exc.suggestions
            else "; see `llmcheck list`"
        )
        raise UsageError(f"unknown variant {clean_text(wanted, limit=80)!r}{hint}") from None
    variant = catalog.variant(found.variant_id)
    named = found.quant
    if quant is not None and named is not None:
        asked = parse_quant(quant) or quant.strip().upper()
        if asked != named:
            raise UsageError(
                f"the name says {named} and -q says {clean_text(quant, limit=40)}: give one of them"
            )
    return variant, named if named is not None else quant


def find_quant(catalog: Catalog, variant: ModelVariant, wanted: str | None) -> str:
    """The quant name (as the catalog spells it) to answer ``variant`` in.

    Every quant whose size llama-quantize's rules give is answered: the ones Liquid AI
    publishes and the community ones (Q3_K_M, Q2_K, IQ4_XS ...; :func:`is_published` tells them
    apart).

    Raises:
        UsageError: no quant given, or one llmcheck cannot size.
    """
    from llmcheck.catalog import community_quants

    if wanted is None:
        raise UsageError(
            f"which quantization? add -q QUANT (or :QUANT to the name); {variant.name} is"
            f" published in {', '.join(variant.quants)}"
        )
    key = wanted.strip().upper()
    for q in (*variant.quants, *community_quants(variant)):
        if q.upper() == key:
            return q
    if key.startswith("UD-"):
        raise UsageError(
            f'{clean_text(wanted, limit=40)} is a mixed ("dynamic") quant: its size depends on'
            " the file; give the .gguf file's path instead of the name"
        )
    sizable = [*variant.quants, *community_quants(variant)]
    close = difflib.get_close_matches(key, sizable, n=3, cutoff=0.5)
    close += [q for q in sizable if q.startswith(key) and q not in close][:3]
    hint = (
        f"; did you mean {' or '.join(close)}?"
        if close
        else f"; {variant.name} is published in {', '.join(variant.quants)}"
    )
    raise UsageError(f"unknown quantization {clean_text(wanted, limit=40)!r}{hint}")


def check_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The run settings given on the command line, checked for form and range (no model yet).

    Called before the machine is probed, so a typo fails at once.

    Raises:
        UsageError: a value that is not a number, or out of range.
    """
    fields: dict[str, Any] = {}
    if args.ctx is not None:
        fields["context_tokens"] = parse_context(args.ctx)
    if args.kv_type is not None:
        fields["kv_type"] = args.kv_type
    if args.flash_attn is not None:
        fields["flash_attn"] = args.flash_attn == "on"
    if args.parallel is not None:
        fields["parallel"] = _positive("--parallel", args.parallel, MAX_PARALLEL)
    if args.ubatch is not None:
        fields["ubatch"] = _positive("--ubatch", args.ubatch, MAX_UBATCH)
    if args.device is not None:
        device = args.device.strip().lower()
        if device not in ("auto", "cpu") and re.fullmatch(r"gpu:\d+", device) is None:
            raise UsageError(f"--device: {args.device!r} is not auto, cpu or gpu:I (e.g. gpu:0)")
        fields["device"] = device
    if args.ngl is not None:
        try:
            ngl = int(args.ngl)
        except ValueError:
            raise UsageError(f"--ngl: {args.ngl!r} is not a whole number") from None
        if not 0 <= ngl <= MAX_GPU_LAYERS:
            raise UsageError(f"--ngl: must be from 0 to {MAX_GPU_LAYERS}, got {ngl}")
        fields["gpu_layers"] = ngl
    if args.min_speed is not None:
        fields["min_decode_tokens_per_second"] = _min_speed(args.min_speed)
    if getattr(args, "threads", None) is not None:
        fields["threads"] = _positive("--threads", args.threads, MAX_THREADS)
    return fields


def machine_overrides(args: argparse.Namespace) -> Overrides:
    """--gpu-memory, --ram and --bandwidth, read before the machine is (a typo fails at once).

    Raises:
        UsageError: a size or bandwidth that cannot be read.
    """
    try:
        return Overrides(
            gpu_bytes=parse_gpu_memory(getattr(args, "gpu_memory", None) or ()),
            ram_bytes=None
            if getattr(args, "ram", None) is None
            else parse_size(args.ram, option="--ram"),
            bandwidth_gb_s=parse_bandwidth(getattr(args, "bandwidth", None) or ()),
        )
    except SpecError as exc:
        raise UsageError(str(exc)) from None


def _min_speed(text: str) -> float:
    """--min-speed: a plain decimal number of tokens per second, 0 to 100,000."""
    cleaned = text.strip().lower().removesuffix("tok/s").strip()
    if re.fullmatch(r"\d{1,6}(\.\d{1,3})?", cleaned) is None:
        raise UsageError(
            f"--min-speed: {clean_text(text, limit=40)!r} is not a number of tokens"
            " per second (e.g. 10 or 2.5)"
        )
    value = float(cleaned)
    if value > MAX_MIN_SPEED:
        raise UsageError(f"--min-speed: at most {MAX_MIN_SPEED:,} tok/s, got {cleaned}")
    return value


def build_config(
    settings: Mapping[str, Any], snapshot: SystemSnapshot, variant: ModelVariant | None
) -> RunConfig:
    """The run settings, checked against the machine and the model.

    Raises:
        UsageError: a context above the model's maximum, or a GPU this machine does not have.
    """
    from llmcheck.estimate import KvType, RunConfig

    fields = dict(settings)
    tokens = fields.get("context_tokens")
    if tokens == CONTEXT_MAX and variant is not None:
        fields["context_tokens"] = tokens = variant.gguf_context_tokens
    if (
        tokens is not None
        and variant is not None
        and variant.gguf_context_tokens
        and (tokens > variant.gguf_context_tokens)
    ):
        raise UsageError(
            f"--ctx: {variant.name} supports at most {variant.gguf_context_tokens} tokens"
            f" (its GGUF context_length); you asked for {tokens}"
            " (write --ctx max for the model's longest context)"
        )
    if "kv_type" in fields:
        fields["kv_type"] = KvType(fields["kv_type"])
    if "device" in fields:
        fields["device"] = _check_device(fields["device"], snapshot)
    try:
        return RunConfig(**fields)
    except ValueError as exc:  # a combination llama.cpp refuses (quantized V cache without FA)
        raise UsageError(str(exc)) from None


def _check_device(device: str, snapshot: SystemSnapshot) -> str:
    if device in ("auto", "cpu"):
        return device
    index = int(device.removeprefix("gpu:"))
    indices = [g.index for g in snapshot.gpus]
    if index not in indices:
        have = ", ".join(f"gpu:{i}" for i in indices) or "no GPU"
        raise UsageError(f"--device: this machine has no gpu:{index} (it has {have})")
    return f"gpu:{index}"


def find_what_if(wanted: str) -> tuple[str, Callable[[], SystemSnapshot]]:
    """A machine of the what-if catalog (``llmcheck.machines``): its id and how to build it.

    Matched case-insensitively by id or name, else by a part of an id or name that only one
    machine has ("4090").

    Raises:
        UsageError: no machine, or several, match; names the closest ones.
    """
    from llmcheck.machines import MachineCatalogError, load_machines, machine_snapshot

    try:
        known = load_machines()
    except MachineCatalogError as exc:
        raise UsageError(f"--what-if: the machine catalog is damaged: {exc}") from None
    key = wanted.strip().lower()
    exact = [m for m in known if key in (m.id.lower(), m.name.lower())]
    partial = [m for m in known if key and (key in m.id.lower() or key in m.name.lower())]
    found = exact or partial
    if len(found) == 1:
        machine = found[0]
        return machine.id, lambda: machine_snapshot(machine)
    shown = clean_text(wanted, limit=40)
    if found:
        ids = ", ".join(m.id for m in found[:8]) + (" ..." if len(found) > 8 else "")
        raise UsageError(f"--what-if: {shown!r} matches {len(found)} machines: {ids}")
    close = difflib.get_close_matches(key, [m.id for m in known], n=3, cutoff=0.5)
    hint = (
        f"did you mean {' or '.join(close)}?"
        if close
        else "known: " + ", ".join(m.id for m in known)
    )
    raise UsageError(f"--what-if: no machine {shown!r} in the catalog; {hint}")
