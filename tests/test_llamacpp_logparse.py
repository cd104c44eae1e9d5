"""The llama.cpp calibration benchmark: GGUF writer, log parser, measure bookkeeping, comparison.

Nothing here imports llama_cpp. The log parser is fed real llama.cpp output: a log recorded on an
H100 by ``benchmarks/llamacpp_truth`` (tests/data/llamacpp/), and lines quoted from public
llama.cpp issues and projects (older prefixes, timestamps, syslog prefixes). The measure pipeline
runs with a fake launcher that replays recorded child output below the real bookkeeping code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.llamacpp_truth import compare, grid, logparse, measure, synth

DATA = Path(__file__).parent / "data" / "llamacpp"
H100_LOG = DATA / "h100_lfm2-350m_Q4_K_M_gpu_c2048_kvq8_0.log"
H100_JSON = DATA / "llamacpp_truth_h100.json"
QUOTED = DATA / "quoted"  # lines quoted verbatim from public llama.cpp logs (see README)
MIB = 1 << 20

# ----------------------------------------------------------------------------------------------
# Synthetic GGUF writer

TINY = synth.SynthConfig(
    key="tiny",
    name="Tiny-Dense",
    arch=synth.ARCH_DENSE,
    hidden_size=64,
    n_layer=4,
    attn_layers=(1, 3),
    n_head=4,
    n_head_kv=2,
    head_dim=16,
    ff_length=128,
    vocab_size=600,
)
TINY_MOE = synth.SynthConfig(
    key="tiny-moe",
    name="Tiny-MoE",
    arch=synth.ARCH_MOE,
    hidden_size=64,
    n_layer=4,
    attn_layers=(2,),
    n_head=4,
    n_head_kv=2,
    head_dim=16,
    ff_length=128,
    vocab_size=600,
    n_expert=4,
    n_expert_used=2,
    expert_ff_length=32,
    n_dense_lead=1,
)


@pytest.mark.parametrize(
    ("cfg", "params", "n_tensors"),
    [
        (synth.LFM2_350M, 354_483_968, 148),
        (synth.LFM2_1_2B, 1_170_340_608, 148),
        (synth.LFM2_2_6B, 2_569_272_320, 266),
        (synth.LFM2_8B_A1B, 8_339_930_560, 256),
    ],
)
def test_plan_matches_published_parameter_counts(
    cfg: synth.SynthConfig, params: int, n_tensors: int
) -> None:
    plan = synth.tensor_plan(cfg)
    assert synth.parameter_count(cfg) == params == cfg.published_params
    assert len(plan) == n_tensors
    assert len({t.name for t in plan}) == n_tensors


def test_350m_f16_tensor_bytes_match_reference() -> None:
    # Reference §4.6: LFM2-350M F16 tensor data = 709,098,496 B = 676.25 MiB (issue #14979).
    assert synth.tensor_data_bytes(synth.LFM2_350M) == 709_098_496


def test_plan_names_are_llama_cpp_lfm2_tensors() -> None:
    import gguf

    for cfg, arch in (
        (synth.LFM2_1_2B, gguf.MODEL_ARCH.LFM2),
        (synth.LFM2_8B_A1B, gguf.MODEL_ARCH.LFM2MOE),
    ):
        allowed = {gguf.TENSOR_NAMES[t] for t in gguf.MODEL_TENSORS[arch]}
        for t in synth.tensor_plan(cfg):
            base = t.name.rsplit(".", 1)[0]
            generic = ".".join("{bid}" if p.isdigit() else p for p in base.split("."))
            assert generic in allowed, t.name


def test_head_count_kv_marks_conv_layers_with_zero() -> None:
    assert synth.LFM2_350M.head_count_kv_array() == [0, 0, 8, 0, 0, 8, 0, 0, 8, 0, 8, 0, 8, 0, 8, 0]
    assert sum(1 for x in synth.LFM2_2_6B.head_count_kv_array() if x) == 8
    assert sum(1 for x in synth.LFM2_8B_A1B.head_count_kv_array() if x) == 6


def test_vocab_has_exact_size_and_every_merge_makes_a_token() -> None:
    v = synth.build_vocab(65536)
    assert len(v.tokens) == len(v.token_types) == 65536
    assert len(v.merges) == 65266
    assert len(set(v.tokens)) == 65536
    tokens = set(v.tokens)
    assert all(m.replace(" ", "") in tokens and m.count(" ") == 1 for m in v.merges[:2000])
    assert v.tokens[synth.EOS_ID] == "<|im_end|>"
    with pytest.raises(ValueError, match="out of range"):
        synth.build_vocab(100)


@pytest.mark.parametrize("cfg", [TINY, TINY_MOE])
def test_written_file_reads_back_with_plan_shapes_and_metadata(
    cfg: synth.SynthConfig, tmp_path: Path
) -> None:
    import gguf
    import numpy as np

    path = tmp_path / f"{cfg.key}.gguf"
    size = synth.write_gguf(cfg, path)
    assert size == path.stat().st_size
    assert not (tmp_path / f"{cfg.key}.gguf.tmp").exists()
    reader = gguf.GGUFReader(path)
    got = {t.name: (tuple(int(x) for x in t.shape), int(t.tensor_type)) for t in reader.tensors}
    want = {t.name: (t.ne, t.ggml_type) for t in synth.tensor_plan(cfg)}
    assert got == want
    f16 = [t for t in reader.tensors if int(t.tensor_type) == synth.GGML_F16]
    assert f16
    assert all(bool(np.isfinite(np.asarray(t.data, dtype=np.float32)).all()) for t in f16)

    def field(key: str) -> Any:
        return reader.fields[key].contents()

    arch = cfg.arch
    assert field("general.architecture") == arch
    assert field(f"{arch}.block_count") == cfg.n_layer
    assert field(f"{arch}.attention.head_count_kv") == cfg.head_count_kv_array()
    assert field(f"{arch}.shortconv.l_cache") == 3
    assert field(f"{arch}.vocab_size") == cfg.vocab_size
    assert field("tokenizer.ggml.pre") == "lfm2"
    assert len(field("tokenizer.ggml.tokens")) == cfg.vocab_size
    if cfg.is_moe:
        assert field(f"{arch}.expert_count") == 4
        assert field(f"{arch}.leading_dense_block_count") == 1
        assert field(f"{arch}.expert_feed_forward_length") == 32


# ----------------------------------------------------------------------------------------------
# Log parser


def test_recorded_h100_log() -> None:
    p = logparse.parse_log(H100_LOG.read_text())
    assert p.mib_by_type("model") == {"CPU_Mapped": 52.5, "CUDA0": 216.41}
    assert p.mib_by_type("kv") == {"CUDA0": 12.75}
    assert p.mib_by_type("rs") == {"CUDA0": 0.08}
    assert p.mib_by_type("output") == {"CUDA_Host": 0.25}
    assert p.kv_summary is not None
    assert (p.kv_summary["cells"], p.kv_summary["layers"], p.kv_summary["k_type"]) == (
        2048,
        6,
        "q8_0",
    )
    assert p.kv_summary["seqs"] == [1, 1]
    assert p.rs_summary is not None
    assert (p.rs_summary["layers"], p.rs_summary["rs_seq"], p.rs_summary["r_mib"]) == (16, 0, 0.08)
    assert p.context_params["n_ctx"] == "2048"
    assert p.context_params["flash_attn"] == "enabled"
    assert p.offloaded_layers == (17, 17)
    assert (p.file_size_mib, p.bits_per_weight) == (216.41, 5.12)
    assert p.model_info["model type"] == "350M"
    assert p.cuda_devices[0]["name"] == "NVIDIA H100 80GB HBM3"
    assert p.problem_lines == ()
    assert p.mib_by_type("compute")  # CUDA0 and CUDA_Host compute buffers
    assert set(p.mib_by_type("compute")) == {"CUDA0", "CUDA_Host"}


def test_pr_18641_lines_lfm2_backbone_on_cuda() -> None:
    # llama.cpp PR #18641 (LFM2.5-Audio, LFM2 1.2B backbone, Q4_0, -ngl all, mmap off).
    text = (QUOTED / "pr18641_lfm2_cuda.log").read_text()
    p = logparse.parse_log(text)
    assert p.mib_by_type("model") == {"CPU": 105.0, "CUDA0": 661.25}
    assert p.total_mib("kv") == 48.0
    assert p.mib_by_type("output") == {"CUDA_Host": 0.25}
    assert p.context_params == {
        "n_seq_max": "1",
        "n_ctx": "4096",
        "n_ctx_seq": "4096",
        "flash_attn": "auto",
        "kv_unified": "false",
    }
    assert p.offloaded_layers == (17, 17)


def test_issue_14979_file_size_line() -> None:
    p = logparse.parse_log("print_info: file size   = 676.25 MiB (16.00 BPW) \n")
    assert (p.file_size_mib, p.bits_per_weight) == (676.25, 16.0)
    p = logparse.parse_log(
        "llm_load_print_meta: model size       = 1.38 GiB (16.00 BPW)\n"
        "llm_load_print_meta: file size   = 1.50 GiB (16.00 BPW)\n"
    )
    assert p.file_size_mib == 1536.0


def test_older_prefixes_timestamps_and_syslog() -> None:
    text = (QUOTED / "older_prefixes.log").read_text()
    p = logparse.parse_log(text)
    assert p.mib_by_type("model") == {"CPU": 3024.0, "CUDA14": 12698.93}
    assert p.mib_by_type("kv") == {"CUDA0": 9.0}
    assert p.kv_summary is not None
    assert (p.kv_summary["size_mib"], p.kv_summary["k_mib"], p.kv_summary["cells"]) == (
        9.0,
        4.5,
        None,
    )
    assert p.mib_by_type("compute") == {"CUDA0": 162.0, "CUDA_Host": 9.01}
    assert p.mib_by_type("input") == {"CUDA_Host": 11.02}
    assert p.mib_by_type("output") == {"CUDA_Host": 0.0}
    assert p.context_params == {"n_ctx": "163840", "flash_attn": "0"}
    prefixes = {b.prefix for b in p.buffers}
    assert prefixes == {
        "llm_load_tensors",
        "llama_kv_cache_init",
        "llama_new_context_with_model",
        "reserve",
    }


def test_unified_kv_cache_summary_prefix() -> None:
    line = (
        "llama_kv_cache_unified: size = 1024.00 MiB (  8192 cells,  32 layers,  1 seqs), "
        "K (f16):  512.00 MiB, V (f16):  512.00 MiB"
    )
    p = logparse.parse_log(line)
    assert p.kv_summary is not None
    assert (p.kv_summary["cells"], p.kv_summary["layers"], p.kv_summary["seqs"]) == (8192, 32, [1])


def test_memory_breakdown_rows_with_negative_unaccounted() -> None:
    text = (QUOTED / "memory_breakdown.log").read_text()
    rows = logparse.parse_log(text).memory_breakdown
    assert rows[0] == {
        "device": "CUDA0 (RTX 4070 SUPER)",
        "total_mib": 12281,
        "free_mib": 11005,
        "self_mib": 17579,
        "model_mib": 16383,
        "context_mib": 702,
        "compute_mib": 493,
        "unaccounted_mib": -16302,
    }
    assert rows[1] == {
        "device": "Host",
        "self_mib": 555,
        "model_mib": 515,
        "context_mib": 0,
        "compute_mib": 40,
    }
    assert rows[2]["unaccounted_mib"] == 2183


def test_fa_resolution_repack_and_problems() -> None:
    text = """\
llama_context: Flash Attention was auto, set to enabled
repack: repack tensor blk.0.ffn_gate.weight with q4_K_8x8
repack: repack tensor blk.0.ffn_up.weight with q4_K_8x8
repack: repack tensor blk.2.attn_q.weight with q4_0_8x8
ggml_cuda_init: failed to initialize CUDA: no CUDA-capable device is detected
garbage line = = MiB
"""
    p = logparse.parse_log(text)
    assert p.flash_attn_resolved == "enabled"
    assert p.repacked_tensors == {"q4_K_8x8": 2, "q4_0_8x8": 1}
    assert p.problem_lines == (
        "ggml_cuda_init: failed to initialize CUDA: no CUDA-capable device is detected",
    )
    assert p.buffers == ()


def test_empty_and_binary_garbage_never_raise() -> None:
    assert logparse.parse_log("") == logparse.ParsedLog()
    p = logparse.parse_log("\x00\xff buffer size = MiB\nKV buffer size = 12 MiB\n")
    assert p.buffers == ()
    json.dumps(p.to_dict())


# ----------------------------------------------------------------------------------------------
# Grid and measure bookkeeping


def test_grid_is_unique_and_covers_the_brief() -> None:
    g = grid.build_grid()
    ids = [s.run_id for s in g]
    assert len(ids) == len(set(ids))
    core = [s for s in g if s.variant == "lfm2-1.2b" and s.group == "core"]
    assert {s.n_ctx for s in core} == {2048, 8192, 32768, 128000}
    assert {(s.device, s.n_gpu_layers) for s in core} == {("gpu", 99), ("cpu", 0)}
    # a quantized V cache needs flash attention
    assert all(s.flash_attn != "off" for s in g if s.type_v != "f16")
    assert any(s.n_gpu_layers == 8 for s in g)
    assert any(s.n_seq_max == 4 for s in g)
    assert {s.n_ubatch for s in g} == {128, 512, 2048}
    assert all(s.n_batch >= s.n_ubatch for s in g)
    big = [s for s in g if s.variant in ("lfm2-2.6b", "lfm2-8b-a1b")]
    assert len(big) == 6
    assert g[0].group == "core"


def test_proc_status_and_cpuinfo_parsers() -> None:
    status = (
        "Name:\tpython3\nVmHWM:\t 1066452 kB\nVmRSS:\t  459028 kB\nRssAnon:\t  173924 kB\n"
        "RssFile:\t  276912 kB\nRssShmem:\t    8192 kB\nThreads:\t17\nVmSize:\tbogus\n"
    )
    assert measure.parse_proc_status(status) == {
        "VmHWM": 1066452 * 1024,
        "VmRSS": 459028 * 1024,
        "RssAnon": 173924 * 1024,
        "RssFile": 276912 * 1024,
        "RssShmem": 8192 * 1024,
    }
    cpuinfo = (
        "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n"
        "flags\t\t: fpu sse3 avx avx2 fma f16c avx512f amx_tile amx_int8\n\n"
        "processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu\n"
    )
    info = measure.parse_cpuinfo(cpuinfo)
    assert info == {
        "model_name": "Intel(R) Xeon(R) Processor",
        "logical_cpus": 2,
        "flags": ["sse3", "avx", "avx2", "fma", "f16c", "avx512f", "amx_tile", "amx_int8"],
    }


class ReplayLauncher:
    """Stands in for the child process: writes a recorded llama.cpp log and child result."""

    def __init__(
        self, log_text: str, *, fail_on: str | None = None, timeout_on: str | None = None
    ) -> None:
        self.log_text = log_text
        self.fail_on = fail_on
        self.timeout_on = timeout_on
        self.calls: list[tuple[str, dict[str, str]]] = []

    def __call__(
        self, spec: grid.RunSpec, model: Path, log: Path, result: Path, env: dict[str, str]
    ) -> measure.ChildOutcome:
        self.calls.append((spec.run_id, env))
        if self.timeout_on and self.timeout_on in spec.run_id:
            log.write_text("load_tensors: loading model tensors\n")
            return measure.ChildOutcome(returncode=None, timed_out=True, wall_s=240.0)
        if self.fail_on and self.fail_on in spec.run_id:
            log.write_text(
                "llama_model_load: error loading model: bad magic\n"
                "child error: RuntimeError: llama_model_load_from_file returned NULL\n"
            )
            result.write_text(json.dumps({"ok": False, "error": "RuntimeError: NULL"}))
            return measure.ChildOutcome(returncode=1, timed_out=False, wall_s=0.5)
        log.write_text(self.log_text)
        result.write_text(json.dumps({"ok": True, "pid": 42, "stages": {}}))
        return measure.ChildOutcome(returncode=0, timed_out=False, wall_s=1.0)


def _specs() -> tuple[grid.RunSpec, ...]:
    return tuple(s for s in grid.build_grid() if s.variant == "lfm2-350m")[:6]


def _models(tmp_path: Path, specs: tuple[grid.RunSpec, ...]) -> Path:
    d = tmp_path / "models"
    d.mkdir()
    for s in specs:
        (d / f"{s.variant}-{s.quant}.gguf").write_bytes(b"GGUF" + bytes(60))
    return d


def test_run_grid_records_resumes_and_hides_cuda_for_cpu_runs(tmp_path: Path) -> None:
    specs = _specs()
    models = _models(tmp_path, specs)
    results = tmp_path / "r.json"
    launcher = ReplayLauncher(H100_LOG.read_text(), fail_on="fa-off")
    data = measure.run_grid(
        specs,
        models_dir=models,
        results_path=results,
        work_dir=tmp_path / "w",
        launcher=launcher,
        nvml=lambda: None,
        env_info={"cpu": None},
        base_env={"PATH": "/bin"},
    )
    assert [r["run_id"] for r in data["runs"]] == [s.run_id for s in specs]
    statuses = {r["run_id"]: r["status"] for r in data["runs"]}
    assert {statuses[s.run_id] for s in specs if s.flash_attn == "off"} == {"failed"}
    assert {statuses[s.run_id] for s in specs if s.flash_attn != "off"} == {"ok"}
    failed = next(r for r in data["runs"] if r["status"] == "failed")
    assert any("bad magic" in line for line in failed["log_tail"])
    ok = next(r for r in data["runs"] if r["status"] == "ok")
    assert ok["llama_log"]["buffers_mib"]["kv"] == {"CUDA0": 12.75}
    assert ok["file_size_bytes"] == 64
    assert ok["params"]["n_ctx"] == specs[0].n_ctx
    for run_id, env in launcher.calls:
        hidden = env.get("CUDA_VISIBLE_DEVICES") == ""
        assert hidden == ("/cpu/" in run_id)
    on_disk = json.loads(results.read_text())
    assert on_disk["schema"] == measure.SCHEMA
    assert on_disk["runs"] == data["runs"]
    assert "incomplete" not in on_disk

    again = ReplayLauncher(H100_LOG.read_text())
    data2 = measure.run_grid(
        specs,
        models_dir=models,
        results_path=results,
        work_dir=tmp_path / "w",
        launcher=again,
        nvml=lambda: None,
    )
    assert again.calls == []
    assert len(data2["runs"]) == len(specs)
    assert data2["environment"] == {"cpu": None}


def test_run_grid_stops_at_budget_and_marks_missing_models_and_timeouts(tmp_path: Path) -> None:
    g = [s for s in grid.build_grid() if s.variant == "lfm2-350m"]
    q4 = [s for s in g if s.quant == "Q4_K_M"]
    q8 = next(s for s in g if s.quant == "Q8_0")
    specs = (q4[0], q8, q4[1], q4[2], q4[3])
    models = _models(tmp_path, (q4[0],))  # no Q8_0 file
    ticks = iter([0.0, 0.0, 10.0, 20.0, 1000.0, 1000.0])
    launcher = ReplayLauncher(H100_LOG.read_text(), timeout_on=q4[1].run_id)
    data = measure.run_grid(
        specs,
        models_dir=models,
        results_path=tmp_path / "r.json",
        work_dir=tmp_path / "w",
        launcher=launcher,
        nvml=lambda: None,
        budget_s=100.0,
        clock=lambda: next(ticks),
    )
    statuses = [r["status"] for r in data["runs"]]
    assert statuses == ["ok", "missing_model", "timeout"]
    assert data["incomplete"] is True
    assert data["runs"][2]["log_tail"] == ["load_tensors: loading model tensors"]
    assert [c[0] for c in launcher.calls] == [q4[0].run_id, q4[1].run_id]


def test_dry_run_child_writes_stages_without_llama_cpp(tmp_path: Path) -> None:
    spec = grid.RunSpec(
        variant="lfm2-350m", quant="Q4_K_M", device="cpu", n_gpu_layers=0, n_ctx=3000
    )
    out = tmp_path / "child.json"
    assert measure.child_main(spec, tmp_path / "none.gguf", out, dry_run=True) == 0
    child = json.loads(out.read_text())
    assert child["ok"] is True
    assert list(child["stages"]) == [
        "start",
        "after_import",
        "after_load",
        "after_context",
        "after_prompt",
        "after_decode",
    ]
    assert measure.spec_from_dict(spec.to_dict()) == spec


# ----------------------------------------------------------------------------------------------
# Comparison bookkeeping against the recorded H100 measurements


def _h100_run(run_id: str) -> dict[str, Any]:
    data = json.loads(H100_JSON.read_text())
    return next(r for r in data["runs"] if r["run_id"] == run_id)


def test_recorded_h100_file_is_complete() -> None:
    data = json.loads(H100_JSON.read_text())
    assert data["schema"] == measure.SCHEMA
    assert data["environment"]["build"]["llama_cpp_commit_from_changelog"] == "0c1e57098"
    assert len(data["runs"]) == len(grid.build_grid())
    assert all(r["status"] == "ok" for r in data["runs"])


def test_measured_terms_of_a_full_offload_run() -> None:
    run = _h100_run("lfm2-1.2b/Q4_K_M/gpu/ngl99/c32768/ub512/b2048/fa-on/kf16/vf16/s1")
    m = compare.measured_terms(run)
    assert m["weights_gpu"] == pytest.approx(694.76 * MIB)
    assert m["weights_host"] == pytest.approx(105.00 * MIB)
    assert m["kv_cache"] == pytest.approx(384.00 * MIB)
    assert m["recurrent_state"] == pytest.approx(0.16 * MIB)
    assert m["output"] == pytest.approx(0.25 * MIB)
    assert "repack" not in m
    assert m["overhead"] > 0


def test_measured_terms_of_a_repacking_cpu_run_use_tensor_bytes() -> None:
    run = _h100_run("lfm2-1.2b/Q4_K_M/cpu/ngl0/c8192/ub512/b2048/fa-on/kf16/vf16/s1")
    m = compare.measured_terms(run)
    assert m["weights_gpu"] == 0
    assert m["weights_host"] == 728_509_440  # llama_model_size: the tensor bytes (reference §4.6)
    assert m["repack"] > 0


def test_row_tolerance_allows_the_printed_rounding() -> None:
    rs = compare.Row(
        run_id="r", term="recurrent_state", measured_bytes=0.16 * MIB, predicted_bytes=163_840.0
    )
    assert rs.within(compare.TERM_TOLERANCE)
    bad = compare.Row(
        run_id="r", term="compute", measured_bytes=100 * MIB, predicted_bytes=103 * MIB
    )
    assert bad.within(compare.TERM_TOLERANCE) is False
    assert bad.error == pytest.approx(0.03)
    none = compare.Row(run_id="r", term="kv_cache", measured_bytes=1.0, predicted_bytes=None)
    assert none.within(0.02) is None


def test_estimator_exact_terms_against_llama_cpp() -> None:
    """Weights, KV, recurrent state and output of llmcheck.estimate vs every recorded run (2 %)."""
    from llmcheck.catalog import load_catalog

    catalog = load_catalog()
    data = json.loads(H100_JSON.read_text())
    rows = compare.compare_runs(data["runs"], catalog.variant, compare.load_machine())
    exact = ("weights_gpu", "weights_host", "kv_cache", "recurrent_state", "output")
    checked = [r for r in rows if r.term in exact]
    assert len(checked) == 5 * len(data["runs"])
    misses = [
        (r.run_id, r.term, r.measured_bytes, r.predicted_bytes)
        for r in checked
        if not r.within(compare.TERM_TOLERANCE)
    ]
    assert misses == []
    table = compare.markdown(rows, all_runs=False)
    assert table.startswith("| term | runs |")


@pytest.mark.slow
def test_full_size_350m_f16_file(tmp_path: Path) -> None:
    """Benchmark-only: the real 350M F16 source (711 MB) has the size the CPU study recorded."""
    import gguf

    path = tmp_path / "lfm2-350m-F16.gguf"
    assert synth.write_gguf(synth.LFM2_350M, path) == 710_909_344
    reader = gguf.GGUFReader(path)
    assert sum(int(t.n_bytes) for t in reader.tensors) == 709_098_496
