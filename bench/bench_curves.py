"""Benchmark: fit the Multi-Power Law to Luo et al.'s 27 curves (3 sizes x 9 schedules,
6,265 points; one fit per size, every curve of that size), with the default start grid.

Beside it, the same three fits the straightforward way: the objective written with scipy
and numpy as the papers' code does (the loss-drop sum over every step k for every logged
step, one Python loop over the logged steps, vectorised over k), minimised by
``scipy.optimize.minimize(method="L-BFGS-B")`` with a numerical gradient, from the
authors' initialisation (L0, A, alpha from a power-law fit, B = 300, C = 1, beta = gamma =
0.5). It is timed on one fit and one size, and the time for all three sizes is scaled from
the evaluation count; its objective is printed beside ours.

Run from the repository root with ``../shared`` beside it (or $SCALINGLAWS_SHARED)::

    python bench/bench_curves.py              # the timing (state the machine: nproc)
    BENCH_SCIPY_EVALUATIONS=400 python bench/bench_curves.py   # the README's baseline budget
    python bench/bench_curves.py --coverage   # the README's coverage simulation (100 x 100)
    python bench/bench_curves.py --coverage --law mpl --method blocks --replicates 40
    python bench/bench_curves.py --coverage --method blocks --quantity params
    python bench/bench_curves.py --coverage --method curves      # 3 curves: 10 resamples
    python bench/bench_curves.py --coverage --method ar1 --quantity params  # AR(1) sieve
    python bench/bench_curves.py --coverage --method ar1 --quantity params --rho 0 \
        --level 0.9 --level 0.95 --replicates 200   # independent noise, both levels
    python bench/bench_curves.py --coverage --method blocks --quantity partway   # predict_final
    python bench/bench_curves.py --coverage --method ar1 --quantity partway --level 0.95 \
        --replicates 200   # predict_final with bootstrap_curves' default draws, as tested
    python bench/bench_curves.py --coverage --quantity partway --parts   # the two shares
        (the law's draws by blocks)
    python bench/bench_curves.py --coverage --quantity partway --run-noise blocks  # before
    (--rho 0: independent noise; --block-length K: fixed blocks; --resamples, --replicates;
    --level 0.95: the level test_curve_final_coverage.py checks)
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from scalinglaws.data.curves import load_curves
from scalinglaws.fitting.curves import curve_objective, fit_curves
from scalinglaws.laws.schedules import attach_schedules

SHARED = Path(os.environ.get("SCALINGLAWS_SHARED", Path(__file__).resolve().parents[2] / "shared"))
FOLDER = SHARED / "datasets" / "lr_schedule_curves"


def _curves():
    curves = load_curves(FOLDER / "mpl_luo2025_curves.csv", columns={"N": "n_params"})
    return attach_schedules(curves, FOLDER / "mpl_luo2025_schedules.csv", key="schedule_file")


def _by_size(curves):
    return {size: curves.select(mask=(curves.frame["model_size"] == size).to_numpy())
            for size in ("25M", "100M", "400M")}


def _scipy_loop(part, max_evaluations: int):
    """The straightforward fit: exact objective (loop over logged steps), L-BFGS-B."""
    from scipy.optimize import minimize

    data = []
    for run in part.runs:
        lr = part.lr_array(run)
        area = np.cumsum(lr)
        gap = np.zeros_like(lr)
        gap[1:] = np.diff(lr)
        data.append((lr, area, gap, part.steps(run), np.log(part.loss(run))))
    count = [0]

    def objective(theta):
        count[0] += 1
        L0, A, alpha, B, C, beta, gamma = theta
        total = 0.0
        for lr, area, gap, steps, log_loss in data:
            drop = np.empty(len(steps))
            for i, s in enumerate(steps):
                k = np.arange(1, s + 1)
                drop[i] = np.sum(gap[k] * (1 - (1 + C * lr[k] ** -gamma
                                                * (area[s] - area[k - 1])) ** -beta))
            pred = L0 + A * area[steps] ** -alpha + B * drop
            if np.any(pred <= 0):
                return 1e10
            r = np.log(pred) - log_loss
            total += np.sum(np.where(np.abs(r) <= 1e-3, 0.5 * r * r, 1e-3 * (np.abs(r) - 5e-4)))
        return total

    start = np.array([3.0, 0.5, 0.5, 300.0, 1.0, 0.5, 0.5])
    bounds = [(1e-3, 10), (1e-6, 10), (0, 5), (1e-3, 1e4), (1e-6, 100), (0, 10), (0, 5)]
    began = time.perf_counter()
    result = minimize(objective, start, method="L-BFGS-B", bounds=bounds,
                      options={"maxfun": max_evaluations, "ftol": 1e-12, "gtol": 1e-9})
    return time.perf_counter() - began, count[0], result


def timing():
    print(f"machine: {os.cpu_count()} cores reported (nproc), one used; CPU time is this "
          "process's own (the machine is shared), wall time beside it")
    curves = _curves()
    parts = _by_size(curves)
    cpu, wall = time.process_time(), time.perf_counter()
    fits = {size: fit_curves(part, "mpl") for size, part in parts.items()}
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    for size, fit in fits.items():
        print(f"  {size:>5}: objective {fit.objective:.10g}  status {fit.status}  starts "
              f"{fit.n_starts}  iterations {fit.nit}")
    print(f"scalinglaws.fit_curves : {cpu:7.2f} s CPU ({wall:.2f} s wall) for 27 curves "
          f"({len(curves):,} points), 3 fits, loading the schedule sums included")
    budget = int(os.environ.get("BENCH_SCIPY_EVALUATIONS", "60"))
    cpu_loop = time.process_time()
    seconds, evaluations, result = _scipy_loop(parts["25M"], budget)
    cpu_loop = time.process_time() - cpu_loop
    theirs = curve_objective("mpl", dict(zip(fits["25M"].law.param_names, result.x)),
                             parts["25M"], quadrature={"exact": True})
    print(f"scipy L-BFGS-B loop    : {cpu_loop:7.2f} s CPU ({seconds:.2f} s wall) for "
          f"{evaluations} evaluations of the exact objective on the 25M curves "
          f"({cpu_loop / evaluations * 1e3:.0f} ms CPU each)")
    print(f"   after them its objective is {theirs:.6g}; ours {fits['25M'].objective:.6g}. At "
          f"this budget the three sizes take >= {3 * cpu_loop:.0f} s CPU")
    print(f"speed-up               : >= {3 * cpu_loop / cpu:.0f} x (CPU), and the loop has not "
          "reached the optimum")


def coverage(law: str = "momentum", methods=("blocks", "points"), quantity: str = "final",
             replicates: int = 100, resamples: int = 100, rho: float = 0.7, level=0.9,
             block_length: int | None = None, run_noise: str | None = None):
    """The coverage simulations behind the README (the tests run shorter versions).

    ``law`` simulates and fits that law; ``quantity`` is ``"final"`` (the interval
    ``predict_curve`` prints for the final loss of a held-out WSD run), ``"params"`` (the
    interval of every parameter, as ``scalinglaws curves fit --bootstrap`` prints them) or
    ``"partway"`` (the interval ``predict_final`` gives for a WSD run seen up to 25%, 50%
    and 75% of its steps, whose L0 is 0.05 nats above the fitted runs'; L0 refitted).
    Beside the coverage it counts the resamples that did not converge and the replicates
    whose full-data fit sits on a bound (status 1), and prints the spread the bootstrap
    gives every parameter and the final loss beside their actual spread over the data
    sets (:func:`_print_spread`).
    """
    import dataclasses
    import warnings

    from scalinglaws.analysis.curves import predict_curve
    from scalinglaws.fitting.curves import CurveFitResult
    from scalinglaws.laws.curve_synthetic import default_schedules, synthetic_curves
    from scalinglaws.uncertainty.curves import bootstrap_curves

    schedules = default_schedules()
    held = schedules.pop("wsd")
    last = [held.total_steps - 1]
    # the draws do not depend on the level, so one pass scores every level asked for
    levels = (level,) if np.isscalar(level) else tuple(level)
    if quantity == "partway" and len(levels) > 1:
        raise SystemExit("--quantity partway takes one --level")
    print(f"{law}, {replicates} data sets x {resamples} resamples, AR(1) rho {rho}, nominal "
          f"{' and '.join(f'{100 * lv:g}%' for lv in levels)}, {quantity}, block length "
          f"{block_length or 'from the residuals'}")
    if quantity == "partway":
        return _partway_coverage(law, schedules, held, methods, replicates, resamples, rho,
                                 levels[0], block_length, run_noise)
    for method in methods:
        hits = {lv: {} for lv in levels}  # per level: parameter (and "final") -> count
        widths = {lv: [] for lv in levels}
        hits_bound = dict.fromkeys(levels, 0)
        began = time.process_time()
        failed, short, on_bound, distinct, errors = 0, 0, 0, [], []
        estimates, spreads = [], []  # per data set: fitted value and the draws' sd
        for replicate in range(replicates):
            curves, truth = synthetic_curves(law, schedules=schedules, rng=replicate,
                                             noise=0.001, autocorrelation=rho)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = fit_curves(curves, law)
                draws = bootstrap_curves(fit, curves, resamples, method=method, rng=replicate,
                                         max_iter=200, confidence_level=levels[0],
                                         block_length=block_length)
            failed += draws.n_failed
            short += draws.n_failed > 0
            distinct.append(draws.n_distinct)
            true_final = CurveFitResult.from_params(law, truth).predict(held, last)[0]
            values = [fit.params[n] - truth[n] for n in fit.law.param_names]
            estimates.append(values + [fit.predict(held, last)[0] - true_final])
            spreads.append(list(np.nanstd(draws.draws, axis=0)) + [_final_spread(fit, held,
                                                                                 draws)])
            errors.append((fit.status == 1, fit.predict(held, last)[0] - true_final))
            on_bound += fit.status == 1
            for lv in levels:
                band = predict_curve(fit, held, steps=last, draws=draws, confidence_level=lv)
                hit = bool(band.low[0] <= true_final <= band.high[0])
                widths[lv].append(band.high[0] - band.low[0])
                hits_bound[lv] += hit and fit.status == 1
                at_level = dataclasses.replace(draws, confidence_level=lv).intervals
                for name, (low, high) in [*at_level.items(), ("final", (0, 0))]:
                    covered = hit if name == "final" else low <= truth[name] <= high
                    hits[lv][name] = hits[lv].get(name, 0) + bool(covered)
        seconds = time.process_time() - began
        for lv in levels:
            final = hits[lv]["final"]
            if quantity == "final":
                print(f"{method:>6}: {100 * lv:g}% intervals of the held-out WSD final loss "
                      f"covered the truth {final}/{replicates} times; median width "
                      f"{np.median(widths[lv]):.4f} nats; full-data fit on a bound in "
                      f"{on_bound} (covered {hits_bound[lv]}), the others covered "
                      f"{final - hits_bound[lv]}/{replicates - on_bound}")
            else:
                print(f"{method:>6}: {100 * lv:g}% intervals covered the truth: "
                      + ", ".join(f"{name} {count}/{replicates}"
                                  for name, count in hits[lv].items())
                      + f" (final: the held-out WSD final loss; fits on a bound {on_bound}, "
                        f"their final covered {hits_bound[lv]})")
        if quantity == "final":
            bound, error = np.array(errors).T
            bound = bound.astype(bool)
            parts = [f"{label} {error[m].mean():+.5f} (sd {error[m].std():.5f})"
                     for label, m in (("on a bound", bound), ("the others", ~bound)) if m.any()]
            print("        fitted minus true final loss, mean: " + "; ".join(parts))
        _print_spread(list(fit.law.param_names) + ["final"], estimates, spreads)
        print(f"        {failed} of {replicates * resamples} resamples failed to converge "
              f"(in {short} data sets); distinct resamples per data set: median "
              f"{int(np.median(distinct))}, min {min(distinct)} ({seconds:.0f} s CPU)")


def _final_spread(fit, held, draws) -> float:
    """Standard deviation of the held-out WSD final loss over the draws."""
    law = fit.law
    sums = law.make_sums([held.lr_array()], [np.array([held.total_steps - 1])],
                         quadrature=fit.options.get("quadrature"))
    values, _ = law.evaluate(law.to_internal(draws.draws), sums)
    return float(np.nanstd(values[:, 0]))


def _print_spread(names, errors, spreads):
    """The measurement behind an interval's coverage: for each parameter (and the final
    loss), the actual spread of the fitted value over the data sets (its sd around the
    truth, and its mean error) beside the spread the bootstrap gives it (the draws' sd:
    median over the data sets, and the 5th-95th percentiles), and the sd of the
    t-statistics (error / the draws' sd; 1 when the bootstrap's spread is right)."""
    errors, spreads = np.array(errors, dtype=float), np.array(spreads, dtype=float)
    print("        spread: bootstrap sd / actual sd over the data sets, median (5-95%); "
          "sd of error / bootstrap sd; mean error / actual sd")
    for i, name in enumerate(names):
        actual = np.std(errors[:, i])
        ratio = spreads[:, i] / actual
        with np.errstate(divide="ignore", invalid="ignore"):
            t = errors[:, i] / spreads[:, i]
        print(f"        {name:>7}: {np.median(ratio):.2f} ({np.percentile(ratio, 5):.2f}-"
              f"{np.percentile(ratio, 95):.2f}); t sd {np.nanstd(t):.2f}; bias "
              f"{np.mean(errors[:, i]) / actual:+.2f}")


PARTWAY_FRACTIONS = (0.25, 0.5, 0.75)
PARTWAY_OFFSET = 0.05  # the part-way run's L0 above the fitted runs' (another data mix)


def _partway_data(law, schedules, held, replicate, resamples, rho, level, method="blocks"):
    """One data set of the part-way simulations: the law fitted and bootstrapped on
    ``schedules``' curves (seed ``replicate``) and a ``held`` run with L0 raised by
    :data:`PARTWAY_OFFSET` (seed ``10_000 + replicate``). Returns ``(fit, draws, truth,
    shifted, run, true_final)``: the true and shifted parameters, the run's curve and its
    noise-free final loss."""
    import warnings

    from scalinglaws.fitting.curves import CurveFitResult
    from scalinglaws.laws.curve_synthetic import synthetic_curves
    from scalinglaws.uncertainty.curves import bootstrap_curves

    curves, truth = synthetic_curves(law, schedules=schedules, rng=replicate, noise=0.001,
                                     autocorrelation=rho)
    shifted = {**truth, "L0": truth["L0"] + PARTWAY_OFFSET}
    run, _ = synthetic_curves(law, shifted, schedules={"heldout": held},
                              rng=10_000 + replicate, noise=0.001, autocorrelation=rho)
    true_final = CurveFitResult.from_params(law, shifted).predict(held, [held.total_steps - 1])[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bounds and failed refits are counted by the callers
        fit = fit_curves(curves, law)
        draws = bootstrap_curves(fit, curves, resamples, method=method, rng=replicate,
                                 max_iter=200, confidence_level=level)
    return fit, draws, truth, shifted, run, true_final


def partway_replicate(law, schedules, held, method, replicate, resamples, rho=0.7, level=0.9,
                      block_length=None, fractions=PARTWAY_FRACTIONS, run_noise=None):
    """One data set of the ``predict_final`` coverage simulation (:func:`_partway_data`),
    the held-out run cut at each fraction of its steps, its noise redrawn by ``run_noise``
    (``predict_final``'s default: the AR(1) sieve, or blocks when ``block_length`` is
    given). Returns ``{fraction: (covered, width, error, points seen, block length, AR(1)
    coefficient)}`` and the fit's status."""
    import warnings

    from scalinglaws.analysis.curves import predict_final

    fit, draws, _, _, run, true_final = _partway_data(law, schedules, held, replicate,
                                                      resamples, rho, level, method)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # failed refits are left out of the interval
        for fraction in fractions:
            seen = run.truncate(fraction)
            row = predict_final(fit, seen, draws=draws, rng=replicate, run_noise=run_noise,
                                block_length=block_length).iloc[0]
            out[fraction] = (bool(row.final_low <= true_final <= row.final_high),
                             row.final_high - row.final_low, row.final_loss - true_final,
                             len(seen), int(row.block_length), float(row.noise_ar1))
    return out, fit.status


def _partway_coverage(law, schedules, held, methods, replicates, resamples, rho, level,
                      block_length, run_noise=None):
    for method in methods:
        began = time.process_time()
        results = [partway_replicate(law, schedules, held, method, r, resamples, rho, level,
                                     block_length, run_noise=run_noise)
                   for r in range(replicates)]
        bound = np.array([status == 1 for _, status in results])
        for fraction in PARTWAY_FRACTIONS:
            hit, width, error, points, length, ar1 = (
                np.array(v, dtype=float) for v in zip(*(out[fraction] for out, _ in results)))
            noise = (f"blocks of {int(length.min())}-{int(length.max())}" if length.max()
                     else f"AR(1) sieve, coefficient {np.nanmean(ar1):.2f} on average")
            print(f"{method:>6}: run seen to {fraction:.0%}: {100 * level:g}% intervals of its "
                  f"final loss covered the truth {int(hit.sum())}/{replicates} times (fits on a "
                  f"bound: {int(hit[bound].sum())}/{int(bound.sum())}); median width "
                  f"{np.median(width):.4f} nats; error {error.mean():+.5f} "
                  f"(sd {error.std():.5f}); {int(points.min())}-{int(points.max())} points "
                  f"seen, {noise}")
        print(f"        ({time.process_time() - began:.0f} s CPU)")


def partway_parts(law="momentum", replicates=100, resamples=100, fraction=0.5, rho=0.7,
                  level=0.9, run_noise=None):
    """The part-way intervals' two shares (the README's decomposition): on the
    simulation's data sets, the actual spread of the final-loss error that comes from the
    run's own noise (L0 refitted on the noisy run, the law at the truth) and from the law
    (the fitted law, L0 refitted on the noise-free run), each beside the spread the
    bootstrap gives it (interval width / (2 z), z the normal quantile of ``level``: the
    run's noise redrawn by ``run_noise`` with every draw at the truth; the law's draws
    with the noise-free run not resampled)."""
    import dataclasses
    import warnings
    from statistics import NormalDist

    from scalinglaws.analysis.curves import predict_final
    from scalinglaws.fitting.curves import CurveFitResult
    from scalinglaws.laws.curve_synthetic import default_schedules, synthetic_curves

    schedules = default_schedules()
    held = schedules.pop("wsd")
    z = NormalDist().inv_cdf(0.5 + level / 2)
    errors, spreads = {"run": [], "law": []}, {"run": [], "law": []}
    began = time.process_time()
    for replicate in range(replicates):
        fit, draws, truth, shifted, noisy, true_final = _partway_data(
            law, schedules, held, replicate, resamples, rho, level)
        clean, _ = synthetic_curves(law, shifted, schedules={"heldout": held}, noise=0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exact = CurveFitResult.from_params(law, truth)
            at_truth = dataclasses.replace(draws, point=dict(exact.params), draws=np.repeat(
                [[truth[n] for n in fit.law.param_names]], resamples, axis=0))
            seen, seen_clean = noisy.truncate(fraction), clean.truncate(fraction)
            run = predict_final(exact, seen, draws=at_truth, rng=replicate,
                                run_noise=run_noise).iloc[0]
            lawn = predict_final(fit, seen_clean, draws=draws, rng=replicate,
                                 block_length=len(seen_clean)).iloc[0]
        for part, row in (("run", run), ("law", lawn)):
            errors[part].append(row.final_loss - true_final)
            spreads[part].append((row.final_high - row.final_low) / (2 * z))
    print(f"{law}, run seen to {fraction:.0%}, {replicates} data sets x {resamples} resamples:")
    for part, what in (("run", "the run's own noise (law at the truth)"),
                       ("law", "the law (noise-free run)")):
        actual = np.std(errors[part])
        boot = np.sqrt(np.mean(np.square(spreads[part])))
        print(f"  {what}: actual sd {actual:.5f} nats, bootstrap {boot:.5f} "
              f"({boot / actual:.2f} of it)")
    print(f"  ({time.process_time() - began:.0f} s CPU)")


def main():
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coverage", action="store_true",
                        help="the coverage simulation instead of the timing")
    parser.add_argument("--law", choices=["momentum", "mpl"], default="momentum")
    parser.add_argument("--method", choices=["ar1", "blocks", "curves", "points"],
                        action="append",
                        help="resampling scheme (repeatable; default blocks and points)")
    parser.add_argument("--quantity", choices=["final", "params", "partway"], default="final",
                        help="held-out WSD final loss, every parameter, or the final loss "
                             "predict_final gives for a WSD run part-way through")
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--resamples", type=int, default=100)
    parser.add_argument("--rho", type=float, default=0.7, help="AR(1) coefficient of the noise")
    parser.add_argument("--block-length", type=int, help="points per block (default: from "
                                                         "the residuals' autocorrelation)")
    parser.add_argument("--parts", action="store_true",
                        help="with --quantity partway: the spread the bootstrap gives the "
                             "run's noise and the law, each against the actual one")
    parser.add_argument("--run-noise", choices=["ar1", "blocks"],
                        help="with --quantity partway: how predict_final redraws the run's "
                             "noise (default its own: ar1, or blocks with --block-length)")
    parser.add_argument("--level", type=float, action="append",
                        help="nominal level (repeatable: every level from the same draws; "
                             "default 0.9)")
    args = parser.parse_args()
    levels = tuple(args.level or (0.9,))
    if args.coverage and args.quantity == "partway" and args.parts:
        partway_parts(args.law, args.replicates, args.resamples, rho=args.rho,
                      level=levels[0], run_noise=args.run_noise)
    elif args.coverage:
        coverage(args.law, tuple(args.method or ("blocks", "points")), args.quantity,
                 args.replicates, args.resamples, args.rho, levels,
                 block_length=args.block_length, run_noise=args.run_noise)
    else:
        timing()


if __name__ == "__main__":
    main()
