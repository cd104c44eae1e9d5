"""The sentences the window shows, in words and units people read; no Qt.

Device rows and their sources, bandwidth words, the speed and its basis, placement words, the
recommendation. Every number goes through :mod:`llmcheck.units` (binary GiB / MiB to
three figures, contexts "4,096", speeds "27-109 tok/s", bandwidth "68 GB/s"); every text that
came from the machine or a file goes through :func:`~llmcheck.units.clean_text`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from llmcheck.render.words import CALM_NVIDIA_CODES, NO_NVIDIA_NOTE
from llmcheck.snapshot import GpuVendor, Issue, MemoryKind, Source, SystemSnapshot
from llmcheck.units import (
    clean_text,
    format_bandwidth,
    format_bytes,
    format_speed,
    format_tokens,
    os_name,
)

if TYPE_CHECKING:
    from llmcheck.catalog import ModelVariant
    from llmcheck.estimate import DeviceBudget, Fit
    from llmcheck.recommend import Alternative

__all__ = [
    "MEASURE_FAILED_CODE",
    "DeviceRow",
    "PickLine",
    "alternative_words",
    "bandwidth_note",
    "bandwidth_range",
    "bandwidth_text",
    "bandwidth_words",
    "best_quant_words",
    "budget_text",
    "cell_words",
    "context_capped",
    "context_words",
    "device_rows",
    "fit_tooltip",
    "is_calm",
    "machine_summary",
    "max_context_words",
    "measured_words",
    "pick_lines",
    "placement_words",
    "problem_lines",
    "short_words",
    "shortfall_bytes",
    "speed_basis",
    "speed_class",
    "speed_long",
    "speed_text",
    "split_problems",
]

MEASURE_FAILED_CODE = "bandwidth_measure_failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceRow:
    """One line of the "This machine" table, already in words, with sources for the tooltip."""

    name: str
    kind: str
    total_bytes: int | None
    free_bytes: int | None
    budget_bytes: int | None
    bandwidth_gb_s: float | None
    details: str  # where each number came from
    # A class estimate's range (the CPU bandwidth table), and whether the value was measured.
    bandwidth_low_gb_s: float | None = None
    bandwidth_high_gb_s: float | None = None
    bandwidth_measured: bool = False
    margin_bytes: int | None = None  # what the budget keeps free below "free"


def context_words(tokens: int) -> str:
    """ "4,096 tokens of context"."""
    return f"{format_tokens(tokens)} tokens of context"


def bandwidth_range(low_gb_s: float, high_gb_s: float) -> str:
    """ "77-102 GB/s": a class estimate's range, one unit."""
    return f"{low_gb_s:,.0f}-{format_bandwidth(high_gb_s)}"


def device_rows(
    snapshot: SystemSnapshot, budgets: Sequence[DeviceBudget], *, can_measure: bool = False
) -> tuple[DeviceRow, ...]:
    """One row per GPU / unified pool and one for RAM, with each number's source.

    The usable budget and any bandwidth the probe could not read come from the estimator's
    ``budgets()``, so the panel shows exactly what the verdicts were judged against.
    ``can_measure``: the RAM row's tooltip points at "Measure memory bandwidth".
    """
    rows: list[DeviceRow] = []
    for gpu in snapshot.gpus:
        unified = gpu.memory_kind is MemoryKind.UNIFIED
        name = clean_text(gpu.name) if gpu.name else ""
        mine = [b for b in budgets if b.gpu_index == gpu.index and b.kind != "cpu"]
        budget = mine[0] if mine else None
        bandwidth = gpu.bandwidth_gb_s
        bw_source: str | None = gpu.bandwidth_source
        if bandwidth is None and budget is not None:
            bandwidth, bw_source = budget.bandwidth_gb_s, budget.bandwidth_source
        details = [
            f"{name or 'GPU'} ({gpu.vendor}, {gpu.memory_kind} memory)",
            f"Total {format_bytes(gpu.total_bytes)}, free {format_bytes(gpu.free_bytes)}: "
            f"from {gpu.memory_source}",
        ]
        if gpu.working_set_cap_bytes is not None:
            details.append(
                f"GPU working-set cap {format_bytes(gpu.working_set_cap_bytes)}: from "
                f"{gpu.working_set_cap_source or 'unknown'}"
            )
        details.extend(_budget_words(b) for b in mine)
        if not mine:
            details.append("llmcheck does not run models on this device")
        details.append(bandwidth_words(bandwidth, bw_source))
        if gpu.driver_version:
            details.append(f"Driver {clean_text(gpu.driver_version)}")
        rows.append(
            DeviceRow(
                name=f"GPU {gpu.index}: {name or 'unnamed'}",
                kind="unified pool" if unified else str(gpu.memory_kind),
                total_bytes=gpu.total_bytes,
                free_bytes=gpu.free_bytes,
                budget_bytes=None if budget is None else budget.budget_bytes,
                bandwidth_gb_s=bandwidth,
                details="\n".join(details),
                margin_bytes=None if budget is None else budget.margin_bytes,
            )
        )
    if _one_apple_pool(snapshot):
        # Apple silicon: the GPU's unified pool IS the RAM; one row, not the same memory twice.
        cpu = next((b for b in budgets if b.kind == "cpu"), None)
        if rows and cpu is not None:
            pool = rows[-1]
            extra = "The CPU reads the same pool. " + _budget_words(cpu)
            rows[-1] = replace(
                pool,
                name=f"Unified memory: {pool.name.split(': ', 1)[-1]}",
                details=f"{pool.details}\n{extra}",
            )
        return tuple(rows)
    rows.append(_ram_row(snapshot, budgets, can_measure=can_measure))
    return tuple(rows)


def _one_apple_pool(snapshot: SystemSnapshot) -> bool:
    """One Apple GPU whose memory is the machine's unified RAM."""
    gpus = snapshot.gpus
    return (
        len(gpus) == 1
        and gpus[0].vendor is GpuVendor.APPLE
        and gpus[0].memory_kind is MemoryKind.UNIFIED
    )


def _ram_row(
    snapshot: SystemSnapshot, budgets: Sequence[DeviceBudget], *, can_measure: bool
) -> DeviceRow:
    memory = snapshot.memory
    budget = next((b for b in budgets if b.kind == "cpu"), None)
    bandwidth = memory.bandwidth_gb_s
    bw_source: str | None = memory.bandwidth_source
    low, high = memory.bandwidth_low_gb_s, memory.bandwidth_high_gb_s
    if bandwidth is None and budget is not None:
        bandwidth, bw_source = budget.bandwidth_gb_s, budget.bandwidth_source
        low = high = None
    details = [
        f"Total {format_bytes(memory.total_bytes)}, available "
        f"{format_bytes(memory.available_bytes)}: from {memory.source}",
    ]
    if memory.limit_bytes is not None:
        details.append(
            f"Container limit {format_bytes(memory.limit_bytes)} "
            f"({format_bytes(memory.limit_used_bytes)} used): from "
            f"{memory.limit_source or 'unknown'}"
        )
    if budget is not None:
        details.append(_budget_words(budget))
    details.append(bandwidth_words(bandwidth, bw_source, low, high, ram=True))
    if can_measure and str(bw_source) != Source.MEASURED:
        details.append(
            "Machine ▸ Measure memory bandwidth reads this machine's own (under a second)."
        )
    brand = clean_text(snapshot.cpu.brand) if snapshot.cpu.brand else ""
    return DeviceRow(
        name=f"RAM ({brand})" if brand else "RAM",
        kind="system memory",
        total_bytes=memory.total_bytes,
        free_bytes=memory.usable_bytes,
        budget_bytes=None if budget is None else budget.budget_bytes,
        bandwidth_gb_s=bandwidth,
        bandwidth_low_gb_s=low,
        bandwidth_high_gb_s=high,
        bandwidth_measured=str(bw_source) == Source.MEASURED,
        details="\n".join(details),
        margin_bytes=None if budget is None else budget.margin_bytes,
    )


def bandwidth_text(row: DeviceRow) -> str:
    """ "936 GB/s", "68 GB/s (51-90)" for a class estimate, "41 GB/s measured", or "unknown"."""
    if row.bandwidth_gb_s is None:
        return "unknown"
    text = format_bandwidth(row.bandwidth_gb_s)
    if row.bandwidth_measured:
        return f"{text} measured"
    if row.bandwidth_low_gb_s is not None and row.bandwidth_high_gb_s is not None:
        return f"{text} ({row.bandwidth_low_gb_s:,.0f}-{row.bandwidth_high_gb_s:,.0f})"
    return text


# Where a bandwidth came from, in words (Source values; anything else is shown as it is).
_BANDWIDTH_SOURCES: dict[str, str] = {
    Source.TABLE: "from llmcheck's table",
    Source.MEASURED: "measured on this machine (buffers copied on every core)",
    Source.COMPUTED: "computed from the memory modules' width and speed (SMBIOS)",
    Source.DEFAULT: "from a documented default",
    Source.NVML: "from the NVIDIA driver (NVML)",
    Source.SNAPSHOT: "from the snapshot file",
}


def _source_words(source: str | None, *, ram: bool) -> str:
    """Where a bandwidth came from: "from llmcheck's table", "measured on this machine" ..."""
    if str(source) == Source.COMPUTED and not ram:
        return "computed from its memory bus width and clock"
    if str(source) == Source.TABLE and ram:
        return "from llmcheck's table for this class of CPU (not this machine's own DIMMs)"
    return _BANDWIDTH_SOURCES.get(
        str(source), f"from {clean_text(source) if source else 'an unknown source'}"
    )


def bandwidth_words(
    gb_s: float | None,
    source: str | None,
    low_gb_s: float | None = None,
    high_gb_s: float | None = None,
    *,
    ram: bool = False,
) -> str:
    """A device's bandwidth for its tooltip: the value, where it came from, and its range."""
    if gb_s is None:
        return "Bandwidth: unknown (no source for it), so no speed estimate"
    text = f"Bandwidth: {format_bandwidth(gb_s)}, {_source_words(source, ram=ram)}"
    if low_gb_s is not None and high_gb_s is not None:
        text += f"; likely {bandwidth_range(low_gb_s, high_gb_s)}"
    return text


def _budget_words(budget: DeviceBudget) -> str:
    return (
        f"Usable budget for {budget.device} ({budget.backend}): "
        f"{format_bytes(budget.budget_bytes)}, after a margin of "
        f"{format_bytes(budget.margin_bytes)}: from {budget.budget_source}"
    )


def machine_summary(snapshot: SystemSnapshot) -> str:
    """One line: OS, CPU and where the numbers came from."""
    parts = [os_name(snapshot.os.system)]
    if snapshot.os.in_container:
        parts.append("in a container")
    if snapshot.os.is_wsl:
        parts.append("WSL")
    if snapshot.cpu.brand:
        parts.append(clean_text(snapshot.cpu.brand))
    if snapshot.cpu.physical_cores:
        parts.append(f"{snapshot.cpu.physical_cores} cores")
    if str(snapshot.source) == "table":
        parts.append("numbers from llmcheck's device table")
    return " · ".join(parts)


def budget_text(row: DeviceRow) -> str:
    """The usable budget with its margin beside it: "11.1 GiB (512 MiB margin)"."""
    if row.budget_bytes is None:
        return format_bytes(None)
    if not row.margin_bytes:
        return format_bytes(row.budget_bytes)
    return f"{format_bytes(row.budget_bytes)} ({format_bytes(row.margin_bytes)} margin)"


def is_calm(problem: Issue, snapshot: SystemSnapshot) -> bool:
    """A problem that needs nothing from the user here: "no NVIDIA library" (and the like) on a
    machine where no NVIDIA GPU was seen. A GPU that is there but unread is never calm."""
    if problem.code not in CALM_NVIDIA_CODES:
        return False
    return not any("nvidia" in str(g.vendor).lower() for g in snapshot.gpus)


def split_problems(snapshot: SystemSnapshot) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(problems to show prominently, calm notes for one info line), each in words.

    ``gpu_unread`` (a GPU that is there but could not be read) comes first, naming its GPU.
    """
    loud = [p for p in snapshot.problems if not is_calm(p, snapshot)]
    loud.sort(key=lambda p: p.code != "gpu_unread")
    calm = [p for p in snapshot.problems if is_calm(p, snapshot)]
    notes = tuple(
        NO_NVIDIA_NOTE if p.code == "nvml_library_not_found" else clean_text(p.message, limit=400)
        for p in calm
    )
    return problem_lines(loud), tuple(dict.fromkeys(notes))


def problem_lines(problems: Sequence[Issue]) -> tuple[str, ...]:
    """Each problem met while reading the machine: its message, and its hint after a dash."""
    return tuple(
        clean_text(p.message, limit=400) + (f" — {clean_text(p.hint, limit=400)}" if p.hint else "")
        for p in problems
    )


def measured_words(
    before_gb_s: float | None,
    before_source: str | None,
    after_gb_s: float,
    source_text: str = "measured",
) -> str:
    """The status line after a bandwidth measurement ("measured just now", "... 13 min ago")."""
    was = (
        ""
        if before_gb_s is None
        else f" (before: {format_bandwidth(before_gb_s)}, {before_source})"
    )
    return (
        f"RAM bandwidth: {format_bandwidth(after_gb_s)}, {source_text or 'measured'}{was}."
        " The CPU speeds below use it."
    )


def speed_text(fit: Fit) -> str:
    """ "12-18 tok/s" (generation), or "speed unknown"."""
    speed = fit.speed
    if speed is None:
        return "speed unknown"
    return format_speed(speed.low_tokens_per_second, speed.high_tokens_per_second)


def speed_long(fit: Fit) -> str:
    """Generation and prompt speeds in one line, or "unknown"."""
    speed = fit.speed
    if speed is None:
        return "unknown"
    text = speed_text(fit) + " generating"
    if speed.prompt_low_tokens_per_second is not None and speed.prompt_high_tokens_per_second:
        prompt = format_speed(
            speed.prompt_low_tokens_per_second, speed.prompt_high_tokens_per_second
        )
        text += f", {prompt} reading the prompt"
    return text


def fit_tooltip(variant_name: str, fit: Fit, verdict_words: str) -> str:
    """What a cell's tooltip says: verdict, memory needed against the budget, speed, reason."""
    budgets = [d.budget_bytes for d in fit.devices if d.budget_bytes is not None]
    budget = format_bytes(sum(budgets)) if budgets else "unknown"
    lines = [
        f"{variant_name} · {fit.quant}: {verdict_words}",
        f"Memory needed: {format_bytes(fit.total_bytes)} (budget {budget}, {fit.placement})",
        f"Speed: {speed_text(fit)}",
    ]
    if fit.max_context_tokens is not None:
        lines.append(f"Largest context that fits: {format_tokens(fit.max_context_tokens)} tokens")
    if fit.reason:
        lines.append(fit.reason)
    return "\n".join(lines)


def speed_class(fit: Fit) -> str | None:
    """ "fast", "usable" or "slow" against the minimum speed (as the report says), or None."""
    from llmcheck.report import speed_class as report_speed_class

    return report_speed_class(fit)


def shortfall_bytes(fit: Fit) -> int | None:
    """How much more memory a configuration that won't fit needs (as the report says)."""
    from llmcheck.report import shortfall

    return shortfall(fit)[1]


def cell_words(fit: Fit) -> str:
    """What a grid cell says after its verdict symbol: the generation speed in tok/s ("25-40":
    the legend and the tooltip name the unit, so every quant column fits beside the details),
    or for one that won't fit how short it is ("-2.10 GiB"), or "unknown"."""
    verdict = str(fit.verdict)
    if verdict == "wont_fit":
        short = shortfall_bytes(fit)
        return "won't fit" if short is None else f"\u2212{format_bytes(short)}"
    if verdict == "unknown" or fit.speed is None:
        return "unknown" if verdict == "unknown" else "speed ?"
    return speed_text(fit).removesuffix("\u00a0tok/s")


def context_capped(fit: Fit, chosen_tokens: int) -> bool:
    """The chosen context is more than this model takes: it is answered at its own maximum."""
    return fit.config.context_tokens < chosen_tokens


def short_words(fit: Fit) -> str:
    """ "2.10 GiB short of the 11.6 GiB budget" for a configuration that won't fit, else ""."""
    from llmcheck.report import shortfall

    budget, short = shortfall(fit)
    if short is None:
        return ""
    of = "" if budget is None else f" of the {format_bytes(budget)} budget"
    return f"{format_bytes(short)} short{of}"


def max_context_words(fit: Fit) -> str:
    """The largest context that fits, or why there is none."""
    if fit.max_context_tokens is not None:
        return f"{format_tokens(fit.max_context_tokens)} tokens"
    if str(fit.verdict) == "unknown":
        return "unknown: the memory budget could not be read"
    return "none: even the smallest context does not fit"


def best_quant_words(best: str | None, best_verdict: str | None) -> str:
    """The recommendation, saying whether it runs great here or is only the best that fits."""
    if best is None:
        return "none: no quantization fits here with these settings"
    if best_verdict == "tight":
        return f"{best} is only tight: nothing runs great here, and it is the best that fits"
    return f"{best}: the best quality that runs great here (nothing above Q8_0 looks better)"


def bandwidth_note(fit: Fit, budgets: Sequence[DeviceBudget], snapshot: SystemSnapshot) -> str:
    """Which device's bandwidth sets the speed, and where that number came from."""
    speed = fit.speed
    if speed is None:
        return ""
    used = {use.device for use in fit.devices if use.layers > 0 or use.device != "cpu"}
    budget = next(
        (b for b in budgets if b.device in used and b.bandwidth_gb_s == speed.bandwidth_gb_s),
        None,
    )
    if budget is None:
        return ""
    ram = budget.kind == "cpu"
    source = _source_words(budget.bandwidth_source, ram=ram)
    if ram and str(budget.bandwidth_source) == Source.TABLE:
        source = "from llmcheck's table for this class of CPU"
    name = clean_text(budget.name) if budget.name else budget.device
    note = f"RAM bandwidth {source}" if ram else f"{name}, {source}"
    memory = snapshot.memory
    if ram and memory.bandwidth_low_gb_s is not None and memory.bandwidth_high_gb_s is not None:
        note += f", likely {bandwidth_range(memory.bandwidth_low_gb_s, memory.bandwidth_high_gb_s)}"
    return note


def speed_basis(fit: Fit, variant: ModelVariant, bandwidth_note: str = "") -> str:
    """In plain words, what the speed estimate rests on: the bytes read per generated token."""
    speed = fit.speed
    if speed is None and str(fit.placement) == "none":
        return "no estimate: it is not known where the model would run."
    if speed is None:
        return "no estimate: the memory bandwidth of the device that would run it is unknown."
    config = fit.config
    experts = " (only the active MoE experts)" if variant.architecture.is_moe else ""
    where = f": {bandwidth_note}" if bandwidth_note else ""
    threads = f", with {speed.threads} CPU threads" if speed.threads else ""
    kv_now = speed.kv_read_bytes_per_token_full_context * speed.depth_tokens
    kv_now //= max(config.context_tokens, 1)
    text = (
        f"each generated token reads {format_bytes(speed.weights_read_bytes_per_token)} of"
        f" weights{experts} plus the KV cache of the {format_tokens(speed.depth_tokens)} tokens"
        f" already in context ({format_bytes(kv_now)}: the"
        f" {format_tokens(config.context_tokens)}-token context half full), at"
        f" {format_bandwidth(speed.bandwidth_gb_s)}{where}{threads}; the range is the spread of"
        " a model fitted to llama.cpp on several machines."
    )
    if speed.empty_low_tokens_per_second is not None and speed.full_low_tokens_per_second:
        empty = format_speed(speed.empty_low_tokens_per_second, speed.empty_high_tokens_per_second)
        full = format_speed(speed.full_low_tokens_per_second, speed.full_high_tokens_per_second)
        text += (
            f" As a conversation grows: {empty} on an empty context, {full} once all"
            f" {format_tokens(config.context_tokens)} tokens are in it."
        )
    if speed.prompt_high_tokens_per_second:
        prompt = format_speed(
            speed.prompt_low_tokens_per_second, speed.prompt_high_tokens_per_second
        )
        first = ""
        if speed.prompt_empty_low_tokens_per_second is not None:
            empty = format_speed(
                speed.prompt_empty_low_tokens_per_second, speed.prompt_empty_high_tokens_per_second
            )
            first = f", {empty} as the first prompt of a conversation"
        text += (
            " Reading a prompt is compute-bound (the model's FLOPs over the device's matrix"
            f" throughput): {prompt} for 512 tokens at the same point{first}."
        )
    return text


def placement_words(fit: Fit, layers: int) -> str:
    """Where the layers go, in words ("split: 20 of 25 layers on the GPU")."""
    where = {
        "gpu": "on the GPU",
        "unified": "in unified memory",
        "cpu": "on the CPU",
        "split": "split between GPU and CPU",
        "none": "unknown" if str(fit.verdict) == "unknown" else "nowhere: it does not fit",
    }.get(str(fit.placement), str(fit.placement))
    if str(fit.placement) == "split" and fit.gpu_layers is not None:
        where += f": {fit.gpu_layers} of {layers} layers on the GPU"
    return where


@dataclass(frozen=True, slots=True, kw_only=True)
class PickLine:
    """One pick for the answer at the top: what it is for, the cell it names, and its words."""

    purpose: str  # "Best", "Fastest", "Longest context", "Vision", "Tool calling" ...
    variant_id: str
    quant: str
    words: str  # "LFM2-1.2B Q4_K_M (40-60 tok/s)"


def pick_lines(recommendations: Mapping[str, Any] | None) -> tuple[PickLine, ...]:
    """The picks of ``llmcheck --json``'s ``recommendations``, best first, in words."""
    if not recommendations:
        return ()
    named = [
        ("Best", recommendations.get("best")),
        ("Fastest", recommendations.get("fastest")),
        ("Longest context", recommendations.get("longest_context")),
        ("Vision", recommendations.get("vision")),
    ]
    for task in recommendations.get("tasks") or ():
        label = clean_text(task.get("task") or "task", limit=60)
        named.append((label[:1].upper() + label[1:], task))
    lines: list[PickLine] = []
    for purpose, pick in named:
        if not pick:
            continue
        extra = ""
        speed = pick.get("tokens_per_second")
        if purpose == "Longest context" and pick.get("max_context") is not None:
            extra = f" ({format_tokens(pick['max_context'])} tokens)"
        elif speed is not None and purpose != "Best":  # the sentence gives the best's speed
            extra = f" ({format_speed(speed.get('low'), speed.get('high'))})"
        name = clean_text(pick.get("name") or pick.get("variant"))
        lines.append(
            PickLine(
                purpose=purpose,
                variant_id=str(pick.get("variant")),
                quant=str(pick.get("quant")),
                words=f"{name} {clean_text(pick.get('quant'))}{extra}",
            )
        )
    return tuple(lines)


def alternative_words(alternative: Alternative, variant_name: str) -> str:
    """A configuration that fits, near one that does not: "Shorter context: LFM2-8B-A1B Q8_0 at
    16,384 tokens, runs great, 25-40 tok/s"."""
    fit = alternative.fit
    change = alternative.change[:1].upper() + alternative.change[1:]
    what = f"{clean_text(variant_name)} {fit.quant}"
    config = alternative.config
    if alternative.change == "shorter context":
        what += f" at {format_tokens(config.context_tokens)} tokens"
    elif alternative.change == "quantized KV cache":
        what += f" with a {config.kv_type} KV cache and flash attention"
    elif alternative.change == "CPU":
        what += " on the CPU only"
    verdict = "runs great" if str(fit.verdict) == "runs_great" else "tight"
    return f"{change}: {what}, {verdict}, {speed_text(fit)}"
