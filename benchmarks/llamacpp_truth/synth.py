"""Synthetic LFM2 / LFM2-MoE GGUF files: the real tensor names, shapes and metadata, random values.

llama.cpp cannot tell these files from the published ones except by the weight values, so the
memory it allocates for them is the memory it allocates for the real models. The tensor plan
follows ``llama_model_lfm2::load_arch_tensors`` / ``llama_model_lfm2moe::load_arch_tensors``
(llama.cpp 0c1e57098) and the dtypes the converter writes (``conversion/lfm2.py``): 1-D tensors,
norms, ``shortconv.conv``, the MoE router and the expert bias are F32, everything else F16.

Run on its own: ``python -m benchmarks.llamacpp_truth.synth lfm2-350m OUT.gguf``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llmcheck.catalog import load_catalog

ARCH_DENSE = "lfm2"
ARCH_MOE = "lfm2moe"

#: The 14 special tokens at the head of the LFM2 vocabulary (ids 0..13).
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|pad|>",
    "<|startoftext|>",
    "<|endoftext|>",
    "<|fim_pre|>",
    "<|fim_mid|>",
    "<|fim_suf|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|tool_list_start|>",
    "<|tool_list_end|>",
    "<|tool_call_start|>",
    "<|tool_call_end|>",
    "<|tool_response_start|>",
    "<|tool_response_end|>",
)
BOS_ID = 1
EOS_ID = 7
PAD_ID = 0

CHAT_TEMPLATE = (
    "{{- bos_token -}}"
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}"
)

# ggml type ids (gguf.GGMLQuantizationType) of the two source dtypes written here.
GGML_F32 = 0
GGML_F16 = 1
# llama_ftype of an all-F16 file (LLAMA_FTYPE_MOSTLY_F16).
FTYPE_MOSTLY_F16 = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class SynthConfig:
    """The architecture of one synthetic model (HF config values after llama.cpp's adjustments).

    Attributes:
        key: Short id used in file names and the measurement JSON ("lfm2-1.2b").
        name: Display name ("LFM2-1.2B").
        arch: GGUF architecture, ``lfm2`` or ``lfm2moe``.
        hidden_size: n_embd.
        n_layer: Number of blocks.
        attn_layers: Indices of the attention (GQA) layers; the rest are short-conv layers.
        n_head: Query heads.
        n_head_kv: KV heads on attention layers (0 is written for conv layers).
        head_dim: Head dimension.
        ff_length: Dense FFN width as written to ``feed_forward_length`` (after auto-adjust).
        vocab_size: Tokens in the vocabulary.
        l_cache: Short-conv kernel length (``shortconv.l_cache``).
        context_length: ``context_length`` in the GGUF header.
        rope_freq_base: RoPE theta.
        n_expert: Experts per MoE layer (0 for dense models).
        n_expert_used: Experts used per token.
        expert_ff_length: Expert FFN width.
        n_dense_lead: Leading dense layers of a MoE model.
        published_params: The parameter count the model card publishes (None for test configs).
    """

    key: str
    name: str
    arch: str
    hidden_size: int
    n_layer: int
    attn_layers: tuple[int, ...]
    n_head: int
    n_head_kv: int
    head_dim: int
    ff_length: int
    vocab_size: int
    l_cache: int = 3
    context_length: int = 128000
    rope_freq_base: float = 1_000_000.0
    n_expert: int = 0
    n_expert_used: int = 0
    expert_ff_length: int = 0
    n_dense_lead: int = 0
    published_params: int | None = None

    @property
    def is_moe(self) -> bool:
        """Whether this is an ``lfm2moe`` model."""
        return self.arch == ARCH_MOE

    def head_count_kv_array(self) -> list[int]:
        """The per-layer ``attention.head_count_kv`` array (0 marks a short-conv layer)."""
        return [self.n_head_kv if i in self.attn_layers else 0 for i in range(self.n_layer)]


@dataclass(frozen=True, slots=True, kw_only=True)
class TensorSpec:
    """One tensor of the plan.

    Attributes:
        name: GGUF tensor name.
        ne: Shape in ggml order (ne0 first, the row length).
        ggml_type: ``GGML_F32`` or ``GGML_F16``.
    """

    name: str
    ne: tuple[int, ...]
    ggml_type: int

    @property
    def n_elements(self) -> int:
        """Number of elements."""
        n = 1
        for d in self.ne:
            n *= d
        return n

    @property
    def n_bytes(self) -> int:
        """Bytes of tensor data (unpadded)."""
        return self.n_elements * (4 if self.ggml_type == GGML_F32 else 2)


# Parameter counts the model cards publish where the catalog has none (test: the plan adds up).
_PUBLISHED_PARAMS = {"lfm2-8b-a1b": 8_339_930_560}


def config_for(variant_id: str) -> SynthConfig:
    """The synthetic model of a catalog variant: its architecture as llmcheck's catalog has it
    (one place for LFM2's shapes; the attention indices the catalog marks unverified are used
    as they are, since only their count matters for memory and speed)."""
    variant = load_catalog().variant(variant_id)
    a = variant.architecture
    return SynthConfig(
        key=variant_id,
        name=variant.name,
        arch=a.gguf_arch,
        hidden_size=a.hidden_size,
        n_layer=a.n_layer,
        attn_layers=a.attention_layers,
        n_head=a.n_head,
        n_head_kv=a.n_head_kv,
        head_dim=a.head_dim,
        ff_length=a.ffn_size,
        vocab_size=a.vocab_size,
        l_cache=a.conv_l_cache,
        context_length=a.gguf_context_tokens,
        n_expert=a.n_expert,
        n_expert_used=a.n_expert_used,
        expert_ff_length=a.expert_ffn_size,
        n_dense_lead=a.n_dense_lead_layers,
        published_params=a.parameters or _PUBLISHED_PARAMS.get(variant_id),
    )


LFM2_350M = config_for("lfm2-350m")
LFM2_1_2B = config_for("lfm2-1.2b")
LFM2_2_6B = config_for("lfm2-2.6b")
LFM2_8B_A1B = config_for("lfm2-8b-a1b")

CONFIGS: dict[str, SynthConfig] = {c.key: c for c in (LFM2_350M, LFM2_1_2B, LFM2_2_6B, LFM2_8B_A1B)}


def tensor_plan(cfg: SynthConfig) -> tuple[TensorSpec, ...]:
    """Every tensor llama.cpp loads for ``cfg``, in file order, with its shape and dtype.

    Args:
        cfg: The architecture.

    Returns:
        The tensors: ``token_embd`` first, then each block, then the final norm
        (``token_embd_norm``). Tied embeddings: there is no ``output.weight``.
    """
    d = cfg.hidden_size
    f32, f16 = GGML_F32, GGML_F16
    out: list[TensorSpec] = [
        TensorSpec(name="token_embd.weight", ne=(d, cfg.vocab_size), ggml_type=f16)
    ]
    n_q = cfg.n_head * cfg.head_dim
    n_kv = cfg.n_head_kv * cfg.head_dim
    for i in range(cfg.n_layer):
        blk = f"blk.{i}"
        out.append(TensorSpec(name=f"{blk}.attn_norm.weight", ne=(d,), ggml_type=f32))
        if i in cfg.attn_layers:
            out += [
                TensorSpec(name=f"{blk}.attn_q.weight", ne=(d, n_q), ggml_type=f16),
                TensorSpec(name=f"{blk}.attn_k.weight", ne=(d, n_kv), ggml_type=f16),
                TensorSpec(name=f"{blk}.attn_v.weight", ne=(d, n_kv), ggml_type=f16),
                TensorSpec(name=f"{blk}.attn_output.weight", ne=(n_q, d), ggml_type=f16),
                TensorSpec(name=f"{blk}.attn_q_norm.weight", ne=(cfg.head_dim,), ggml_type=f32),
                TensorSpec(name=f"{blk}.attn_k_norm.weight", ne=(cfg.head_dim,), ggml_type=f32),
            ]
        else:
            out += [
                TensorSpec(name=f"{blk}.shortconv.conv.weight", ne=(cfg.l_cache, d), ggml_type=f32),
                TensorSpec(name=f"{blk}.shortconv.in_proj.weight", ne=(d, 3 * d), ggml_type=f16),
                TensorSpec(name=f"{blk}.shortconv.out_proj.weight", ne=(d, d), ggml_type=f16),
            ]
        out.append(TensorSpec(name=f"{blk}.ffn_norm.weight", ne=(d,), ggml_type=f32))
        if cfg.is_moe and i >= cfg.n_dense_lead:
            e, fe = cfg.n_expert, cfg.expert_ff_length
            out += [
                TensorSpec(name=f"{blk}.ffn_gate_inp.weight", ne=(d, e), ggml_type=f32),
                TensorSpec(name=f"{blk}.ffn_gate_exps.weight", ne=(d, fe, e), ggml_type=f16),
                TensorSpec(name=f"{blk}.ffn_down_exps.weight", ne=(fe, d, e), ggml_type=f16),
                TensorSpec(name=f"{blk}.ffn_up_exps.weight", ne=(d, fe, e), ggml_type=f16),
                TensorSpec(name=f"{blk}.exp_probs_b.bias", ne=(e,), ggml_type=f32),
            ]
        else:
            out += [
                TensorSpec(name=f"{blk}.ffn_gate.weight", ne=(d, cfg.ff_length), ggml_type=f16),
                TensorSpec(name=f"{blk}.ffn_down.weight", ne=(cfg.ff_length, d), ggml_type=f16),
                TensorSpec(name=f"{blk}.ffn_up.weight", ne=(d, cfg.ff_length), ggml_type=f16),
            ]
    out.append(TensorSpec(name="token_embd_norm.weight", ne=(d,), ggml_type=f32))
    return tuple(out)


def parameter_count(cfg: SynthConfig) -> int:
    """Total parameters of the plan (the number model cards publish)."""
    return sum(t.n_elements for t in tensor_plan(cfg))


def tensor_data_bytes(cfg: SynthConfig) -> int:
    """Unpadded bytes of all tensor data in the F16 source file."""
    return sum(t.n_bytes for t in tensor_plan(cfg))


def _bytes_to_unicode() -> list[str]:
    """GPT-2's reversible byte -> printable character table (256 entries, by byte value)."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    table: dict[int, str] = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Vocab:
    """A gpt2-style BPE vocabulary of exactly the requested size.

    Attributes:
        tokens: Token strings by id.
        token_types: gguf token types by id (3 = control for specials, 1 = normal).
        merges: ``"a b"`` merge rules; every merge result is a token.
    """

    tokens: tuple[str, ...]
    token_types: tuple[int, ...]
    merges: tuple[str, ...]


def build_vocab(vocab_size: int) -> Vocab:
    """Specials, the 256 byte tokens, then two-byte merge tokens until ``vocab_size`` is reached.

    Args:
        vocab_size: Total tokens; at least 14 + 256 and at most 14 + 256 + 65,536.

    Returns:
        The vocabulary.

    Raises:
        ValueError: ``vocab_size`` is out of range.
    """
    n_merge = vocab_size - len(SPECIAL_TOKENS) - 256
    if not 0 <= n_merge <= 256 * 256:
        raise ValueError(f"vocab_size {vocab_size} out of range for the synthetic tokenizer")
    byte_chars = _bytes_to_unicode()
    merges = [f"{a} {b}" for a in byte_chars for b in byte_chars][:n_merge]
    tokens = [*SPECIAL_TOKENS, *byte_chars, *(m.replace(" ", "") for m in merges)]
    types = [3] * len(SPECIAL_TOKENS) + [1] * (len(tokens) - len(SPECIAL_TOKENS))
    return Vocab(tokens=tuple(tokens), token_types=tuple(types), merges=tuple(merges))


def _random_f16_pool(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` finite random float16 values of magnitude 2^-7 .. 2^-5 with random signs."""
    bits = rng.integers(0, 1 << 16, size=n, dtype=np.uint16)
    bits &= np.uint16(0x87FF)  # keep sign, lowest exponent bit and mantissa
    bits |= np.uint16(0x2000)  # exponent field 8 or 9: finite, small
    return bits.view(np.float16)


def write_gguf(cfg: SynthConfig, path: Path, *, seed: int = 0) -> int:
    """Write the F16 source GGUF for ``cfg`` to ``path``, streaming one tensor at a time.

    Args:
        cfg: The architecture.
        path: Output file; written to ``path.tmp`` then renamed, so a partial file never remains.
        seed: Random seed.

    Returns:
        The file size in bytes.
    """
    import gguf  # imported here so that the plan functions work without the package

    plan = tensor_plan(cfg)
    vocab = build_vocab(cfg.vocab_size)
    rng = np.random.default_rng(seed)
    tmp = path.with_name(path.name + ".tmp")
    w = gguf.GGUFWriter(tmp, cfg.arch)
    w.add_name(f"{cfg.name} synthetic (random weights)")
    w.add_size_label(cfg.name.split("-", 1)[1])
    w.add_file_type(FTYPE_MOSTLY_F16)
    w.add_block_count(cfg.n_layer)
    w.add_context_length(cfg.context_length)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.ff_length)
    w.add_head_count(cfg.n_head)
    w.add_head_count_kv(cfg.head_count_kv_array())
    w.add_rope_freq_base(cfg.rope_freq_base)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(cfg.vocab_size)
    w.add_shortconv_l_cache(cfg.l_cache)
    if cfg.is_moe:
        w.add_expert_count(cfg.n_expert)
        w.add_expert_used_count(cfg.n_expert_used)
        w.add_expert_feed_forward_length(cfg.expert_ff_length)
        w.add_leading_dense_block_count(cfg.n_dense_lead)
        w.add_expert_gating_func(gguf.ExpertGatingFuncType.SIGMOID)
        w.add_expert_weights_norm(True)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("lfm2")
    w.add_token_list(list(vocab.tokens))
    w.add_token_types(list(vocab.token_types))
    w.add_token_merges(list(vocab.merges))
    w.add_bos_token_id(BOS_ID)
    w.add_eos_token_id(EOS_ID)
    w.add_pad_token_id(PAD_ID)
    w.add_add_bos_token(True)
    w.add_chat_template(CHAT_TEMPLATE)

    for t in plan:
        np_dtype = np.float32 if t.ggml_type == GGML_F32 else np.float16
        w.add_tensor_info(t.name, tuple(reversed(t.ne)), np.dtype(np_dtype), t.n_bytes)

    biggest = max(t.n_elements for t in plan if t.ggml_type == GGML_F16)
    slack = 1 << 20
    pool = _random_f16_pool(biggest + slack, rng)

    w.write_header_to_file(tmp)
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for t in plan:
        shape = tuple(reversed(t.ne))
        if t.ggml_type == GGML_F16:
            off = int(rng.integers(0, slack))
            arr = pool[off : off + t.n_elements].reshape(shape)
        elif t.name.endswith("_norm.weight"):
            arr = np.ones(shape, dtype=np.float32)
        elif t.name.endswith(".bias"):
            arr = np.zeros(shape, dtype=np.float32)
        else:
            arr = rng.standard_normal(t.n_elements, dtype=np.float32).reshape(shape) * 0.02
        w.write_tensor_data(arr)
    w.close()
    tmp.replace(path)
    return path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    """CLI: write one synthetic F16 GGUF."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("variant", choices=sorted(CONFIGS))
    p.add_argument("out", type=Path)
    args = p.parse_args(argv)
    cfg = CONFIGS[args.variant]
    t0 = time.monotonic()
    size = write_gguf(cfg, args.out)
    print(
        f"{args.out}: {size} bytes, {parameter_count(cfg)} params, {time.monotonic() - t0:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
