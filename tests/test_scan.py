"""scan: a fake home with every store's layout lists exactly its LFM2-family files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmcheck import scan as scan_mod
from llmcheck.gguf.describe import Lfm2Model, Lfm2Projector
from llmcheck.scan import ScanResult, Store, default_roots, scan
from tests.gguf import _make as m
from tests.gguf.stores import blob, manifest, store_home


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home folder with LM Studio, llama.cpp, Hugging Face and Ollama stores."""
    return store_home(tmp_path)


def _run(home: Path, **kwargs: object) -> ScanResult:
    """Scan ``home`` as a Linux machine whose system folders are ``home``'s sibling "root"."""
    root = home.parent / "root"
    return scan(home=home, env={}, platform="linux", system_root=root, **kwargs)  # type: ignore[arg-type]


def test_fake_home_lists_exactly_the_lfm2_files(home: Path) -> None:
    result = _run(home)
    labels = sorted((f.store.value, f.label) for f in result.models)
    assert labels == [
        ("huggingface", "unsloth/LFM2-1.2B-GGUF/LFM2-1.2B-UD-Q3_K_XL.gguf"),
        ("llama.cpp", "LiquidAI_LFM2-8B-A1B-GGUF_LFM2-8B-A1B-Q4_K_M-00001-of-00003.gguf (split)"),
        ("lm-studio", "LiquidAI/LFM2-1.2B-GGUF/LFM2-1.2B-Q4_K_M.gguf"),
        ("lm-studio", "LiquidAI/LFM2-VL-1.6B-GGUF/LFM2-VL-1.6B-Q8_0.gguf"),
        ("lm-studio", "LiquidAI/LFM2-VL-1.6B-GGUF/mmproj-LFM2-VL-1.6B-F16.gguf"),
        ("ollama", "hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M"),
        ("ollama", "hf.co/LiquidAI/LFM2-VL-1.6B-GGUF:latest"),
        ("ollama", "hf.co/LiquidAI/LFM2-VL-1.6B-GGUF:latest (projector)"),
    ]
    assert result.other_architecture_files == 2  # Qwen3 in LM Studio, llama3.2 in Ollama
    assert result.unreadable_files == 1
    assert result.complete
    by_label = {f.label: f for f in result.models}
    moe = by_label["LiquidAI_LFM2-8B-A1B-GGUF_LFM2-8B-A1B-Q4_K_M-00001-of-00003.gguf (split)"]
    assert isinstance(moe.model, Lfm2Model)
    assert moe.model.is_moe
    assert len(moe.model.parts) == 3
    assert moe.file_size_bytes == sum(p.stat().st_size for p in moe.model.parts)
    hf = by_label["unsloth/LFM2-1.2B-GGUF/LFM2-1.2B-UD-Q3_K_XL.gguf"]
    assert isinstance(hf.model, Lfm2Model)
    assert hf.model.file_type == "Q3_K_M"
    vl = by_label["LiquidAI/LFM2-VL-1.6B-GGUF/LFM2-VL-1.6B-Q8_0.gguf"]
    assert vl.projector_path is not None
    assert vl.projector_path.name == "mmproj-LFM2-VL-1.6B-F16.gguf"
    assert by_label["LiquidAI/LFM2-1.2B-GGUF/LFM2-1.2B-Q4_K_M.gguf"].projector_path is None
    ollama_vl = by_label["hf.co/LiquidAI/LFM2-VL-1.6B-GGUF:latest"]
    assert ollama_vl.projector_path is not None
    assert ollama_vl.projector_path.name.startswith("sha256-")
    assert isinstance(by_label[ollama_vl.label + " (projector)"].model, Lfm2Projector)
    assert {r.store for r in result.roots_scanned} == {
        Store.LM_STUDIO,
        Store.LLAMA_CPP,
        Store.HUGGING_FACE,
        Store.OLLAMA,
    }


def test_skips_are_noted(home: Path) -> None:
    notes = [(n.path.name if n.path else None, n.message) for n in _run(home).notes]
    messages = " | ".join(msg for _, msg in notes)
    assert "symlink loop" in messages
    assert "broken link" in messages
    assert "bad digest" in messages
    assert "not an Ollama manifest" in messages
    assert any(name == "broken-LFM2-350M-Q4_0.gguf" and "truncated" in msg for name, msg in notes)
    assert all("\n" not in msg for _, msg in notes)


def test_scan_writes_nothing(home: Path) -> None:
    def snapshot() -> dict[str, tuple[int, int]]:
        out = {}
        for dirpath, dirnames, filenames in os.walk(home):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                st = p.lstat()
                out[str(p)] = (st.st_size, st.st_mtime_ns)
        return out

    before = snapshot()
    _run(home)
    assert snapshot() == before


def test_environment_overrides(tmp_path: Path) -> None:
    env = {
        "LLAMA_CACHE": str(tmp_path / "lc"),
        "HF_HOME": str(tmp_path / "hf"),
        "OLLAMA_MODELS": str(tmp_path / "ol"),
    }
    roots = {r.store: r.path for r in default_roots(tmp_path / "h", env, "linux")}
    assert roots[Store.LLAMA_CPP] == tmp_path / "lc"
    assert roots[Store.HUGGING_FACE] == tmp_path / "hf" / "hub"
    assert roots[Store.OLLAMA] == tmp_path / "ol"
    env["HF_HUB_CACHE"] = str(tmp_path / "hub2")
    assert {r.store: r.path for r in default_roots(tmp_path, env)}[Store.HUGGING_FACE] == (
        tmp_path / "hub2"
    )


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("linux", {}, ".cache/llama.cpp"),
        ("linux", {"XDG_CACHE_HOME": "/xdg"}, "/xdg/llama.cpp"),
        ("darwin", {}, "Library/Caches/llama.cpp"),
        ("win32", {"LOCALAPPDATA": "/appdata"}, "/appdata/llama.cpp"),
    ],
)
def test_llama_cpp_cache_per_platform(
    tmp_path: Path, platform: str, env: dict[str, str], expected: str
) -> None:
    roots = {r.store: r.path for r in default_roots(tmp_path, env, platform)}
    assert roots[Store.LLAMA_CPP] == tmp_path / expected


def test_added_folders(tmp_path: Path) -> None:
    mine = tmp_path / "models"
    (mine / "a" / "b").mkdir(parents=True)
    m.write_lfm2(mine / "a" / "b" / "lfm2-1.2b-q4_k_m.GGUF")
    ollama_copy = tmp_path / "usr-share-ollama"
    (ollama_copy / "blobs").mkdir(parents=True)
    digest = blob(ollama_copy / "blobs", lambda p: m.write_lfm2(p))
    manifest(
        ollama_copy / "manifests" / "registry.ollama.ai" / "sam" / "lfm2" / "1.2b",
        [("application/vnd.ollama.image.model", f"sha256:{digest}")],
    )
    result = _run(tmp_path / "empty-home", folders=[mine, ollama_copy, tmp_path / "absent"])
    assert sorted(f.label for f in result.models) == ["a/b/lfm2-1.2b-q4_k_m.GGUF", "sam/lfm2:1.2b"]
    assert [f.store for f in result.models] == [Store.FOLDER, Store.FOLDER]
    assert any("not a folder" in n.message for n in result.notes)


def test_linux_ollama_service_store(tmp_path: Path) -> None:
    service = tmp_path / "root" / "usr" / "share" / "ollama" / ".ollama" / "models"
    (service / "blobs").mkdir(parents=True)
    digest = blob(service / "blobs", lambda p: m.write_lfm2(p))
    manifest(
        service / "manifests" / "registry.ollama.ai" / "library" / "lfm2" / "latest",
        [("application/vnd.ollama.image.model", f"sha256:{digest}")],
    )
    found = _run(tmp_path / "home").models
    assert [(f.store, f.label) for f in found] == [(Store.OLLAMA, "lfm2:latest")]
    mac = scan(home=tmp_path / "home", env={}, platform="darwin", system_root=tmp_path / "root")
    assert mac.models == ()


def test_depth_bound(tmp_path: Path) -> None:
    deep = tmp_path / "d"
    folder = deep.joinpath(*"abcdef")
    folder.mkdir(parents=True)
    m.write_lfm2(folder / "LFM2-1.2B-Q4_K_M.gguf")
    assert _run(tmp_path / "h", folders=[deep]).models
    shallow = _run(tmp_path / "h", folders=[deep], max_depth=3)
    assert shallow.models == ()
    assert any("deeper than 3" in n.message for n in shallow.notes)


def test_deadline_stops_the_scan(home: Path) -> None:
    ticks = iter(range(1_000_000))

    def clock() -> float:
        return float(next(ticks))  # one second per look at the clock

    result = _run(home, deadline_s=5.0, clock=clock)
    assert not result.complete
    assert any("stopped after 5 s" in n.message for n in result.notes)
    assert len(result.models) < 8


def test_entry_and_file_bounds(home: Path) -> None:
    assert not _run(home, max_entries=3).complete
    few = _run(home, max_files=2)
    assert not few.complete
    assert len(few.models) <= 2


def test_unreadable_folder_is_noted(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder the user may not list (faked below the code: os.scandir refuses it)."""
    real = os.scandir
    locked = home / ".lmstudio" / "models" / "LiquidAI"

    def scandir(path: Path) -> Iterator[os.DirEntry[str]]:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(scan_mod.os, "scandir", scandir)
    result = _run(home)
    assert any(n.path == locked and "Permission denied" in n.message for n in result.notes)
    assert not any(f.label.startswith("LiquidAI/") for f in result.models)
    assert any(f.store is Store.OLLAMA for f in result.models)  # the rest still scanned
