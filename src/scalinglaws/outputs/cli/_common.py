"""What every subcommand shares: the units line, NAME=VALUE parsing, loading a runs
table with the common data options, printing a table."""

from __future__ import annotations

import json

from ..._exceptions import InputError

UNITS = ("units: N = parameters (count), D = training tokens, C = training compute in FLOP "
         "(C = k*N*D, k = 6 by default), loss = nats per token")


def key_values(items, arg, convert=float) -> dict:
    out = {}
    for item in items or []:
        for part in item.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise InputError(f"{arg} expects NAME=VALUE pairs, got {part!r}")
            key, value = (s.strip() for s in part.split("=", 1))
            try:
                out[key] = convert(value)
            except ValueError:
                raise InputError(f"{arg}: {value!r} is not a number (in {part!r})") from None
    return out


def add_data_options(parser, positional: bool = True):
    if positional:
        parser.add_argument("path", help="runs table: .csv, .tsv, .json, .jsonl or .parquet")
    parser.add_argument("--columns", action="append", metavar="NAME=COLUMN",
                        help="map canonical names (N, D, C, loss) to your column names, e.g. "
                             "--columns N=nonembedding_params,loss=val_loss")
    parser.add_argument("--flops-per-token", type=float, default=6.0, metavar="K",
                        help="k in C = k*N*D, used to derive D or C when one is missing (default 6)")
    parser.add_argument("--nan-policy", choices=["raise", "omit"], default="raise",
                        help="'omit' drops rows with missing values and says how many (default raise)")
    parser.add_argument("--exclude-top-loss", type=int, default=0, metavar="K",
                        help="drop the K runs with the largest loss before fitting (Epoch's "
                             "replication drops 5 on the Chinchilla data)")


def runs_from_args(args):
    from ...data.runs import load_runs

    runs = load_runs(args.path, columns=key_values(args.columns, "--columns", str) or None,
                     flops_per_token=args.flops_per_token, nan_policy=args.nan_policy)
    if args.exclude_top_loss:
        runs = runs.exclude_top_loss(args.exclude_top_loss)
    return runs


def print_table(frame, as_json: bool) -> None:
    """Print a result table readably, or as JSON records."""
    if as_json:
        print(json.dumps(json.loads(frame.to_json(orient="records")), indent=2))
    else:
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.6g}"))


def optional_runs_from_args(args):
    """The runs of ``--data`` (with the usual loading options), or None."""
    if not args.data:
        return None
    args.path = args.data
    return runs_from_args(args)
