"""names.resolve: every form people paste, table-driven, and the suggestions' order."""

from __future__ import annotations

import pytest

from llmcheck.catalog import load_catalog
from llmcheck.names import NameNotFound, Resolution, parse_quant, resolve

RESOLVES: list[tuple[str, str, str | None, str]] = [
    # (pasted, variant id, quant, a word of `how`)
    ("lfm2-1.2b", "lfm2-1.2b", None, "name"),
    ("LFM2-1.2B", "lfm2-1.2b", None, "name"),
    ("  'LFM2-1.2B'  ", "lfm2-1.2b", None, "name"),
    ("lfm2-1.2b-rag", "lfm2-1.2b-rag", None, "name"),
    ("LFM2.5-1.2B-Instruct", "lfm2.5-1.2b-instruct", None, "name"),
    ("hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M", "lfm2-1.2b", "Q4_K_M", "LiquidAI/LFM2-1.2B-GGUF"),
    ("hf.co/LiquidAI/LFM2-1.2B-GGUF:q8_0", "lfm2-1.2b", "Q8_0", "Ollama"),
    ("hf.co/LiquidAI/LFM2-1.2B-GGUF", "lfm2-1.2b", None, "Hugging Face repository"),
    ("hf.co/LiquidAI/LFM2-1.2B-GGUF:latest", "lfm2-1.2b", None, "LiquidAI"),
    ("ollama run hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M", "lfm2-1.2b", "Q4_K_M", "Ollama"),
    ("hf.co/unsloth/LFM2-1.2B-GGUF:UD-Q4_K_XL", "lfm2-1.2b", "UD-Q4_K_XL", "not Liquid AI's"),
    ("https://huggingface.co/LiquidAI/LFM2-1.2B-GGUF", "lfm2-1.2b", None, "link"),
    ("https://huggingface.co/LiquidAI/LFM2-1.2B-GGUF/tree/main", "lfm2-1.2b", None, "link"),
    (
        "https://huggingface.co/LiquidAI/LFM2-1.2B-GGUF/blob/main/LFM2-1.2B-Q6_K.gguf?download=true",
        "lfm2-1.2b",
        "Q6_K",
        "link",
    ),
    (
        "https://huggingface.co/LiquidAI/LFM2-1.2B-GGUF/resolve/main/LFM2-1.2B-Q4_0.gguf",
        "lfm2-1.2b",
        "Q4_0",
        "link",
    ),
    ("huggingface.co/LiquidAI/LFM2-VL-1.6B-GGUF", "lfm2-vl-1.6b", None, "repository"),
    ("LiquidAI/LFM2-1.2B-GGUF", "lfm2-1.2b", None, "LiquidAI/LFM2-1.2B-GGUF"),
    ("LiquidAI/LFM2-1.2B", "lfm2-1.2b", None, "LiquidAI/LFM2-1.2B"),
    ("liquidai/lfm2-1.2b-gguf", "lfm2-1.2b", None, "repository"),
    ("LiquidAI/LFM2-8B-A1B-GGUF", "lfm2-8b-a1b", None, "repository"),
    ("LiquidAI/LFM2.5-1.2B-Thinking-GGUF", "lfm2.5-1.2b-thinking", None, "repository"),
    ("unsloth/LFM2-1.2B-GGUF", "lfm2-1.2b", None, "not Liquid AI's"),
    ("bartowski/LiquidAI_LFM2-1.2B-GGUF", "lfm2-1.2b", None, "bartowski"),
    ("lmstudio-community/LFM2-1.2B-GGUF", "lfm2-1.2b", None, "lmstudio-community"),
    ("LFM2-1.2B-Q4_K_M.gguf", "lfm2-1.2b", "Q4_K_M", "GGUF file name"),
    ("LFM2-1.2B-UD-Q4_K_XL.gguf", "lfm2-1.2b", "UD-Q4_K_XL", "GGUF file name"),
    ("lfm2-1.2b-q4_k_m.gguf", "lfm2-1.2b", "Q4_K_M", "GGUF file name"),
    ("LFM2-1.2B-IQ4_XS.gguf", "lfm2-1.2b", "IQ4_XS", "GGUF file name"),
    ("LFM2-1.2B-Q3_K_M.gguf", "lfm2-1.2b", "Q3_K_M", "GGUF file name"),
    ("LFM2-1.2B-F16.gguf", "lfm2-1.2b", "F16", "GGUF file name"),
    ("LFM2-1.2B-BF16.gguf", "lfm2-1.2b", "BF16", "GGUF file name"),
    ("LFM2-1.2B-RAG-Q4_K_M.gguf", "lfm2-1.2b-rag", "Q4_K_M", "GGUF file name"),
    ("LFM2-24B-A2B-Q4_K_M-00001-of-00002.gguf", "lfm2-24b-a2b", "Q4_K_M", "GGUF file name"),
    ("LFM2-24B-A2B-Q8_0-00002-of-00002.gguf", "lfm2-24b-a2b", "Q8_0", "GGUF file name"),
    ("LiquidAI_LFM2-1.2B-Q5_K_S.gguf", "lfm2-1.2b", "Q5_K_S", "GGUF file name"),
    ("mmproj-LFM2-VL-1.6B-F16.gguf", "lfm2-vl-1.6b", "F16", "projector"),
    ("/home/me/models/LFM2-700M-Q8_0.gguf", "lfm2-700m", "Q8_0", "GGUF file name"),
    ("C:\\Users\\me\\LFM2-350M-Q4_0.gguf", "lfm2-350m", "Q4_0", "GGUF file name"),
    ("LFM2-2.6B-Exp-Q4_K_M.gguf", "lfm2-2.6b-exp", "Q4_K_M", "GGUF file name"),
    ("lfm2:1.2b", "lfm2-1.2b", None, "Ollama"),
    ("lfm2:1.2b-q4_K_M", "lfm2-1.2b", "Q4_K_M", "Ollama"),
    ("lfm2-1.2b:Q6_K", "lfm2-1.2b", "Q6_K", "Ollama"),
    ("lfm2.5-thinking:1.2b", "lfm2.5-1.2b-thinking", None, "Ollama"),
    ("sam/lfm2-1.2b:q4_k_m", "lfm2-1.2b", "Q4_K_M", "sam/lfm2-1.2b"),
    ("lfm2-1.2b-q4_k_m", "lfm2-1.2b", "Q4_K_M", "quantization"),
]


@pytest.mark.parametrize(("text", "variant", "quant", "how"), RESOLVES)
def test_resolves(text: str, variant: str, quant: str | None, how: str) -> None:
    got = resolve(text)
    assert (got.variant_id, got.quant) == (variant, quant)
    assert how in got.how


def test_every_catalog_spelling_resolves_to_its_variant() -> None:
    for v in load_catalog().variants:
        for text in (
            v.id,
            v.name,
            v.hf_repo,
            f"hf.co/{v.hf_repo}:Q4_K_M",
            f"{v.gguf_file_prefix}-Q4_K_M.gguf",
            f"https://huggingface.co/{v.hf_repo}",
        ):
            assert resolve(text).variant_id == v.id, text


def test_resolution_is_frozen() -> None:
    r = resolve("lfm2-1.2b")
    assert isinstance(r, Resolution)
    with pytest.raises(AttributeError):
        r.quant = "Q8_0"  # type: ignore[misc]


SUGGESTS: list[tuple[str, list[str]]] = [
    # (pasted, the suggestions must start with these, in this order)
    ("lfm2", ["lfm2-350m", "lfm2-700m", "lfm2-1.2b", "lfm2-2.6b"]),
    ("lfm2-1.2b-foo", ["lfm2-1.2b"]),
    ("lfm2-1.2b-rag-v2", ["lfm2-1.2b-rag", "lfm2-1.2b"]),
    ("lfm2-1.2", ["lfm2-1.2b"]),
    ("LiquidAI/LFM2-1.2B-Chat-GGUF", ["lfm2-1.2b"]),
    ("lfm2-1.3b", ["lfm2-1.2b"]),
]


@pytest.mark.parametrize(("text", "first"), SUGGESTS)
def test_suggestions_rank_the_longest_match_first(text: str, first: list[str]) -> None:
    with pytest.raises(NameNotFound) as info:
        resolve(text)
    assert list(info.value.suggestions[: len(first)]) == first
    assert "did you mean" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "qwen3-4b",
        "meta-llama/Llama-3.2-1B-Instruct",
        "hf.co/Qwen/Qwen3-4B-GGUF:Q4_K_M",
        "https://example.com/LFM2",
        "",
        "   ",
        "x" * 10_000,
        "lfm2\x1b[2J",
    ],
)
def test_unknown_names_raise(text: str) -> None:
    with pytest.raises(NameNotFound) as info:
        resolve(text)
    message = str(info.value)
    assert "\n" not in message
    assert "\x1b" not in message
    assert len(message) < 400


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("q4_k_m", "Q4_K_M"),
        ("IQ4_XS", "IQ4_XS"),
        ("UD-Q4_K_XL", "UD-Q4_K_XL"),
        ("f16", "F16"),
        ("Q4", "Q4"),
        ("lfm2", None),
        ("Q9_K", None),
        ("", None),
    ],
)
def test_parse_quant(text: str, expected: str | None) -> None:
    assert parse_quant(text) == expected
