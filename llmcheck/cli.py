"""The command line: ``llmcheck``, ``llmcheck --json``, ``llmcheck check ...``, ``llmcheck list``,
``llmcheck scan``.

``check`` takes a catalog name, a name as pasted (``hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M``,
resolved offline by ``llmcheck.names``) or a ``.gguf`` file (``llmcheck.cli_files``).

This is the only module that prints. ``--json`` writes exactly one JSON document to stdout; logs
and errors go to stderr, one line each, never a traceback.

Exit codes (the one place they are defined; docs/json-output.md repeats them):

====  ====================  ==================================================================
code  name                  meaning
====  ====================  ==================================================================
0     EXIT_OK               ran; for ``check``: the model fits (runs great or tight); for a
                            fleet check: it fits on at least one of the machines
1     EXIT_WONT_FIT         ``check`` only: the model will not fit (a fleet: on none of the
                            machines, and at least one answered "won't fit")
2     EXIT_USAGE            bad usage or input (unknown variant, bad context, bad snapshot file;
                            a .gguf file that is unreadable, truncated, corrupt, hostile or not
                            LFM2-family; a fleet: no machine file could be read)
3     EXIT_BUDGET_UNKNOWN   ``check`` only: the machine's memory budget is unknown (a fleet:
                            every machine that could be read)
4     EXIT_INTERNAL         llmcheck itself failed (a bug); the reason is on stderr
5     EXIT_OUTPUT           the answer could not be written: standard output is closed or
                            failing (a full disk, /dev/full); the reason is on stderr
130   EXIT_INTERRUPTED      stopped with Ctrl-C (the shell convention, 128 + SIGINT)
====  ====================  ==================================================================

The probe, the whole-machine report and ``scan`` exit 0 whatever they find: a verdict is data
there.

A **fleet** is ``check`` over several machines: ``--snapshot`` / ``--what-if`` given more than
once, or a folder (its ``*.json`` files), or ``--csv``. It answers one row per machine (text,
``--json`` kind "fleet", or ``--csv``); a machine file that cannot be read is a row saying why,
not an error.

The standard streams may be hostile, and the exit code still tells the truth:

- a reader that goes away (``llmcheck check X -q Q | head -c1``, a broken pipe) is not an error:
  the exit code is the answer's (1 won't fit, 3 unknown), and nothing more is printed;
- a closed or failing stdout (``>&-``, ``>/dev/full``) is EXIT_OUTPUT with one line on stderr,
  except after ``--install-desktop-entry`` has written its files (the job is done: exit 0);
- a closed stderr changes no exit code (a usage error is still 2); a closed stdin is a usage error
  only for ``--snapshot -``;
- text that the terminal's encoding cannot show ("\u2122" under LC_ALL=C or an ISO-8859-1
  locale) prints as "?" instead of failing, and every string from the machine or a file passes
  through ``llmcheck.units.clean_text`` (no control characters, one line per field).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from llmcheck.cli_args import PROG as PROG
from llmcheck.cli_args import RUNTIMES as RUNTIMES
from llmcheck.cli_args import build_parser as build_parser
from llmcheck.cli_files import (
    FileAsked,
    answer_file,
    is_file_argument,
    looks_like_path,
    read_file_question,
    run_scan,
    runtime_config,
    scan_answers,
)
from llmcheck.cli_settings import (
    CONTEXT_MAX,
    UsageError,
    build_config,
    check_settings,
    find_quant,
    find_question,
    find_what_if,
    machine_overrides,
)
from llmcheck.cli_settings import (
    MAX_CONTEXT_TOKENS_ANY as MAX_CONTEXT_TOKENS_ANY,  # re-exported: the CLI's public names
)
from llmcheck.cli_settings import (
    parse_context as parse_context,
)
from llmcheck.cli_streams import OutputError as OutputError
from llmcheck.cli_streams import configure_logging as _configure_logging
from llmcheck.cli_streams import fail as _fail
from llmcheck.cli_streams import prepare_streams as _prepare_streams
from llmcheck.cli_streams import silence_stdout as _silence_stdout
from llmcheck.cli_streams import write_stderr as _write_stderr
from llmcheck.cli_streams import write_stdout as _write_stdout
from llmcheck.machine_spec import (
    Overrides,
    SpecError,
    apply_overrides,
    snapshot_labels,
    snapshot_paths,
)
from llmcheck.snapshot import (
    MAX_SNAPSHOT_FILE_BYTES,
    Issue,
    SnapshotError,
    SystemSnapshot,
    read_snapshot_file,
)
from llmcheck.units import clean_text

if TYPE_CHECKING:
    from llmcheck.catalog import Catalog, ModelVariant
    from llmcheck.estimate import Fit, RunConfig

EXIT_OK = 0
EXIT_WONT_FIT = 1
EXIT_USAGE = 2
EXIT_BUDGET_UNKNOWN = 3
EXIT_INTERNAL = 4
EXIT_OUTPUT = 5
EXIT_INTERRUPTED = 130

log = logging.getLogger("llmcheck")

# --- the pieces main() wires together; each takes seams so tests feed recordings -------------


def load_snapshot(path: str, *, stdin: TextIO | None = None) -> SystemSnapshot:
    """Read a recorded machine from a file (or stdin for "-"): :func:`read_snapshot_file`.

    Raises:
        UsageError: missing, unreadable, not JSON, too large, or not a valid snapshot.
    """
    source = stdin if stdin is not None else sys.stdin
    if path == "-" and source is None:
        # Python sets sys.stdin to None when file descriptor 0 was closed (`llmcheck <&-`).
        raise UsageError("--snapshot -: standard input is closed; give a file instead")
    raw = getattr(source, "buffer", None)
    try:
        if path == "-" and raw is None:
            # A text stream without bytes under it (a test's StringIO): encode what it holds.
            text = source.read(MAX_SNAPSHOT_FILE_BYTES + 1)
            return read_snapshot_file("-", stdin=io.BytesIO(text.encode("utf-8", "replace")))
        return read_snapshot_file(path, stdin=raw)
    except SnapshotError as exc:
        raise UsageError(str(exc)) from None


def has_display(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a window can be shown: :func:`llmcheck.display.check_display`, as the window asks.

    A display that is named but does not answer (a stale ``DISPLAY=:99``) is said on stderr in
    one line; the text report follows.
    """
    from llmcheck.display import check_display

    found = check_display(os.environ if environ is None else environ, platform)
    if found.problem is not None and found.named:
        sys.stderr.write(f"llmcheck: the window was skipped: {found.problem}\n")
    return found.shows_a_window


def _probe(*, measure_bandwidth: bool = False) -> SystemSnapshot:
    from llmcheck.probe import probe_system

    return probe_system(measure_bandwidth=measure_bandwidth)


def _load_catalog() -> Catalog:
    from llmcheck.catalog import load_catalog

    return load_catalog()


def exit_code_for(verdict: str) -> int:
    """The exit code ``llmcheck check`` answers a verdict with."""
    return {
        "runs_great": EXIT_OK,
        "tight": EXIT_OK,
        "wont_fit": EXIT_WONT_FIT,
        "unknown": EXIT_BUDGET_UNKNOWN,
    }.get(verdict, EXIT_BUDGET_UNKNOWN)


# --- main ------------------------------------------------------------------------------------


def main(
    argv: Sequence[str] | None = None,
    *,
    probe: Callable[[], SystemSnapshot] | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run llmcheck; return the exit code (see the module docstring). Never raises.

    Args:
        argv: the arguments after the program name; ``sys.argv[1:]`` when None.
        probe: how to read this machine (``llmcheck.probe.probe_system`` when None).
        environ: the environment to look for a display in (``os.environ`` when None).
    """
    try:
        _prepare_streams()
        return _main(argv, probe=probe, environ=environ)
    except KeyboardInterrupt:  # Ctrl-C at any point, start-up included: one line, 130
        return _fail(EXIT_INTERRUPTED, "interrupted")


def _main(
    argv: Sequence[str] | None,
    *,
    probe: Callable[[], SystemSnapshot] | None,
    environ: Mapping[str, str] | None,
) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(args_list)
    except UsageError as exc:
        return _fail(EXIT_USAGE, f"{exc} (see `{PROG} --help`)")
    except SystemExit as exc:  # --help and --version print and "exit"; answer with their code
        try:
            _write_stdout("")  # flush what argparse wrote, so a failure is seen here
        except OutputError as error:
            return _fail(EXIT_OUTPUT, str(error))
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    _configure_logging(verbose=args.verbose)
    if probe is None:
        measure = args.measure_bandwidth

        def probe() -> SystemSnapshot:
            return _probe(measure_bandwidth=measure)

    try:
        return _run(args, args_list, probe=probe, environ=environ)
    except UsageError as exc:
        return _fail(EXIT_USAGE, str(exc))
    except OutputError as exc:
        return _fail(EXIT_OUTPUT, str(exc))
    except BrokenPipeError:  # a pipe that broke outside _emit (a log line): nothing to answer
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:  # the boundary: a bug must still end in one line, never a traceback
        log.debug("internal error", exc_info=True)
        return _fail(
            EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {exc} (run with -v for details)"
        )


def entry() -> None:
    """The console script: ``llmcheck``."""
    # freeze_support() does nothing outside a frozen app (the bundle enters through
    # packaging/entry_cli.py, this console script never is one), and importing multiprocessing
    # costs 20-40 ms of start-up (issue #2): only a frozen interpreter pays for it.
    if getattr(sys, "frozen", False):
        import multiprocessing

        multiprocessing.freeze_support()
    try:
        code = main()
    except KeyboardInterrupt:  # between main()'s own handler and here: still one line
        code = _fail(EXIT_INTERRUPTED, "interrupted")
    sys.exit(code)


def _run(
    args: argparse.Namespace,
    args_list: Sequence[str],
    *,
    probe: Callable[[], SystemSnapshot],
    environ: Mapping[str, str] | None,
) -> int:
    from llmcheck import report as rep

    if args.install_desktop_entry or args.uninstall_desktop_entry:
        return _desktop_entry(install=args.install_desktop_entry)
    if args.command == "list":
        doc = rep.build_list(_load_catalog())
        _emit(doc, as_json=args.json)
        return EXIT_OK
    scanning = args.command == "scan" or bool(args.scan)
    if (scanning or args.folder) and args.command not in (None, "scan"):
        raise UsageError("--scan and --folder go with `llmcheck scan` or the report")
    if args.folder and not scanning:
        raise UsageError("--folder adds a folder to the scan: add --scan (or run `llmcheck scan`)")
    if getattr(args, "mmproj", None) is not None and not is_file_argument(args.variant):
        raise UsageError("--mmproj goes with a .gguf model file: give the model's path")
    if not args_list and has_display(environ):
        try:
            from llmcheck.gui.app import main as gui_main

            return gui_main([])
        except ImportError as exc:
            # Qt needs system libraries (libEGL, libxkbcommon ...) a server may lack: the text
            # report still answers the question.
            log.warning("the window cannot open (%s); printing the text report instead", exc)
    settings = check_settings(args)
    overrides = machine_overrides(args)
    snapshots: list[str] = list(args.snapshot or ())
    what_ifs = [find_what_if(name) for name in getattr(args, "what_if", None) or ()]
    if args.measure_bandwidth and (snapshots or what_ifs):
        raise UsageError(
            "--measure-bandwidth measures this machine; it cannot judge a"
            " --snapshot or --what-if machine"
        )
    try:
        paths = snapshot_paths(snapshots)
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    as_csv = bool(getattr(args, "csv", False))
    many = len(paths) + len(what_ifs) > 1 or any(s != "-" and os.path.isdir(s) for s in snapshots)
    fleet = args.command == "check" and (as_csv or many)
    if as_csv and args.json:
        raise UsageError("--csv and --json: choose one")
    if args.command != "check" and many:
        raise UsageError(
            "several machines answer one question: use `llmcheck check VARIANT"
            " -q QUANT --snapshot a.json --snapshot b.json`"
        )
    if fleet and "-" in paths and len(paths) > 1:
        raise UsageError("--snapshot -: standard input is one machine; give files for a fleet")
    # Everything that can be checked without the machine is checked before probing it.
    catalog, catalog_problem = _catalog_or_problem()
    question: tuple[ModelVariant, str] | None = None
    runtime = args.runtime or "llama-server"
    asked: FileAsked | None = None
    if args.command in ("check", "scan") and catalog is None:
        assert catalog_problem is not None
        raise RuntimeError(catalog_problem.message)
    if args.command == "check" and catalog is not None and is_file_argument(args.variant):
        if fleet:
            raise UsageError(
                "a .gguf file is checked on one machine; for several, give its"
                " name (e.g. hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M)"
            )
        if args.quant is not None:
            raise UsageError("-q: a .gguf file has its own quantization; leave -q out")
        asked = read_file_question(args.variant, args.mmproj, catalog)
    elif args.command == "check" and catalog is not None:
        if looks_like_path(args.variant):
            raise UsageError(f"no such file: {clean_text(args.variant, limit=300)}")
        variant, named = find_question(catalog, args.variant, args.quant)
        question = (variant, find_quant(catalog, variant, named))
    elif catalog is not None:
        _check_report_context(settings, catalog)
    if fleet:
        assert question is not None
        machines = [*_file_machines(paths), *what_ifs]
        return _run_fleet(
            args, machines or [("this machine", probe)], question, settings, overrides
        )
    if what_ifs:
        log.debug("judging the what-if machine %s", what_ifs[0][0])
        snapshot = what_ifs[0][1]()
    elif paths:
        log.debug("judging the recorded machine in %s", paths[0])
        snapshot = load_snapshot(paths[0])
    else:
        log.debug("probing this machine")
        snapshot = probe()
    log.debug("machine read: %d GPU(s), %d problem(s)", len(snapshot.gpus), len(snapshot.problems))
    snapshot = _overridden(snapshot, overrides)
    if asked is not None:
        assert catalog is not None
        fit, file_variant, source = answer_file(asked, settings, snapshot, runtime, catalog)
        doc = rep.build_check(
            snapshot,
            fit,
            catalog=catalog,
            runtime=runtime,
            variant=file_variant,
            source_file=source,
        )
        _emit(_ids(doc, snapshot, args), as_json=args.json)
        return exit_code_for(doc["model"]["verdict"])
    if question is not None:
        assert catalog is not None
        from llmcheck.estimate import Verdict, estimate

        variant, quant = question
        config = runtime_config(build_config(settings, snapshot, variant), runtime)
        fit = estimate(variant, quant, config, snapshot)
        near = (
            _alternatives(fit, variant, catalog, snapshot)
            if (fit.verdict is Verdict.WONT_FIT)
            else ()
        )
        doc = rep.build_check(snapshot, fit, catalog=catalog, alternatives=near, runtime=runtime)
        _emit(_ids(doc, snapshot, args), as_json=args.json)
        return exit_code_for(doc["model"]["verdict"])
    found = run_scan(args.folder or ()) if scanning and catalog is not None else None
    if args.command == "scan":
        assert catalog is not None
        assert found is not None
        config = runtime_config(
            build_config(_report_settings(settings, catalog), snapshot, None), runtime
        )
        answers = scan_answers(found, settings, snapshot, runtime, catalog)
        doc = rep.build_scan(snapshot, found, answers, config, catalog=catalog, runtime=runtime)
        _emit(_ids(doc, snapshot, args), as_json=args.json)
        return EXIT_OK
    if catalog is None:
        # The machine part still stands on its own: report it, and say why models are missing.
        doc = rep.build_report(
            snapshot, (), None, catalog=None, problems=(catalog_problem,) if catalog_problem else ()
        )
    else:
        from llmcheck.estimate import estimate_all

        config = runtime_config(
            build_config(_report_settings(settings, catalog), snapshot, None), runtime
        )
        fits = estimate_all(catalog, snapshot, config)
        doc = rep.build_report(snapshot, fits, config, catalog=catalog, runtime=runtime)
        if found is not None:
            doc = {
                **doc,
                **rep.scan_to_dict(
                    found,
                    scan_answers(found, settings, snapshot, runtime, catalog),
                    catalog=catalog,
                    runtime=runtime,
                ),
            }
            doc["problems"] = doc.pop("problems")
    from llmcheck.render.words import summarize

    _emit(_ids(summarize(doc), snapshot, args), as_json=args.json)
    return EXIT_OK


def _report_settings(settings: Mapping[str, Any], catalog: Catalog) -> Mapping[str, Any]:
    if settings.get("context_tokens") != CONTEXT_MAX:
        return settings
    # `--ctx max` over every model: the longest any of them has; the estimator answers each
    # model at its own maximum where that is shorter.
    return {**settings, "context_tokens": max(v.gguf_context_tokens for v in catalog.variants)}


def _overridden(snapshot: SystemSnapshot, overrides: Overrides) -> SystemSnapshot:
    if not overrides:
        return snapshot
    try:
        return apply_overrides(snapshot, overrides)
    except SpecError as exc:
        raise UsageError(str(exc)) from None


def _check_report_context(settings: Mapping[str, Any], catalog: Catalog) -> None:
    """The whole-machine report refuses a context no model supports, as ``check`` does; a
    context between two models' maxima answers each shorter model at its own (said per model)."""
    tokens = settings.get("context_tokens")
    longest = max((v.gguf_context_tokens for v in catalog.variants), default=0)
    if tokens is not None and tokens != CONTEXT_MAX and longest and tokens > longest:
        raise UsageError(
            f"--ctx: no model supports more than {longest} tokens (their GGUF context_length);"
            f" you asked for {tokens} (write --ctx max for each model's longest context)"
        )


def _alternatives(
    fit: Fit, variant: ModelVariant, catalog: Catalog, snapshot: SystemSnapshot
) -> tuple[Any, ...]:
    """The nearest configurations that fit (``llmcheck.recommend.alternatives``)."""
    from llmcheck.estimate import estimate, max_context
    from llmcheck.recommend import alternatives

    return alternatives(
        variant,
        fit.quant,
        fit.config,
        catalog,
        lambda v, q, c: estimate(v, q, c, snapshot),
        lambda v, q, c: max_context(v, q, c, snapshot),
    )


def _file_machines(paths: Sequence[str]) -> list[tuple[str, Callable[[], SystemSnapshot]]]:
    """A (label, reader) per machine file, labelled by its name without ".json"."""

    def reader(path: str) -> Callable[[], SystemSnapshot]:
        return lambda: load_snapshot(path)

    return [
        (label, reader(path)) for label, path in zip(snapshot_labels(paths), paths, strict=True)
    ]


def _run_fleet(
    args: argparse.Namespace,
    machines: Sequence[tuple[str, Callable[[], SystemSnapshot]]],
    question: tuple[ModelVariant, str],
    settings: Mapping[str, Any],
    overrides: Overrides,
) -> int:
    """One question over many machines: one row each; see the module docstring's exit codes."""
    from llmcheck import report as rep
    from llmcheck.estimate import estimate

    variant, quant = question
    rows: list[tuple[str, SystemSnapshot | None, Fit | str]] = []
    config: RunConfig | None = None
    for label, read in machines:
        try:
            snap = _overridden(read(), overrides)
            config = build_config(settings, snap, variant)
        except UsageError as exc:
            log.debug("machine %s not judged: %s", label, exc)
            rows.append((label, None, str(exc)))
            continue
        rows.append((label, snap, estimate(variant, quant, config, snap)))
    if config is None:
        raise UsageError(f"no machine could be judged: {rows[0][2]}")
    doc = rep.build_fleet(variant, quant, config, rows)
    if getattr(args, "csv", False):
        from llmcheck.render.fleet import fleet_csv

        _write_stdout(fleet_csv(doc))
    else:
        _emit(doc, as_json=args.json)
    verdicts = {r["verdict"] for r in doc["machines"]}
    if verdicts & {"runs_great", "tight"}:
        return EXIT_OK
    return EXIT_WONT_FIT if "wont_fit" in verdicts else EXIT_BUDGET_UNKNOWN


def _ids(doc: dict[str, Any], snapshot: SystemSnapshot, args: argparse.Namespace) -> dict[str, Any]:
    """``--include-ids``: the machine with its GPU UUIDs and PCI bus ids (null by default)."""
    if not args.include_ids:
        return doc
    from llmcheck.snapshot import snapshot_to_dict

    return {**doc, "machine": snapshot_to_dict(snapshot, include_ids=True)}


def _desktop_entry(*, install: bool) -> int:
    """Write (or remove) the menu entry: only the files the user asked for, each one printed."""
    from llmcheck import desktop_entry

    try:
        if install:
            paths = desktop_entry.install_desktop_entry()
        else:
            paths = desktop_entry.uninstall_desktop_entry()
    except desktop_entry.DesktopEntryError as exc:
        return _fail(EXIT_USAGE, str(exc))
    verb = "wrote" if install else "removed"
    lines = [f"{verb} {clean_text(path, limit=4096)}" for path in paths]
    if not paths:
        lines.append("nothing to remove: no llmcheck menu entry was installed")
    try:
        _write_stdout("".join(f"{line}\n" for line in lines))
    except OutputError as exc:
        # The files are written (or removed): the job is done, only its list was lost.
        done = "installed" if install else "removed"
        _write_stderr(f"{PROG}: warning: {exc} (the menu entry was {done})\n")
    return EXIT_OK


def _catalog_or_problem() -> tuple[Catalog | None, Issue | None]:
    from llmcheck.catalog import CatalogError

    try:
        return _load_catalog(), None
    except CatalogError as exc:
        return None, Issue(
            source="catalog",
            code="catalog_invalid",
            message=str(exc),
            hint="The installed llmcheck is damaged; reinstall it.",
        )


def _emit(doc: Mapping[str, Any], *, as_json: bool) -> None:
    from llmcheck.render.text import format_text

    _write_stdout(json.dumps(doc, indent=2) + "\n" if as_json else format_text(doc))
