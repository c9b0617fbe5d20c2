"""Command-line interface: ``scalinglaws COMMAND ...``.

Units everywhere: N = parameters (a count), D = training tokens, C = training
compute in FLOP (not PF-days; C = 6·N·D unless --flops-per-token says
otherwise), loss = cross-entropy in nats per token.

Each module of this package registers a group of subcommands (``register(sub)``);
:data:`COMMAND_MODULES` lists them in the order ``--help`` shows them. Bad input
prints one line on stderr and exits with status 2 (``--verbose`` shows the
traceback); a fit that did not converge exits with status 1 after printing its
result.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from ..._exceptions import InputError, ScalingLawsWarning
from ..._version import __version__
from ._common import UNITS

#: modules of this package that add subcommands, in help order
COMMAND_MODULES = ("fitting", "approaches", "present")


def build_parser() -> argparse.ArgumentParser:
    """The ``scalinglaws`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="scalinglaws", description="Fit, reproduce and extrapolate neural scaling laws. " + UNITS,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"scalinglaws {__version__}")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default", ScalingLawsWarning)
            return args.func(args)
    except InputError as exc:
        if args.verbose:
            raise
        print(f"scalinglaws: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        if args.verbose:
            raise
        print(f"scalinglaws: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
