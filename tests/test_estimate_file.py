"""A GGUF file as the question (issue #12): synthetic files written with llama.cpp's ``gguf``.

Full-size headers with sparse data: every catalog architecture at Q4_K_M and Q8_0, typed by the
catalog's own llama-quantize rules, gives the catalog's answer field for field (the command names
the file); a mixed "dynamic" file gives the weights of its own tensors.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmcheck.catalog import FileQuantTable, load_catalog, variant_tensors
from llmcheck.estimate import RunConfig, estimate
from llmcheck.estimate.from_gguf import estimate_file, file_question, pair_projector
from llmcheck.gguf import Lfm2Model, Lfm2Projector, describe, read_gguf
from llmcheck.snapshot import (
    CpuInfo,
    GpuInfo,
    GpuVendor,
    MemoryInfo,
    OsInfo,
    SystemSnapshot,
)
from tests.gguf import _make as m

GIB = 1 << 30
CATALOG = load_catalog()


def _machine(vram_gib: float = 24.0, ram_gib: float = 64.0) -> SystemSnapshot:
    return SystemSnapshot(
        os=OsInfo(system="Linux"),
        cpu=CpuInfo(arch="x86_64", features=("avx2",)),
        memory=MemoryInfo(
            total_bytes=int(ram_gib * GIB) + GIB,
            available_bytes=int(ram_gib * GIB),
            bandwidth_gb_s=60.0,
        ),
        gpus=(
            GpuInfo(
                index=0,
                vendor=GpuVendor.NVIDIA,
                total_bytes=int(vram_gib * GIB) + GIB,
                free_bytes=int(vram_gib * GIB),
                bandwidth_gb_s=900.0,
            ),
        ),
    )


def _write(
    tmp_path: Path, variant_id: str, quant: str, retype: dict[str, str] | None = None
) -> Lfm2Model:
    variant = CATALOG.variant(variant_id)
    plan = {
        t.name: t.ggml_type
        for t in variant_tensors(variant.architecture, quant, variant.quant_table)
    }
    plan.update(retype or {})
    (path,) = m.write_lfm2(
        tmp_path / variant.gguf_file_name(quant),
        m.spec_of(variant.architecture, variant.name, size_label="", file_type=None),
        types=lambda n, s: plan[n],
    )
    d = describe(read_gguf(path))
    assert isinstance(d, Lfm2Model)
    return d


def _base_variants() -> list[str]:
    """One text variant per catalog architecture (the one whose id is the architecture's)."""
    ids = []
    for a in CATALOG.architectures:
        v = next(v for v in CATALOG.variants if v.architecture is a and v.vision is None)
        ids.append(v.id)
    return ids


@pytest.mark.parametrize("quant", ["Q4_K_M", "Q8_0"])
@pytest.mark.parametrize("variant_id", _base_variants())
def test_catalog_file_gives_the_catalog_answer(tmp_path: Path, variant_id: str, quant: str) -> None:
    model = _write(tmp_path, variant_id, quant)
    q = file_question(model)
    assert q.matches_catalog
    assert (q.quant, q.variant.id) == (quant, variant_id)
    variant = CATALOG.variant(variant_id)
    for vram in (24.0, 1.5):  # whole offload, and a partial one
        config = RunConfig(context_tokens=8192)
        machine = _machine(vram)
        got = estimate_file(model, None, config, machine)
        want = estimate(variant, quant, config, machine)
        assert f"-m {model.path}" in got.llama_cpp_command
        assert replace(got, llama_cpp_command=want.llama_cpp_command) == want


@pytest.mark.parametrize("variant_id", ["lfm2-1.2b", "lfm2-8b-a1b"])
def test_file_table_reproduces_the_rules_when_the_tensors_are_the_same(
    tmp_path: Path, variant_id: str
) -> None:
    """The file path itself (no catalog match) prices the same tensors the same way."""
    model = _write(tmp_path, variant_id, "Q4_K_M")
    forced = replace(model, name="Someone's fine-tune", path=model.path.with_name("ft.gguf"))
    q = file_question(forced, catalog=replace(CATALOG, variants=()))
    assert not q.matches_catalog
    assert isinstance(q.variant.quant_table, FileQuantTable)
    config, machine = RunConfig(context_tokens=4096), _machine(1.0)
    got = estimate(q.variant, q.quant, config, machine)
    want = estimate(CATALOG.variant(variant_id), "Q4_K_M", config, machine)
    assert [d.terms for d in got.devices] == [d.terms for d in want.devices]
    assert got.speed is not None
    assert want.speed is not None
    assert got.speed.low_tokens_per_second == want.speed.low_tokens_per_second
    assert got.gpu_layers == want.gpu_layers


def test_dynamic_quant_file_weights_are_its_own(tmp_path: Path) -> None:
    """A UD-style file: ffn_down of every block at Q8_0, attn_* at Q6_K (an imatrix-style mix)."""
    variant = CATALOG.variant("lfm2-1.2b")
    plan = variant_tensors(variant.architecture, "Q4_K_M", variant.quant_table)
    retype = {
        t.name: ("Q8_0" if t.name.endswith("ffn_down.weight") else "Q6_K")
        for t in plan
        if t.name.endswith(("ffn_down.weight", "attn_q.weight", "attn_k.weight"))
    }
    model = _write(tmp_path, "lfm2-1.2b", "Q4_K_M", retype)
    model = replace(model, path=model.path.with_name("LFM2-1.2B-UD-Q4_K_XL.gguf"))
    q = file_question(model)
    assert not q.matches_catalog
    assert (q.quant, q.variant.id) == ("UD-Q4_K_XL", "lfm2-1.2b")
    config = RunConfig(context_tokens=4096)
    fit = estimate_file(model, None, config, _machine(24.0))
    catalog_fit = estimate(variant, "Q4_K_M", config, _machine(24.0))
    gpu = fit.devices[0].terms
    # On the GPU: every tensor of the file (token_embd again as the tied output), padded to 32.
    file_data = sum(-(-t.n_bytes // 32) * 32 for t in model.tensors)
    assert gpu.weights_bytes == file_data
    assert fit.devices[-1].terms.weights_bytes == model.token_embd_bytes
    assert gpu.weights_bytes > catalog_fit.devices[0].terms.weights_bytes
    assert gpu.kv_cache_bytes == catalog_fit.devices[0].terms.kv_cache_bytes
    assert fit.file_size_bytes == model.file_size_bytes
    assert any("own tensor types" in a for a in fit.assumptions)
    assert not any("community quant" in a for a in fit.assumptions)


def test_unknown_shape_is_estimated_from_the_header(tmp_path: Path) -> None:
    (path,) = m.write_lfm2(tmp_path / "tiny-Q4_K_M.gguf", m.TINY_MOE)
    model = describe(read_gguf(path))
    assert isinstance(model, Lfm2Model)
    q = file_question(model)
    assert q.catalog_variant_id is None
    assert not q.matches_catalog
    arch = q.variant.architecture
    assert (arch.n_layer, arch.attention_layers, arch.n_expert) == (4, (2,), 4)
    fit = estimate_file(model, None, RunConfig(context_tokens=1024), _machine(24.0))
    assert fit.verdict.value == "runs_great"
    # Every layer and the output layer (the tied token_embd) on the GPU: the whole tensor data.
    assert fit.devices[0].terms.weights_bytes == sum(
        -(-t.n_bytes // 32) * 32 for t in model.tensors
    )


def test_projector_adds_its_bytes_and_is_named(tmp_path: Path) -> None:
    model = _write(tmp_path, "lfm2-1.2b", "Q4_0")
    proj_path = m.write_projector(tmp_path / "mmproj-LFM2-VL-1.6B-F16.gguf")
    assert pair_projector(model.path) == proj_path
    projector = describe(read_gguf(proj_path))
    assert isinstance(projector, Lfm2Projector)
    config, machine = RunConfig(), _machine(24.0)
    alone = estimate_file(model, None, config, machine)
    both = estimate_file(model, projector, config, machine)
    added = sum(-(-t.n_bytes // 32) * 32 for t in projector.tensors)
    assert both.devices[0].terms.weights_bytes - alone.devices[0].terms.weights_bytes == added
    assert f"--mmproj {proj_path}" in both.llama_cpp_command
    assert any("mmproj file's own tensors" in a for a in both.assumptions)


def test_pair_projector_none_or_ambiguous(tmp_path: Path) -> None:
    model = tmp_path / "LFM2-VL-1.6B-Q4_0.gguf"
    assert pair_projector(model) is None
    (tmp_path / "mmproj-A-F16.gguf").write_bytes(b"")
    (tmp_path / "mmproj-B-F16.gguf").write_bytes(b"")
    assert pair_projector(model) is None  # two, neither named like the model
    (tmp_path / "mmproj-LFM2-VL-1.6B-F16.gguf").write_bytes(b"")
    assert pair_projector(model) == tmp_path / "mmproj-LFM2-VL-1.6B-F16.gguf"
    assert pair_projector(tmp_path / "missing" / "x.gguf") is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_layer=st.integers(1, 300),
    attention=st.lists(st.integers(0, 299), max_size=40),
    n_head=st.integers(1, 1 << 16),
    n_head_kv=st.integers(0, 1 << 16),
    head_dim=st.integers(1, 1 << 20),
    hidden=st.integers(1, 1 << 40),
    ffn=st.integers(0, 1 << 40),
    vocab=st.integers(1, 1 << 40),
    context=st.integers(1, 1 << 40),
    experts=st.tuples(
        st.integers(0, 1 << 16),
        st.integers(0, 1 << 16),
        st.integers(0, 1 << 30),
        st.integers(0, 1 << 12),
    ),
    ctx=st.integers(1, 1 << 20),
)
def test_any_header_values_give_an_answer(
    moe_model: Lfm2Model,
    n_layer: int,
    attention: list[int],
    n_head: int,
    n_head_kv: int,
    head_dim: int,
    hidden: int,
    ffn: int,
    vocab: int,
    context: int,
    experts: tuple[int, int, int, int],
    ctx: int,
) -> None:
    """Whatever values a header that describe() accepts holds, the estimate is an answer, never
    an exception (the file is untrusted input)."""
    n_expert, used, expert_ffn, lead = experts
    model = replace(
        moe_model,
        n_layer=n_layer,
        attention_layers=tuple(sorted({a for a in attention if a < n_layer})),
        n_head=n_head,
        n_head_kv=n_head_kv,
        head_dim=head_dim,
        hidden_size=hidden,
        ffn_size=ffn,
        vocab_size=vocab,
        context_tokens=context,
        n_expert=n_expert,
        n_expert_used=used,
        expert_ffn_size=expert_ffn,
        n_dense_lead_layers=lead,
    )
    fit = estimate_file(model, None, RunConfig(context_tokens=ctx), _machine())
    assert fit.total_bytes >= 0


@pytest.fixture(scope="module")
def moe_model(tmp_path_factory: pytest.TempPathFactory) -> Lfm2Model:
    (path,) = m.write_lfm2(tmp_path_factory.mktemp("moe") / "tiny-moe.gguf", m.TINY_MOE)
    d = describe(read_gguf(path))
    assert isinstance(d, Lfm2Model)
    return d


def test_vl_file_with_its_projector(tmp_path: Path) -> None:
    """LFM2-VL-1.6B Q4_0 (the LFM2-1.2B backbone) named as published, with an mmproj beside it:
    the VL variant, its published quant, the projector's real bytes instead of the estimate."""
    vl = CATALOG.variant("lfm2-vl-1.6b")
    assert vl.vision is not None
    model = _write(tmp_path, "lfm2-vl-1.6b", "Q4_0")
    assert model.path.name == "LFM2-VL-1.6B-Q4_0.gguf"
    projector = describe(read_gguf(m.write_projector(tmp_path / "mmproj-LFM2-VL-1.6B-F16.gguf")))
    assert isinstance(projector, Lfm2Projector)
    q = file_question(model, projector)
    assert q.matches_catalog
    assert (q.variant.id, q.quant) == ("lfm2-vl-1.6b", "Q4_0")
    assert q.variant.vision is not None
    assert not q.variant.vision.size_estimated
    config, machine = RunConfig(), _machine(24.0)
    fit = estimate_file(model, projector, config, machine)
    catalog_fit = estimate(vl, "Q4_0", config, machine)
    diff = fit.devices[0].terms.weights_bytes - catalog_fit.devices[0].terms.weights_bytes
    assert diff == q.variant.vision.size_bytes - vl.vision.size_bytes
    # without its projector the file runs as text only
    alone = file_question(model)
    assert alone.variant.vision is None
