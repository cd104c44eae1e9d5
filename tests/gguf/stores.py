"""A fake home folder with every model store llmcheck scans (LM Studio, llama.cpp's cache, the
Hugging Face hub, Ollama), holding LFM2 files, other models and hostile entries."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.gguf import _make as m


def blob(blobs: Path, write: object) -> str:
    """Write a GGUF with ``write(path)`` into an Ollama/HF blob store; returns its sha256 hex."""
    tmp = blobs / "incoming.gguf"
    write(tmp)  # type: ignore[operator]
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    tmp.rename(blobs / f"sha256-{digest}")
    return digest


def manifest(path: Path, layers: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "schemaVersion": 2,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "digest": "sha256:" + "0" * 64,
            "size": 1,
        },
        "layers": [{"mediaType": media, "digest": digest, "size": 1} for media, digest in layers],
    }
    path.write_text(json.dumps(doc))


def store_home(tmp_path: Path) -> Path:
    """A home folder with LM Studio, llama.cpp, Hugging Face and Ollama stores."""
    h = tmp_path / "home"
    # LM Studio: an LFM2 model, an LFM2-VL model with its projector, another architecture.
    lms = h / ".lmstudio" / "models"
    (lms / "LiquidAI" / "LFM2-1.2B-GGUF").mkdir(parents=True)
    m.write_lfm2(lms / "LiquidAI" / "LFM2-1.2B-GGUF" / "LFM2-1.2B-Q4_K_M.gguf")
    vl = lms / "LiquidAI" / "LFM2-VL-1.6B-GGUF"
    vl.mkdir(parents=True)
    m.write_lfm2(vl / "LFM2-VL-1.6B-Q8_0.gguf")
    m.write_projector(vl / "mmproj-LFM2-VL-1.6B-F16.gguf")
    (lms / "lmstudio-community" / "Qwen3-4B-GGUF").mkdir(parents=True)
    m.write_other(lms / "lmstudio-community" / "Qwen3-4B-GGUF" / "Qwen3-4B-Q4_K_M.gguf")
    (lms / "loop").symlink_to(lms)  # a symlink loop
    (lms / "notes.txt").write_text("not a model")
    # llama.cpp cache: a split MoE model and a truncated download.
    cache = h / ".cache" / "llama.cpp"
    cache.mkdir(parents=True)
    m.write_lfm2(
        cache / "LiquidAI_LFM2-8B-A1B-GGUF_LFM2-8B-A1B-Q4_K_M.gguf",
        m.TINY_MOE,
        split_max_tensors=20,
    )
    (cache / "broken-LFM2-350M-Q4_0.gguf").write_bytes(b"GGUF\x03\x00\x00\x00\x05")
    # Hugging Face hub: two snapshots linking the same blob, and a broken link.
    repo = h / ".cache" / "huggingface" / "hub" / "models--unsloth--LFM2-1.2B-GGUF"
    (repo / "blobs").mkdir(parents=True)
    digest = blob(repo / "blobs", lambda p: m.write_lfm2(p, m.with_(m.TINY, file_type=12)))
    for rev in ("aaaa", "bbbb"):
        snap = repo / "snapshots" / rev
        snap.mkdir(parents=True)
        (snap / "LFM2-1.2B-UD-Q3_K_XL.gguf").symlink_to(f"../../blobs/sha256-{digest}")
    (repo / "snapshots" / "bbbb" / "LFM2-1.2B-Q2_K.gguf").symlink_to("../../blobs/absent")
    # Ollama: an hf.co LFM2 model, an LFM2-VL model with its projector layer, a library model.
    ollama = h / ".ollama" / "models"
    blobs = ollama / "blobs"
    blobs.mkdir(parents=True)
    man = ollama / "manifests"
    lfm = blob(blobs, lambda p: m.write_lfm2(p))
    manifest(
        man / "hf.co" / "LiquidAI" / "LFM2-1.2B-GGUF" / "Q4_K_M",
        [
            ("application/vnd.ollama.image.model", f"sha256:{lfm}"),
            ("application/vnd.ollama.image.template", "sha256:" + "1" * 64),
        ],
    )
    vlm = blob(blobs, lambda p: m.write_lfm2(p, m.with_(m.TINY, name="LFM2 VL")))
    proj = blob(blobs, lambda p: m.write_projector(p))
    manifest(
        man / "hf.co" / "LiquidAI" / "LFM2-VL-1.6B-GGUF" / "latest",
        [
            ("application/vnd.ollama.image.model", f"sha256:{vlm}"),
            ("application/vnd.ollama.image.projector", f"sha256:{proj}"),
        ],
    )
    other = blob(blobs, lambda p: m.write_other(p, "llama"))
    manifest(
        man / "registry.ollama.ai" / "library" / "llama3.2" / "latest",
        [("application/vnd.ollama.image.model", f"sha256:{other}")],
    )
    manifest(
        man / "registry.ollama.ai" / "library" / "evil" / "latest",
        [("application/vnd.ollama.image.model", "sha256:../../../../etc/passwd")],
    )
    (man / "registry.ollama.ai" / "library" / "junk").mkdir(parents=True)
    (man / "registry.ollama.ai" / "library" / "junk" / "latest").write_text("{not json")
    return h
