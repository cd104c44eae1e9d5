"""The command line's arguments: the parser of ``llmcheck`` and its subcommands.

Kept apart from ``llmcheck.cli`` (which runs them) so each stays readable in one sitting. The
parser raises :class:`~llmcheck.cli_settings.UsageError` instead of printing its usage and exiting,
so every bad argument is one clear line and exit 2.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from llmcheck import __version__
from llmcheck.cli_settings import UsageError
from llmcheck.machine_spec import MAX_FLEET_MACHINES

PROG = "llmcheck"
RUNTIMES = ("llama-server", "llama-cpp-python", "ollama", "lm-studio")  # estimate.runtime.Runtime


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting (one clear line, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


# --- argument parsing ------------------------------------------------------------------------


def _add_common(parser: argparse.ArgumentParser, *, sub: bool) -> None:
    # Subcommands repeat the common options with SUPPRESS defaults, so `llmcheck --json check X`
    # and `llmcheck check X --json` both work without the subparser overwriting the first.
    default: Any = argparse.SUPPRESS if sub else None
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if sub else False,
        help="print one JSON document on stdout (logs go to stderr)",
    )
    parser.add_argument(
        "--snapshot",
        metavar="FILE",
        action="append",
        default=default,
        help="judge a recorded machine (a `llmcheck --json` file, - for stdin)"
        " instead of probing this one; with check, repeat it or give a"
        f" folder (its *.json, at most {MAX_FLEET_MACHINES}) for one row"
        " per machine",
    )
    parser.add_argument(
        "--what-if",
        metavar="NAME",
        action="append",
        default=default,
        help="judge a machine of the what-if catalog (e.g. rtx-4090, m4-max-128g:"
        " an id, a name or a unique part of one) instead of this one; with"
        " check, repeat it (or add --snapshot) for one row per machine",
    )
    parser.add_argument(
        "--gpu-memory",
        metavar="SIZE",
        action="append",
        default=default,
        help="judge as if every GPU had SIZE of memory, all free (gpu:1=12G for"
        " one); SIZE is 24G, 24GB, 24GiB or 24576M: G, GB and GiB all mean"
        " 2^30 bytes (a card sold as 8 GB has 8 GiB)",
    )
    parser.add_argument(
        "--ram",
        metavar="SIZE",
        default=default,
        help="judge as if the machine had SIZE of RAM available (units as"
        " --gpu-memory; drops a container limit)",
    )
    parser.add_argument(
        "--bandwidth",
        metavar="GB/S",
        action="append",
        default=default,
        help="memory bandwidth in GB/s (10^9 bytes/s) of every GPU (of the RAM"
        " on a machine without one); gpu:0=936 or ram=68 for one",
    )
    parser.add_argument(
        "--include-ids",
        action="store_true",
        default=argparse.SUPPRESS if sub else False,
        help="keep GPU UUIDs and PCI bus ids in --json (left out by default:"
        " they identify the hardware; see docs/json-output.md)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS if sub else False,
        help="log what llmcheck does to stderr",
    )
    parser.add_argument(
        "--measure-bandwidth",
        action="store_true",
        default=argparse.SUPPRESS if sub else False,
        help="measure this machine's RAM bandwidth (under a second of every core"
        " and up to 1 GiB) instead of estimating it from the CPU's class",
    )


def _add_settings(parser: argparse.ArgumentParser, *, sub: bool) -> None:
    default: Any = argparse.SUPPRESS if sub else None
    parser.add_argument(
        "--ctx",
        metavar="N",
        default=default,
        help="context length in tokens: 4096, 32k, or max for each model's longest (default 4096)",
    )
    parser.add_argument(
        "--kv-type",
        choices=("f16", "q8_0", "q4_0"),
        default=default,
        help="KV cache type (llama.cpp -ctk/-ctv; default f16)",
    )
    parser.add_argument(
        "--flash-attn",
        choices=("on", "off"),
        default=default,
        help="flash attention (llama.cpp -fa; default on)",
    )
    parser.add_argument(
        "--parallel",
        metavar="N",
        default=default,
        help="parallel sequences (llama.cpp -np; default 1)",
    )
    parser.add_argument(
        "--ubatch",
        metavar="N",
        default=default,
        help="micro-batch size (llama.cpp -ub; default 512)",
    )
    parser.add_argument(
        "--device",
        metavar="auto|cpu|gpu:I",
        default=default,
        help="where to run: auto (default), cpu, or one GPU, e.g. gpu:0",
    )
    parser.add_argument(
        "--ngl",
        "--n-gpu-layers",
        dest="ngl",
        metavar="N",
        default=default,
        help="layers to offload (llama.cpp -ngl; default: llmcheck picks; 0 keeps"
        " a visible GPU for the big matmuls)",
    )
    parser.add_argument(
        "--min-speed",
        metavar="TOK/S",
        default=default,
        help="'runs great' also needs at least this generation speed at the low"
        " end of its range (default 10; 0 judges memory only)",
    )
    parser.add_argument(
        "--threads",
        metavar="N",
        default=default,
        help="CPU threads (llama.cpp -t; default: one per physical core); changes"
        " the speed estimate and the printed command",
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default=default,
        help="the program that runs the model: its command is printed and its"
        " defaults assumed (default llama-server)",
    )


def _add_scan(parser: argparse.ArgumentParser, *, sub: bool) -> None:
    if not sub:
        parser.add_argument(
            "--scan",
            action="store_true",
            help="add the LFM2 GGUF files on this machine (local_models in"
            " --json; see `llmcheck scan`)",
        )
    parser.add_argument(
        "--folder",
        metavar="DIR",
        action="append",
        default=argparse.SUPPRESS if sub else None,
        help="also look for GGUF files in DIR (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to render --help in the docs)."""
    parser = _Parser(
        prog=PROG,
        description="Will a Liquid AI LFM2 / LFM2.5 model run on this machine (llama.cpp, GGUF),"
        " at which quantization and context, and how fast? With no arguments: the"
        " window on a desktop, else a text report.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _add_common(parser, sub=False)
    _add_settings(parser, sub=False)
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = subs.add_parser(
        "check",
        help="answer one question: does MODEL (a name or a .gguf file) fit?",
        description="Does one model fit? Exit 0 fits, 1 won't fit, 2 bad"
        " input, 3 the memory budget is unknown.",
    )
    check.add_argument(
        "variant",
        metavar="MODEL",
        help="a .gguf file (a split one by its first part), a catalog name"
        " (lfm2-1.2b, see `llmcheck list`) or a name as pasted:"
        " hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M, LiquidAI/LFM2-1.2B-GGUF,"
        " LFM2-1.2B-Q4_K_M.gguf",
    )
    check.add_argument(
        "--quant",
        "-q",
        metavar="Q",
        help="e.g. Q4_K_M (or a community quant: Q3_K_M, IQ4_XS ...); not needed"
        " for a file or a name that holds one",
    )
    check.add_argument(
        "--mmproj",
        metavar="PATH",
        help="the vision projector of a .gguf model file (default: the mmproj"
        " file beside it, if there is one)",
    )
    check.add_argument(
        "--csv",
        action="store_true",
        help="one CSV row per machine (RFC 4180, a header row) on stdout",
    )
    _add_settings(check, sub=True)
    _add_common(check, sub=True)
    listing = subs.add_parser("list", help="the variants and quantizations llmcheck knows")
    _add_common(listing, sub=True)
    scan = subs.add_parser(
        "scan",
        help="the LFM2 GGUF files already on this machine, each with its verdict",
        description="List the LFM2-family GGUF files in LM Studio's,"
        " llama.cpp's, Hugging Face's and Ollama's stores (and"
        " --folder), each with its verdict; read-only, bounded"
        " in time.",
    )
    _add_scan(scan, sub=True)
    _add_settings(scan, sub=True)
    _add_common(scan, sub=True)
    _add_scan(parser, sub=False)
    desktop = parser.add_mutually_exclusive_group()
    desktop.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add llmcheck to this user's application menu (Linux: a .desktop"
        " file and icons under ~/.local/share) and exit",
    )
    desktop.add_argument(
        "--uninstall-desktop-entry",
        action="store_true",
        help="remove what --install-desktop-entry wrote, and exit",
    )
    return parser
