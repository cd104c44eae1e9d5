"""What the window knows, without Qt: the machine, the settings and the answers computed so far.

The window (``llmcheck.gui``) is thin Qt over a :class:`Session`: it shows what the session
holds and runs the session's jobs on its thread pool. Everything here is plain Python, so it is
tested without a display, and every estimator call goes through the :class:`Estimator` given to
the constructor, so a test can record which thread each one ran on.

- The snapshot of this machine, with a *ticket* per probe run (a late answer from a run the
  window gave up on is ignored) and a *generation* that bumps with each new snapshot (answers
  computed for an older one are dropped).
- The chosen machine (this one, or a what-if machine from ``resources/machines.toml``).
- The :class:`~llmcheck.estimate.RunConfig` the settings describe.
- The fit cache, keyed by (machine, generation, config), with the failures beside it; a grid
  job in flight; the neighbour context steps to prefetch while the user looks.
- The reverse answers ("which machines run it") per (variant, config).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from llmcheck.machines import (
    CatalogMachine,
    Estimator,
    LlmcheckEstimator,
    MachineAnswer,
    load_machines,
    machine_snapshot,
    reverse_answers,
)
from llmcheck.render.sentences import bandwidth_note, best_quant_words
from llmcheck.snapshot import Source, SystemSnapshot

if TYPE_CHECKING:
    from llmcheck.catalog import Catalog, ModelVariant
    from llmcheck.estimate import DeviceBudget, Fit, RunConfig
    from llmcheck.recommend import Alternative

__all__ = [
    "THIS_MACHINE",
    "AnswerKey",
    "GridKey",
    "Session",
    "size_key",
]

THIS_MACHINE = "this"
GridKey = tuple[str, int, "RunConfig"]  # machine, snapshot generation, settings
AnswerKey = tuple[str, "RunConfig"]  # variant id, settings


class Session:
    """The window's state and the rules that keep it consistent; no Qt, no threads.

    Args:
        estimator: the estimator's entry points; default :class:`LlmcheckEstimator`.
        catalog: the LFM2 catalog; default ``load_catalog()`` on first use.
        machines: the what-if catalog; default ``resources/machines.toml`` on first use.
        context_steps: the context steps the control offers, for the prefetch.
    """

    def __init__(
        self,
        *,
        estimator: Estimator | None = None,
        catalog: Catalog | None = None,
        machines: Sequence[CatalogMachine] | None = None,
        context_steps: Sequence[int] = (),
    ) -> None:
        self.estimator: Estimator = estimator or LlmcheckEstimator()
        self._catalog = catalog
        self._machines: tuple[CatalogMachine, ...] | None = (
            tuple(machines) if machines is not None else None
        )
        self.machines_error: str | None = None
        self.context_steps = tuple(context_steps)
        self.snapshot: SystemSnapshot | None = None
        self.machine_key = THIS_MACHINE
        self._config: RunConfig | None = None
        self.ticket = 0
        self.pending_ticket: int | None = None
        self.generation = 0
        self.measuring = False
        self.fit_cache: dict[GridKey, tuple[Fit, ...]] = {}
        self.fit_failures: dict[GridKey, str] = {}
        self.grid_in_flight: GridKey | None = None
        self.answer_cache: dict[AnswerKey, tuple[MachineAnswer, ...]] = {}
        self.answer_failures: dict[AnswerKey, str] = {}
        self.answers_in_flight: AnswerKey | None = None
        self.alternative_cache: dict[tuple[GridKey, str, str], tuple[Alternative, ...]] = {}

    # --- settings ---------------------------------------------------------------------------

    @property
    def config(self) -> RunConfig:
        """The settings the grid answers for (llama.cpp's defaults until the window sets them)."""
        if self._config is None:
            from llmcheck.estimate import RunConfig

            self._config = RunConfig()
        return self._config

    @config.setter
    def config(self, value: RunConfig) -> None:
        self._config = value

    # --- probing ----------------------------------------------------------------------------

    def begin_probe(self) -> int:
        """A new probe run: its ticket. Answers from earlier runs are ignored from now on."""
        self.ticket += 1
        self.pending_ticket = self.ticket
        return self.ticket

    @property
    def probing(self) -> bool:
        """A probe run is awaited."""
        return self.pending_ticket is not None

    def accept_probe(self, ticket: int, snapshot: SystemSnapshot) -> bool:
        """Take a probe's answer if it is the one awaited; False for a stale one."""
        if ticket != self.pending_ticket:
            return False
        self.pending_ticket = None
        self._new_snapshot(snapshot)
        self.fit_failures = {}
        return True

    def reject_probe(self, ticket: int) -> bool:
        """A probe run failed: True if it was the one awaited (then nothing is awaited)."""
        if ticket != self.pending_ticket:
            return False
        self.pending_ticket = None
        return True

    def give_up_probe(self) -> None:
        """Stop waiting (the patience ran out); a late answer from the same run still counts."""

    def _new_snapshot(self, snapshot: SystemSnapshot) -> None:
        self.snapshot = snapshot
        self.generation += 1
        self.fit_cache = {k: v for k, v in self.fit_cache.items() if k[0] != THIS_MACHINE}
        self.fit_failures = {k: v for k, v in self.fit_failures.items() if k[0] != THIS_MACHINE}

    # --- machines ---------------------------------------------------------------------------

    def machines(self) -> tuple[CatalogMachine, ...]:
        """The what-if catalog (loaded on first use; empty, with ``machines_error``, if bad)."""
        if self._machines is None:
            try:
                self._machines = load_machines()
            except (OSError, ValueError) as exc:
                self._machines = ()
                self.machines_error = f"The what-if machine list could not be read: {exc}"
        return self._machines

    def put_machine(self, machine: CatalogMachine) -> None:
        """Add a machine the user made (their own, or a catalogued card with other RAM), or
        replace the one of the same id; its old answers are forgotten."""
        self._machines = (*(m for m in self.machines() if m.id != machine.id), machine)
        self.fit_cache = {k: v for k, v in self.fit_cache.items() if k[0] != machine.id}
        self.fit_failures = {k: v for k, v in self.fit_failures.items() if k[0] != machine.id}
        self.answer_cache = {}
        self.answer_failures = {}

    def current_snapshot(self) -> SystemSnapshot | None:
        """The machine the grid is about (None before the probe answers)."""
        if self.machine_key == THIS_MACHINE:
            return self.snapshot
        for machine in self.machines():
            if machine.id == self.machine_key:
                return machine_snapshot(machine)
        return None

    def can_measure(self) -> bool:
        """Only this machine, read live: a what-if or recorded machine is not here to measure."""
        return (
            self.machine_key == THIS_MACHINE
            and self.snapshot is not None
            and self.snapshot.source is not Source.SNAPSHOT
        )

    def measure_state(self) -> tuple[bool, str]:
        """Whether "Measure memory bandwidth" can run now, and its tooltip saying why (not)."""
        enabled = not self.probing and not self.measuring and self.can_measure()
        if self.measuring:
            return enabled, "Measuring now…"
        if self.machine_key != THIS_MACHINE:
            return enabled, "Only this machine can be measured, not a what-if one."
        if self.snapshot is not None and self.snapshot.source is Source.SNAPSHOT:
            return enabled, "This machine was read from a snapshot file: it is not here to measure."
        return enabled, (
            "Copy large buffers on every core for under a second (up to 1 GiB of RAM) to measure"
            " this machine's RAM bandwidth, which sets the CPU speed estimates."
        )

    def accept_measurement(self, key: object, snapshot: SystemSnapshot) -> bool:
        """Take a measured snapshot unless a newer probe answered meanwhile."""
        self.measuring = False
        if not isinstance(key, tuple) or key[1] != self.generation or self.snapshot is None:
            return False
        self._new_snapshot(snapshot)
        return True

    # --- catalog and estimates --------------------------------------------------------------

    def catalog(self) -> Catalog:
        """The LFM2 catalog (loaded on first use)."""
        if self._catalog is None:
            from llmcheck.catalog import load_catalog

            self._catalog = load_catalog()
        return self._catalog

    def ordered_variants(self) -> tuple[ModelVariant, ...]:
        """The catalog's variants grouped by family (first-seen order), text before vision,
        then by size; catalog order among equals."""
        variants = self.catalog().variants
        families = list(dict.fromkeys(v.family for v in variants))
        return tuple(
            sorted(
                variants,
                key=lambda v: (families.index(v.family), v.kind != "text", size_key(v.size_label)),
            )
        )

    def quant_columns(self) -> tuple[str, ...]:
        """The quantizations any variant is published in, in the catalog's order."""
        published = {q for v in self.catalog().variants for q in v.quants}
        return tuple(q.name for q in self.catalog().quants if q.name in published)

    def budgets(self, snapshot: SystemSnapshot) -> tuple[DeviceBudget, ...]:
        """What each device of ``snapshot`` may hold."""
        return tuple(self.estimator.budgets(snapshot))

    def best_quant(self, variant: ModelVariant, snapshot: SystemSnapshot) -> str | None:
        """The recommended quant of ``variant`` on ``snapshot`` with the current settings."""
        return self.estimator.best_quant(variant, snapshot, self.config)

    def details_words(
        self, variant: ModelVariant, fit: Fit, row_fits: Sequence[Fit]
    ) -> tuple[str, str]:
        """The recommendation and the bandwidth note for one fit's details.

        ``row_fits`` are the grid's answers for the same variant: the recommended quant is the
        one that runs best among them, verdict first, then quality. Faults become words: the
        rest of the details stand.
        """
        snapshot = self.current_snapshot()
        if snapshot is None:
            return "unknown", ""
        best = self.recommended_fit(variant, row_fits)
        best_text = best_quant_words(
            None if best is None else best.quant, None if best is None else str(best.verdict)
        )
        try:
            note = bandwidth_note(fit, self.budgets(snapshot), snapshot)
        except Exception:  # noqa: BLE001 - boundary: the basis stands without its source
            note = ""
        return best_text, note

    def recommended_fit(self, variant: ModelVariant, fits: Sequence[Fit]) -> Fit | None:
        """The quant to recommend for ``variant`` among the grid's ``fits``: verdict first
        (runs great, then tight), then quality (``llmcheck.recommend.best_quant_of``)."""
        from llmcheck.recommend import best_quant_of

        return best_quant_of(variant, fits)

    def recommendations(self, fits: Sequence[Fit] | None = None) -> dict[str, Any] | None:
        """The answer at the top, as ``llmcheck --json`` words it (``recommendations`` with its
        ``summary``): None before a machine is read or without answers."""
        from llmcheck.recommend import recommend
        from llmcheck.render.words import summary_sentence
        from llmcheck.report import recommendations_to_dict

        if self.current_snapshot() is None:
            return None
        fits = tuple(self.current_fits() if fits is None else fits)
        if not fits:
            return None
        picks = recommendations_to_dict(recommend(fits, self.catalog()), fits, self.config)
        picks["summary"] = summary_sentence(picks)
        return picks

    def alternatives(self, variant: ModelVariant, fit: Fit) -> tuple[Alternative, ...]:
        """The nearest configurations that fit, for a cell that won't (cached per question)."""
        from llmcheck.recommend import alternatives

        snapshot = self.current_snapshot()
        if snapshot is None or str(fit.verdict) != "wont_fit":
            return ()
        key = (self.grid_key(), variant.id, fit.quant)
        if key not in self.alternative_cache:
            from llmcheck.estimate import max_context

            estimator = self.estimator
            self.alternative_cache[key] = alternatives(
                variant,
                fit.quant,
                fit.config,
                self.catalog(),
                lambda v, q, c: estimator.estimate(v, q, c, snapshot),
                lambda v, q, c: max_context(v, q, c, snapshot),
            )
        return self.alternative_cache[key]

    def grid_key(self) -> GridKey:
        """The cache key of the grid shown now."""
        machine = self.machine_key
        return (machine, self.generation if machine == THIS_MACHINE else 0, self.config)

    def current_fits(self) -> tuple[Fit, ...]:
        """The answers for the machine and settings shown (computed now if not yet)."""
        snapshot = self.current_snapshot()
        if snapshot is None:
            return ()
        key = self.grid_key()
        fits = self.fit_cache.get(key)
        if fits is None:
            fits = tuple(self.estimator.estimate_all(self.catalog(), snapshot, key[2]))
            self.fit_cache[key] = fits
        return fits

    def grid_job(self, key: GridKey) -> Callable[[], tuple[Fit, ...]]:
        """The work of computing the grid for ``key`` (for a pool thread); marks it in flight."""
        snapshot = self._snapshot_for(key)
        catalog = self.catalog()
        estimator = self.estimator
        config = key[2]
        self.grid_in_flight = key
        return lambda: tuple(estimator.estimate_all(catalog, snapshot, config))

    def _snapshot_for(self, key: GridKey) -> SystemSnapshot:
        if key[0] == THIS_MACHINE:
            if self.snapshot is None:
                raise ValueError("no machine has been read yet")
            return self.snapshot
        machine = next(m for m in self.machines() if m.id == key[0])
        return machine_snapshot(machine)

    def grid_done(self, key: GridKey, fits: tuple[Fit, ...] | None, failure: str = "") -> bool:
        """Keep a grid job's answer (or its failure); True when the grid shown waits for it.

        A finished prefetch must not reset the grid under the user's feet: only the key shown,
        or any key while the one shown has no answer yet, asks for a redraw.
        """
        self.grid_in_flight = None
        if fits is None:
            self.fit_failures[key] = failure
        else:
            self.fit_cache[key] = fits
        if self.current_snapshot() is None:
            return False
        current = self.grid_key()
        return current == key or (
            current not in self.fit_cache and current not in self.fit_failures
        )

    def next_prefetch(self) -> GridKey | None:
        """A context step next to the one shown whose grid is not computed yet, if any.

        The slider usually moves one step: computing the steps either side while the user
        looks makes the next move show at once. One at a time; a user's request comes first.
        """
        if self.grid_in_flight is not None or self.current_snapshot() is None:
            return None
        machine, generation, config = self.grid_key()
        if config.context_tokens not in self.context_steps:
            return None
        step = self.context_steps.index(config.context_tokens)
        for neighbour in (step + 1, step - 1):
            if not 0 <= neighbour < len(self.context_steps):
                continue
            try:
                other = replace(config, context_tokens=self.context_steps[neighbour])
            except ValueError:
                continue
            key = (machine, generation, other)
            if key not in self.fit_cache and key not in self.fit_failures:
                return key
        return None

    # --- which machines run it --------------------------------------------------------------

    def answers_job(self, variant: ModelVariant) -> tuple[AnswerKey, Callable[[], object]]:
        """The key and the work of asking every what-if machine about ``variant``."""
        config = self.config
        key = (variant.id, config)
        machines = self.machines()
        estimator = self.estimator
        self.answers_in_flight = key
        return key, lambda: reverse_answers(variant, machines, config, estimator)

    def answers_done(
        self, key: AnswerKey, answers: tuple[MachineAnswer, ...] | None, failure: str = ""
    ) -> None:
        """Keep the reverse answers for ``key`` (or the failure)."""
        self.answers_in_flight = None
        if answers is None:
            self.answer_failures[key] = failure
        else:
            self.answer_cache[key] = answers

    # --- the report -------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """The report of the machine and settings shown, as ``llmcheck --json`` builds it (with
        the recommendation's summary worded, as the command line words it)."""
        from llmcheck.render.words import summarize
        from llmcheck.report import build_report

        snapshot = self.current_snapshot()
        if snapshot is None:
            raise ValueError("no machine has been read yet")
        return summarize(
            build_report(snapshot, self.current_fits(), self.config, catalog=self.catalog())
        )


def size_key(size_label: str) -> float:
    """Parameters from a size label ("350M", "1.2B", "8B-A1B"), for ordering; inf if unreadable."""
    match = re.match(r"\s*(\d+(?:\.\d+)?)\s*([MB])", size_label, re.IGNORECASE)
    if match is None:
        return math.inf
    return float(match.group(1)) * (1e6 if match.group(2).upper() == "M" else 1e9)
