"""recommend(): what to run here, from the estimator's real answers on recorded machines."""

from __future__ import annotations

from dataclasses import replace

import pytest

from llmcheck.catalog import Catalog, load_catalog
from llmcheck.estimate import Fit, KvType, RunConfig, Verdict, estimate, estimate_all, max_context
from llmcheck.recommend import Purpose, alternatives, parameter_count, recommend
from llmcheck.snapshot import SystemSnapshot
from tests.helpers import recorded_machine


def _machine(name: str) -> SystemSnapshot:
    return recorded_machine(name)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


# The recorded machines' best pick at the default settings (4,096 tokens, f16 KV). Each line is
# a claim a person can check against the grid: the most parameters that run great, then the
# better quant up to Q8_0.
BEST = {
    "cpu-laptop": ("lfm2.5-8b-a1b", "Q8_0"),  # 15 GiB RAM: the 24B-A2B needs 12.8 GiB+ at Q4_0
    "one-nvidia": ("lfm2-24b-a2b", "Q6_K"),
    "apple-m2-max": ("lfm2-24b-a2b", "Q6_K"),
    "two-gpus": ("lfm2-24b-a2b", "Q8_0"),
    "dgx-spark": ("lfm2-24b-a2b", "Q8_0"),
}


@pytest.mark.parametrize("name", sorted(BEST))
def test_best_pick_on_recorded_machines(name: str, catalog: Catalog) -> None:
    fits = estimate_all(catalog, _machine(name), RunConfig())
    rec = recommend(fits, catalog)
    assert rec.best is not None
    assert (rec.best.variant_id, rec.best.quant) == BEST[name]
    assert rec.best.verdict is Verdict.RUNS_GREAT
    # Nothing that runs great is bigger than the pick (checked from the fits, not the ranking).
    great_chat = [
        f
        for f in fits
        if f.verdict is Verdict.RUNS_GREAT
        and catalog.variant(f.variant_id).task == "chat"
        and catalog.variant(f.variant_id).kind == "text"
    ]
    biggest = max(parameter_count(catalog.variant(f.variant_id)) for f in great_chat)
    assert parameter_count(catalog.variant(rec.best.variant_id)) == biggest


@pytest.mark.parametrize("name", sorted(BEST))
def test_no_pick_is_a_configuration_that_does_not_fit(name: str, catalog: Catalog) -> None:
    rec = recommend(estimate_all(catalog, _machine(name), RunConfig()), catalog)
    assert rec.picks
    assert all(p.verdict in (Verdict.RUNS_GREAT, Verdict.TIGHT) for p in rec.picks)
    assert all(
        catalog.variant(p.variant_id).kind == "vision"
        for p in rec.picks
        if p.purpose is Purpose.VISION
    )
    tasks = [p.task for p in rec.tasks]
    assert len(tasks) == len(set(tasks))
    assert "chat" not in tasks


def test_runs_great_beats_a_bigger_model_that_is_only_tight(catalog: Catalog) -> None:
    fits = estimate_all(catalog, _machine("one-nvidia"), RunConfig())
    # The same answers, except that every 24B-A2B configuration is only tight.
    edited = [
        replace(f, verdict=Verdict.TIGHT) if f.variant_id == "lfm2-24b-a2b" else f for f in fits
    ]
    rec = recommend(edited, catalog)
    assert rec.best is not None
    assert rec.best.variant_id != "lfm2-24b-a2b"
    assert rec.best.verdict is Verdict.RUNS_GREAT


def test_only_tight_answers_give_a_tight_pick(catalog: Catalog) -> None:
    fits = estimate_all(catalog, _machine("cpu-laptop"), RunConfig())
    edited = [
        replace(f, verdict=Verdict.TIGHT) if f.verdict is Verdict.RUNS_GREAT else f for f in fits
    ]
    rec = recommend(edited, catalog)
    assert rec.best is not None
    assert rec.best.verdict is Verdict.TIGHT


def test_nothing_fits_means_no_pick(catalog: Catalog) -> None:
    fits = estimate_all(catalog, _machine("cpu-laptop"), RunConfig())
    rec = recommend([replace(f, verdict=Verdict.WONT_FIT) for f in fits], catalog)
    assert rec.best is None
    assert rec.picks == ()


def test_fastest_is_fastest_at_a_decent_quant(catalog: Catalog) -> None:
    fits = estimate_all(catalog, _machine("one-nvidia"), RunConfig())
    rec = recommend(fits, catalog)
    assert rec.fastest is not None
    q4km = catalog.variant("lfm2-1.2b").quant_table.quant("Q4_K_M").quality_rank
    candidates = [
        f
        for f in fits
        if f.verdict is Verdict.RUNS_GREAT
        and f.speed is not None
        and catalog.variant(f.variant_id).task == "chat"
        and catalog.variant(f.variant_id).kind == "text"
        and catalog.variant(f.variant_id).quant_table.quant(f.quant).quality_rank >= q4km
    ]
    top = max(f.speed.low_tokens_per_second for f in candidates if f.speed is not None)
    assert rec.fastest.decode_low_tokens_per_second == top


def _alternatives(
    catalog: Catalog, machine: SystemSnapshot, variant: str, quant: str, config: RunConfig
) -> list[tuple[str, Fit]]:
    found = alternatives(
        catalog.variant(variant),
        quant,
        config,
        catalog,
        lambda v, q, c: estimate(v, q, c, machine),
        lambda v, q, c: max_context(v, q, c, machine),
    )
    return [(a.change, a.fit) for a in found]


def test_wont_fit_offers_configurations_that_fit(catalog: Catalog) -> None:
    machine = _machine("cpu-laptop")
    config = RunConfig(context_tokens=128_000)
    assert (
        estimate(catalog.variant("lfm2-8b-a1b"), "F16", config, machine).verdict is Verdict.WONT_FIT
    )
    found = _alternatives(catalog, machine, "lfm2-8b-a1b", "F16", config)
    assert [change for change, _ in found] == ["smaller quant", "smaller model"]
    smaller_quant = found[0][1]
    assert (smaller_quant.variant_id, smaller_quant.quant) == ("lfm2-8b-a1b", "Q6_K")
    assert all(fit.verdict in (Verdict.RUNS_GREAT, Verdict.TIGHT) for _, fit in found)


def test_a_long_context_that_does_not_fit_offers_the_longest_that_does(catalog: Catalog) -> None:
    machine = _machine("container-limited")
    config = RunConfig(context_tokens=128_000)
    fit = estimate(catalog.variant("lfm2.5-vl-3b"), "Q4_0", config, machine)
    assert fit.verdict is Verdict.WONT_FIT
    found = dict(_alternatives(catalog, machine, "lfm2.5-vl-3b", "Q4_0", config))
    shorter = found["shorter context"]
    assert shorter.config.context_tokens < 128_000
    assert shorter.verdict in (Verdict.RUNS_GREAT, Verdict.TIGHT)
    if "quantized KV cache" in found:
        assert found["quantized KV cache"].config.kv_type is KvType.Q8_0


def test_cpu_alternative_drops_an_asked_ngl(catalog: Catalog) -> None:
    """--ngl 999 with a model too big for the GPU: the CPU alternative runs with no -ngl of its
    own (RunConfig refuses GPU layers with device cpu; this raised ValueError)."""
    snap = _machine("one-nvidia")
    variant = catalog.variant("lfm2-24b-a2b")
    config = RunConfig(gpu_layers=999, context_tokens=65536)
    fit = estimate(variant, "Q8_0", config, snap)
    assert fit.verdict is Verdict.WONT_FIT
    found = alternatives(
        variant,
        "Q8_0",
        config,
        catalog,
        lambda v, q, c: estimate(v, q, c, snap),
        lambda v, q, c: max_context(v, q, c, snap),
    )
    cpu = [a for a in found if a.change == "CPU"]
    assert cpu
    assert cpu[0].config.device == "cpu"
    assert cpu[0].config.gpu_layers is None
    assert " -dev none" in cpu[0].fit.llama_cpp_command
