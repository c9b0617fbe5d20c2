"""How often prediction intervals contain held-out runs, on every sweep of the study.

For every sweep of bench/extrapolation_sweeps.py (Epoch, Porian et al.'s 15 settings,
datablations, OLMo, four synthetic), a rollout along C (the same cuts as the estimator
study: at most 4, the first leaving a third of the runs to fit) fits each fold, then
calibrates that fold's fit on the fold's training runs alone (its own inner rollout:
scatter, parameter covariance, extrapolation term; no bootstrap) and asks whether each
held-out run falls inside its 95% prediction interval. For comparison, the same fold's
95% confidence interval (delta method: parameter uncertainty only). Two estimators:
the default (Hoffmann's objective) and ``preset="extrapolate"`` (tied exponents).

    python bench/bench_prediction_intervals.py [--sweeps SUBSTRING ...] [--json out.json]

Deterministic (no randomness: no bootstrap). Prints per sweep the records, the coverage
of each interval kind and the median width of the prediction interval (% of the loss).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import extrapolation_sweeps as sweeps_module  # noqa: E402

import scalinglaws as sl  # noqa: E402
from scalinglaws.uncertainty.calibrated import calibrate  # noqa: E402
from scalinglaws.uncertainty.rollout import rollout, rollout_cuts  # noqa: E402

N_CUTS, LEVEL = 4, 0.95
ESTIMATORS = {"default": {}, "extrapolate": {"preset": "extrapolate"}}


def _hooks():
    """Interval hooks: calibrate the fold's fit on the fold's runs, then both intervals."""
    cache = {}

    def law(fit, train):
        key = id(fit)
        if key not in cache:
            cache.clear()
            cache[key] = calibrate(fit, train, n_resamples=0, progress=False)
        return cache[key]

    def bounds(kind):
        def hook(fit, train, inputs):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sl.ScalingLawsWarning)
                b = law(fit, train).interval(kind, LEVEL, **inputs)
            return np.ravel(b.low), np.ravel(b.high)
        return hook

    return {"prediction": bounds("prediction"), "confidence": bounds("confidence")}


def study(name, runs):
    cuts = rollout_cuts(runs.C, n_cuts=N_CUTS, min_train=max(12, int(np.ceil(len(runs) / 3))))
    rows = {}
    for label, options in ESTIMATORS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            result = rollout(runs, "chinchilla", axis="C", cuts=cuts, intervals=_hooks(),
                             label=label, progress=False, **options)
        low, high = result.intervals["prediction"]
        rows[label] = {"records": result.n_records,
                       "prediction": float(np.mean(result.covered("prediction"))),
                       "confidence": float(np.mean(result.covered("confidence"))),
                       "width": float(np.median((np.asarray(high) - np.asarray(low))
                                                / np.asarray(result.loss))),
                       "mean_error": result.mean_relative_error}
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweeps", nargs="*", help="only sweeps whose name contains one of these")
    parser.add_argument("--json", help="write the table as JSON")
    args = parser.parse_args()
    sweeps = sweeps_module.all_sweeps()
    if args.sweeps:
        sweeps = {k: v for k, v in sweeps.items() if any(s in k for s in args.sweeps)}
    start = time.perf_counter()
    table = {}
    print(f"{'sweep':44}{'records':>8}  " + "  ".join(
        f"{e + ' pred':>16}{'conf':>6}{'width':>7}" for e in ESTIMATORS), flush=True)
    for name, runs in sweeps.items():
        table[name] = study(name, runs)
        cells = "  ".join(f"{100 * r['prediction']:>15.1f}%{100 * r['confidence']:>5.0f}%"
                          f"{100 * r['width']:>6.1f}%" for r in table[name].values())
        print(f"{name:44}{table[name]['default']['records']:>8}  {cells}", flush=True)
    for scope, keep in (("public", lambda k: not k.startswith("synthetic")),
                        ("synthetic", lambda k: k.startswith("synthetic"))):
        names = [k for k in table if keep(k)]
        if not names:
            continue
        cells = []
        for e in ESTIMATORS:
            cells.append(f"{100 * np.mean([table[k][e]['prediction'] for k in names]):>15.1f}%"
                         f"{100 * np.mean([table[k][e]['confidence'] for k in names]):>5.0f}%"
                         f"{100 * np.median([table[k][e]['width'] for k in names]):>6.1f}%")
        print(f"{'mean of sweeps, ' + scope:44}{'':>8}  " + "  ".join(cells))
    print(f"\n{time.perf_counter() - start:.0f} s ({len(table)} sweeps; 95% intervals; width is "
          "the median prediction-interval width, % of the loss)")
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
