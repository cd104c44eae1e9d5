"""The estimator's value types: what it is asked (RunConfig) and what it answers (Fit).

The bottom layer of :mod:`llmcheck.estimate`: standard library only, so importing it is cheap and
loads no catalog. Frozen dataclasses, bytes in ``*_bytes`` fields, rates in ``*_tokens_per_second``
and ``*_gb_s``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_DEVICE_RE = re.compile(r"^(auto|cpu|gpu:(\d+))$")


class KvType(StrEnum):
    """KV cache element type (llama.cpp ``-ctk`` / ``-ctv``)."""

    F16 = "f16"
    Q8_0 = "q8_0"
    Q4_0 = "q4_0"


class Verdict(StrEnum):
    """The answer for one variant x quant x config on this machine."""

    RUNS_GREAT = "runs_great"
    TIGHT = "tight"
    WONT_FIT = "wont_fit"
    UNKNOWN = "unknown"


class Limit(StrEnum):
    """What decided a verdict other than "runs great": the memory, or the generation speed."""

    MEMORY = "memory"
    SPEED = "speed"


class Placement(StrEnum):
    """Where the model's layers go."""

    GPU = "gpu"  # one or more discrete GPUs hold every layer
    UNIFIED = "unified"  # a unified-memory GPU (Apple, GB10, Strix Halo) holds every layer
    CPU = "cpu"  # no layer offloaded
    SPLIT = "split"  # some layers on a GPU, the rest on the CPU
    NONE = "none"  # nothing fits, or the budget is unknown


class FrontEnd(StrEnum):
    """The llama.cpp front end, which decides how many logits the compute buffer reserves."""

    LLAMA_SERVER = "llama-server"  # n_outputs_max = n_parallel (server_output_limits)
    LIBLLAMA = "libllama"  # llama-cpp-python, llama-completion: n_outputs_max = n_batch


# A chat reply at 10 tok/s reads at about the pace people read (5-8 words a second at ~1.3
# tokens a word); below it a reply visibly trickles. A setting: --min-speed, the window's settings.
DEFAULT_MIN_DECODE_TOKENS_PER_SECOND = 10.0
MAX_MIN_DECODE_TOKENS_PER_SECOND = 100_000.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RunConfig:
    """How llama.cpp is asked to run the model (the flags of the command we print).

    Defaults follow llama-server at llama.cpp 0c1e57098 except the context (4096 rather than the
    GGUF's 128000, which llama-server's ``--fit`` would shrink anyway) and ``parallel`` (1 rather
    than the server's automatic 4).

    Raises:
        ValueError: an impossible value, or a quantized V cache without flash attention (llama.cpp
            refuses it: "quantized V cache was requested, but this requires Flash Attention").
    """

    context_tokens: int = 4096
    kv_type: KvType = KvType.F16
    flash_attn: bool = True
    parallel: int = 1
    ubatch: int = 512
    device: str = "auto"  # "auto" | "cpu" | "gpu:I"
    mmap: bool = True  # llama.cpp's default; --no-mmap when False
    front_end: FrontEnd = FrontEnd.LLAMA_SERVER
    # None: the estimator picks -ngl (every layer on the fastest device that holds them, else the
    # most layers that fit). N: llama.cpp's -ngl N as given (above the layer count = all layers;
    # 0 with a GPU visible keeps it for the big matmuls: CUDA context + compute buffer).
    gpu_layers: int | None = None
    # "Runs great" also needs the low end of the generation range at or above this (tok/s);
    # below it a configuration that fits is "tight" (issue #10). 0 judges memory only.
    min_decode_tokens_per_second: float = DEFAULT_MIN_DECODE_TOKENS_PER_SECOND
    # llama.cpp's -t: None is its default, one thread per physical core. Speed only.
    threads: int | None = None

    def __post_init__(self) -> None:
        """Reject configurations llama.cpp would refuse."""
        speed = self.min_decode_tokens_per_second
        if not (isinstance(speed, int | float) and 0 <= speed <= MAX_MIN_DECODE_TOKENS_PER_SECOND):
            raise ValueError(
                f"minimum speed must be 0..{MAX_MIN_DECODE_TOKENS_PER_SECOND:.0f} tok/s,"
                f" got {speed!r}"
            )
        if self.context_tokens < 1:
            raise ValueError(f"context must be at least 1 token, got {self.context_tokens}")
        if not 1 <= self.parallel <= 256:
            raise ValueError(f"parallel must be 1..256, got {self.parallel}")
        if not 1 <= self.ubatch <= 65536:
            raise ValueError(f"ubatch must be 1..65536, got {self.ubatch}")
        if not _DEVICE_RE.match(self.device):
            raise ValueError(f"device must be auto, cpu or gpu:N, got {self.device!r}")
        if self.threads is not None and not 1 <= self.threads <= 1024:
            raise ValueError(f"threads must be 1..1024, got {self.threads}")
        if self.gpu_layers is not None:
            if not 0 <= self.gpu_layers <= 9999:
                raise ValueError(f"gpu layers must be 0..9999, got {self.gpu_layers}")
            if self.gpu_layers > 0 and self.device == "cpu":
                raise ValueError(
                    f"{self.gpu_layers} GPU layers asked for with device cpu: "
                    "use --device auto or gpu:N, or --ngl 0"
                )
        if KvType(self.kv_type) is not KvType.F16 and not self.flash_attn:
            raise ValueError(
                f"a quantized V cache ({self.kv_type}) requires flash attention: "
                "use --flash-attn on or --kv-type f16"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryTerms:
    """What llama.cpp allocates on one device, by term (bytes)."""

    weights_bytes: int = 0
    kv_cache_bytes: int = 0
    recurrent_state_bytes: int = 0
    compute_bytes: int = 0
    output_bytes: int = 0
    overhead_bytes: int = 0
    # The CPU's repacked copies of weights (ggml's AMX / CPU_REPACK buffers); the tensors they
    # replace are then not in weights_bytes.
    repack_bytes: int = 0
    # Under mmap, the file pages of CPU-repacked tensors stay resident next to the repacked copy:
    # RSS shows them, but the kernel may drop them, so they are not part of total_bytes.
    mmap_cache_bytes: int = 0

    @property
    def total_bytes(self) -> int:
        """The memory this device must provide (mmap page cache excluded)."""
        return (
            self.weights_bytes
            + self.repack_bytes
            + self.kv_cache_bytes
            + self.recurrent_state_bytes
            + self.compute_bytes
            + self.output_bytes
            + self.overhead_bytes
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceBudget:
    """What one device may hold, where that number came from, and the margin asked of it."""

    device: str  # "gpu:0", "gpu:0/mig:1", "unified:0", "cpu"
    name: str
    kind: str  # "gpu" | "unified" | "cpu"
    backend: str  # "cuda" | "rocm" | "metal" | "sycl" | "vulkan" | "cpu"
    budget_bytes: int | None
    budget_source: str
    margin_bytes: int
    bandwidth_gb_s: float | None
    bandwidth_source: str | None
    overhead_bytes: int
    gpu_index: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceUse:
    """One device's share of the model."""

    device: str
    name: str
    budget_bytes: int | None
    budget_source: str
    terms: MemoryTerms
    layers: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeedRange:
    """Estimated generation and prompt speed, with the model behind the numbers.

    ``device`` is the :attr:`DeviceBudget.device` whose bandwidth (``bandwidth_gb_s``, as read,
    from ``bandwidth_source``) bounds the speed: the slowest device holding layers. Per generated
    token the model reads ``weights_read_bytes_per_token`` of weights and, at the slow end, the
    whole KV cache, ``kv_read_bytes_per_token_full_context``. The prompt speeds are
    ``prompt_to_decode_low`` .. ``prompt_to_decode_high`` times the middle of the decode range.
    """

    low_tokens_per_second: float
    high_tokens_per_second: float
    prompt_low_tokens_per_second: float
    prompt_high_tokens_per_second: float
    basis: str
    bandwidth_gb_s: float
    bandwidth_source: str
    device: str
    weights_read_bytes_per_token: int
    kv_read_bytes_per_token_full_context: int
    prompt_to_decode_low: float
    prompt_to_decode_high: float
    # Decode assumes this many tokens already in the KV cache (the chosen context half full).
    depth_tokens: int = 0
    # CPU threads the estimate assumes (llama.cpp's default: the physical cores); None on a GPU.
    threads: int | None = None
    # Decode at the two ends of a conversation: nothing in the KV cache yet, and the whole
    # context in it (None where not computed).
    empty_low_tokens_per_second: float | None = None
    empty_high_tokens_per_second: float | None = None
    full_low_tokens_per_second: float | None = None
    full_high_tokens_per_second: float | None = None
    # A 512-token prompt with nothing in the KV cache yet (llama-bench's pp512); the prompt
    # range above is at the decode's depth.
    prompt_empty_low_tokens_per_second: float | None = None
    prompt_empty_high_tokens_per_second: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fit:
    """The answer for one variant x quant x config on one machine."""

    variant_id: str
    quant: str
    config: RunConfig
    verdict: Verdict
    placement: Placement
    devices: tuple[DeviceUse, ...]
    total_bytes: int
    max_context_tokens: int | None
    gpu_layers: int | None
    speed: SpeedRange | None
    llama_cpp_command: str
    assumptions: tuple[str, ...]
    reason: str
    file_size_bytes: int
    # -ngl counts the repeating layers plus the output layer: n_layer + 1 (``gpu_layers`` of).
    offloadable_layers: int
    # What every device of the machine may hold, as the verdict was judged (see ``budgets()``).
    budgets: tuple[DeviceBudget, ...]
    # What kept the verdict from "runs great" (None when it runs great or is unknown).
    limited_by: Limit | None = None
    # llama.cpp's --n-cpu-moe N: every layer on the GPU, the routed experts of layers < N in RAM
    # (0: no expert kept in RAM; N = the layer count is --cpu-moe). Placement is then SPLIT.
    n_cpu_moe: int = 0
