"""Bootstrap: coverage on known truth, published Epoch intervals, reproducibility, parallelism."""

import json
from pathlib import Path
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import ConvergenceWarning, InputError
from scalinglaws.uncertainty.asymptotic import asymptotic_covariance
from scalinglaws.uncertainty.bootstrap import bootstrap, resample_counts
from scalinglaws.laws.synthetic import DEFAULT_TRUTH
from scalinglaws.laws.published import BESIROGLU_2024_TABLE1
from coverage_checks import band, check_readme_counts

# Besiroglu et al. (2024), 4,000 resamples, 95% intervals (reference sheet §3, verified-code)
EPOCH_INTERVALS = {"E": (1.769, 1.871), "A": (285.2, 743.6), "B": (1042.4, 5810.3),
                   "alpha": (0.317, 0.373), "beta": (0.331, 0.415)}


@pytest.fixture(scope="module")
def epoch(epoch_csv):
    runs = sl.load_runs(epoch_csv).exclude_top_loss(5)
    result = sl.fit(runs)
    return runs, result, bootstrap(result, runs, 1000, rng=42)


@pytest.fixture(scope="module")
def synthetic():
    runs = sl.generate_sweep(noise=0.01, rng=5)
    return runs, sl.fit(runs)


def test_epoch_intervals_match_the_replication(epoch):
    runs, result, boot = epoch
    assert boot.n_failed == 0 and boot.draws.shape == (1000, 5)
    for name, (low, high) in EPOCH_INTERVALS.items():
        width = high - low
        ours = boot.intervals[name]
        # Epoch refit each resample from one start with a different estimator, and
        # 1000 resamples put ~3% Monte Carlo error on a 2.5% quantile: allow 15% of the width
        assert ours[0] == pytest.approx(low, abs=0.15 * width), name
        assert ours[1] == pytest.approx(high, abs=0.15 * width), name
    estimate, low, high = boot.allocation_exponents()["a"]
    assert low < 0.5 < high
    assert estimate == pytest.approx(0.514, abs=0.002)
    # the README's intervals (seed 42), at the digits it prints
    printed = {"E": ("%.3f", "[1.772, 1.870]"), "A": ("%.0f", "[295, 722]"),
               "B": ("%.0f", "[1014, 5984]"), "alpha": ("%.3f", "[0.319, 0.372]"),
               "beta": ("%.3f", "[0.331, 0.417]")}
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    symbols = {"alpha": "α", "beta": "β"}
    for name, (digits, text) in printed.items():
        assert f"[{digits % boot.intervals[name][0]}, {digits % boot.intervals[name][1]}]" == text
        assert f"{symbols.get(name, name)} {text}" in readme, name
    assert f"[{low:.3f}, {high:.3f}]" == "[0.481, 0.555]" and "interval [0.481, 0.555]" in readme
    # README (Planning a sweep, Priors): the data's own bootstrap gives sd(a) 0.019, against
    # 0.015 for the published prior. Monte Carlo error of an sd over these 1000 resamples:
    # sd * sqrt((kurtosis - 1) / (4 n)) = 2.3% relative (kurtosis of the a draws 3.09), so
    # 3 Monte Carlo errors are 7%: [0.0177, 0.0203] holds 0.019 and excludes 0.015 (measured
    # 0.0193). The seeded value also rounds to the README's printed digits.
    a_draws = boot.draws[:, 4] / (boot.draws[:, 3] + boot.draws[:, 4])
    assert np.std(a_draws) == pytest.approx(0.019, rel=0.07)
    assert f"{np.std(a_draws):.3f}" == "0.019"


def test_tokens_per_parameter_and_prediction_intervals(epoch):
    _, result, boot = epoch
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert ("Besiroglu et al.'s Table 1 coefficients (Epoch's refit), 18.4 tokens per "
            "parameter at\nChinchilla's 5.88e23 FLOP; this package's own fit of their runs "
            "(*Reproducing Epoch's\nrefit of Chinchilla* below) gives 17.9.") in readme
    # 18.4 is the published Table 1 (Besiroglu et al. 2024), by the closed form
    # D/N = G^-2 (C/6)^(b - a), G = (alpha A / (beta B))^(1/(alpha+beta)), a = beta/(alpha+beta):
    # 18.38, at the README's printed digit
    def closed_form(p, compute=5.88e23):
        s = p["alpha"] + p["beta"]
        g = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / s)
        return g ** -2 * (compute / 6) ** ((p["alpha"] - p["beta"]) / s)

    table1 = sl.FitResult.from_params("chinchilla", BESIROGLU_2024_TABLE1)
    assert f"{closed_form(BESIROGLU_2024_TABLE1):.1f}" == "18.4"
    assert f"{sl.compute_optimal(table1, 5.88e23).tokens_per_parameter:.1f}" == "18.4"
    # 17.9 is the package's own fit of the runs (its parameters are pinned against the
    # objective of an independent minimisation in tests/fitting/test_estimator.py): the
    # bootstrap's estimate is the closed form at the fitted parameters (measured 17.9107)
    estimate, low, high = boot.tokens_per_parameter(5.88e23)
    assert estimate == pytest.approx(closed_form(result.params), rel=1e-12)
    assert f"{estimate:.1f}" == "17.9" and low < estimate < high
    prediction = boot.predict(N=7e10, D=1.4e12)
    assert prediction.loss == pytest.approx(result.predict(N=7e10, D=1.4e12))
    assert prediction.low < prediction.loss < prediction.high
    assert prediction.high - prediction.low < 0.2


@pytest.mark.slow
def test_coverage_on_simulated_sweeps():
    """Nominal 95% intervals cover the truth in 89-100 of 100 simulated sweeps (3 Monte
    Carlo errors either side of 95%, ``band(100)``), as many as the README states."""
    truth = DEFAULT_TRUTH["chinchilla"]
    hits = dict.fromkeys(("E", "alpha", "beta"), 0)
    n_sweeps = 100
    for seed in range(n_sweeps):
        runs = sl.generate_sweep(noise=0.01, rng=1000 + seed)
        result = sl.fit(runs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            boot = bootstrap(result, runs, 200, rng=seed)
        for name in hits:
            low, high = boot.intervals[name]
            hits[name] += low <= truth[name] <= high
    low, high = band(n_sweeps)
    for name, count in hits.items():
        assert low <= count <= high, (name, count)
    check_readme_counts(
        r"In 100 simulated sweeps from a known law \(1% noise, 200 resamples each\) the "
        r"nominal 95% intervals covered the truth (\d+)% \(E\), (\d+)% \(α\), (\d+)% \(β\) "
        r"of the time \(within the (\d+)–(\d+)% that 3 Monte Carlo standard errors allow",
        [hits["E"], hits["alpha"], hits["beta"]], (low, high))


def test_same_seed_same_draws_and_json_whatever_n_jobs(synthetic):
    runs, result = synthetic
    one = bootstrap(result, runs, 60, rng=3)
    reference = result.with_bootstrap(one).to_json()
    # worker processes forced (backend="loky"), other block layouts and thread workers:
    # the same bytes, since a resample's refit depends only on its own weights
    for n_jobs, chunk_size, backend in ((2, 16, "loky"), (4, 7, "loky"), (2, 60, None),
                                        (2, 5, "threading"), (-1, 1, None)):
        other = bootstrap(result, runs, 60, rng=3, n_jobs=n_jobs, chunk_size=chunk_size,
                          backend=backend)
        assert np.array_equal(one.draws, other.draws), (n_jobs, chunk_size, backend)
        assert result.with_bootstrap(other).to_json() == reference, (n_jobs, chunk_size, backend)
    different = bootstrap(result, runs, 60, rng=4)
    assert not np.array_equal(one.draws, different.draws)


def test_threads_chosen_by_the_package_give_the_same_draws(synthetic, monkeypatch):
    """n_jobs=2 without a backend runs the blocks on threads when each gets enough work
    (here any work: the crossover is patched to 0); balanced blocks, the same bytes."""
    import threading

    from scalinglaws import _parallel
    from scalinglaws.uncertainty import bootstrap as module

    runs, result = synthetic
    one = bootstrap(result, runs, 60, rng=3)
    monkeypatch.setattr(_parallel, "THREAD_CROSSOVER_SECONDS", 0.0)
    monkeypatch.setattr(_parallel, "usable_cores", lambda: 2)
    seen = set()
    refit = module._refit_chunk

    def spy(*args):
        seen.add(threading.get_ident())
        return refit(*args)

    monkeypatch.setattr(module, "_refit_chunk", spy)
    import concurrent.futures

    pools = []

    class Pool(concurrent.futures.ThreadPoolExecutor):
        def __init__(self, max_workers=None, **kwargs):
            pools.append(max_workers)
            super().__init__(max_workers=max_workers, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", Pool)
    other = bootstrap(result, runs, 60, rng=3, n_jobs=2)
    assert np.array_equal(one.draws, other.draws)
    # every block off the main thread, in a pool of two (whether the pool starts a second
    # thread depends on timing: a busy machine may finish the first block before the second
    # is submitted, and the pool then reuses its idle thread)
    assert threading.get_ident() not in seen and 1 <= len(seen) <= 2 and pools == [2]
    # 10,000 resamples of one start on 2 threads: 4 blocks of 2,500, not 4,096 + 4,096 + 1,808
    assert module._chunk_size(10_000, 1, 2, None, seconds=10.0) == 2500
    assert module._chunk_size(10_000, 1, 1, None, seconds=10.0) == 3334
    assert module._chunk_size(10_000, 1, 2, "loky", seconds=10.0) == 3334


_BLAS_CHILD = """
import sys, scalinglaws as sl
from scalinglaws.uncertainty.bootstrap import bootstrap
runs = sl.generate_sweep(noise=0.01, rng=5)
result = sl.fit(runs)
sys.stdout.write(result.with_bootstrap(bootstrap(result, runs, 40, rng=11)).to_json())
"""


def test_same_json_with_one_or_two_blas_threads():
    import os
    import subprocess
    import sys

    outputs = []
    for threads in ("1", "2"):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads,
                   MKL_NUM_THREADS=threads)
        done = subprocess.run([sys.executable, "-c", _BLAS_CHILD], env=env, capture_output=True,
                              text=True, timeout=300, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and '"bootstrap"' in outputs[0]


_INTERRUPTED_CHILD = """
import signal, sys, time, scalinglaws as sl
signal.signal(signal.SIGINT, signal.default_int_handler)  # even if launched with it ignored
from scalinglaws.uncertainty.bootstrap import bootstrap
runs = sl.generate_sweep(noise=0.01, rng=5)
result = sl.fit(runs)
print("ready", flush=True)
try:
    bootstrap(result, runs, 200000, rng=0, n_jobs=2, backend="loky", chunk_size=2000)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    time.sleep(1.0)
    sys.exit(130)
"""


def _children(pid):
    import os

    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not __import__("os").path.isdir("/proc"), reason="reads /proc")
def test_no_worker_process_outlives_a_keyboard_interrupt():
    import signal
    import subprocess
    import sys
    import time

    child = subprocess.Popen([sys.executable, "-c", _INTERRUPTED_CHILD], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        workers = []
        for _ in range(120):  # wait until the worker processes exist
            time.sleep(0.25)
            workers = _children(child.pid)
            if len(workers) >= 2:
                break
        assert len(workers) >= 2, workers
        time.sleep(1.0)
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert "interrupted" in out and child.returncode == 130
    deadline = time.time() + 10
    while any(_alive(w) for w in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not [w for w in workers if _alive(w)]


def test_every_draw_reaches_its_resamples_optimum(epoch, synthetic):
    """Each draw's objective is no higher than an independent optimum of its resample:
    scipy's least_squares (Huber, f_scale = delta) on the runs repeated as drawn, from the
    draw and from the full-data optimum (issue: 1 of 40 draws stopped 2.5e-7 above)."""
    from scipy import optimize

    for runs, result in (epoch[:2], synthetic):
        boot = bootstrap(result, runs, 40, rng=17)
        counts = resample_counts(len(runs), 40, np.random.default_rng(17))
        ln_n, ln_d, ln_l = np.log(runs.N), np.log(runs.D), np.log(runs.loss)
        point = np.log([result.params[k] for k in ("E", "A", "B")] +
                       [np.exp(result.params["alpha"]), np.exp(result.params["beta"])])
        assert boot.n_failed == 0
        for i in range(40):
            rows = np.repeat(np.arange(len(runs)), counts[i].astype(int))

            def residuals(t, rows=rows):
                e, a, b, alpha, beta = t
                pred = np.logaddexp(np.logaddexp(a - alpha * ln_n[rows], b - beta * ln_d[rows]), e)
                return pred - ln_l[rows]

            draw = boot.draws[i]
            mine = np.concatenate([np.log(draw[:3]), draw[3:]])
            best = np.inf
            for x0 in (mine, point):
                fit = optimize.least_squares(residuals, x0, loss="huber", f_scale=1e-3,
                                             xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=5000)
                r = residuals(fit.x)
                best = min(best, np.sum(np.where(np.abs(r) <= 1e-3, 0.5 * r**2,
                                                 1e-3 * (np.abs(r) - 0.5e-3))))
            assert boot.objectives[i] <= best * (1 + 1e-10), (i, boot.objectives[i], best)


def _default_search(result, runs, counts, extra_starts=0):
    """Each resample refitted by the engine's default search (Gauss-Newton LM, every pass
    in full), from the same starts: the path the bootstrap took before refine mode."""
    from scalinglaws.fitting.engine import multistart_minimize
    from scalinglaws.fitting.estimator import LawFitter
    from scalinglaws.laws.forms import get_form
    from scalinglaws.uncertainty.bootstrap import _starts

    options = {k: v for k, v in result.options.items() if k in LawFitter.OBJECTIVE_OPTIONS}
    fitter = LawFitter(get_form(result.form), **options)
    starts = _starts(result, fitter, runs, extra_starts)
    residuals = fitter.array_residual_function(runs.inputs(fitter.form.inputs), runs.loss)
    n = len(counts)
    out = multistart_minimize(residuals, np.tile(starts, (n, 1)), fitter.loss, fitter.lower,
                              fitter.upper, max_iter=200, prune_after=0, stall=0,
                              weights=np.repeat(counts, len(starts), axis=0),
                              groups=np.repeat(np.arange(n), len(starts)))
    return out.fun.reshape(n, len(starts)).min(axis=1)


def test_draws_no_higher_than_the_default_search(epoch, synthetic):
    """Refine mode (bootstrap's refits) against the engine's default search on the same
    resamples: no objective higher by more than 1e-12 relative (Epoch: the full-data
    optimum alone; synthetic: plus 4 grid starts, which keep the default search)."""
    runs, _, boot = epoch
    counts = resample_counts(len(runs), 1000, np.random.default_rng(42))[:300]
    default = _default_search(epoch[1], runs, counts)
    assert np.all(boot.objectives[:300] <= default * (1 + 1e-12))
    runs, result = synthetic
    with_grid = bootstrap(result, runs, 30, rng=2, extra_starts=4)
    counts = resample_counts(len(runs), 30, np.random.default_rng(2))
    assert with_grid.n_failed == 0
    assert np.all(with_grid.objectives <= _default_search(result, runs, counts, 4) * (1 + 1e-12))


def test_an_exact_fit_needs_no_polish(monkeypatch):
    """On noiseless runs every resample's optimum is an exact fit (objective ~0), where
    the relative model test can never hold: it must be recognised as converged, not
    stalled and sent to scipy one resample at a time."""
    import scalinglaws.uncertainty.bootstrap as module

    runs = sl.generate_sweep(noise=0.0, rng=1)
    result = sl.fit(runs)

    def no_polish(*args, **kwargs):
        raise AssertionError("a resample was polished")

    monkeypatch.setattr(module, "polish", no_polish)
    boot = bootstrap(result, runs, 50, rng=0)
    assert boot.n_failed == 0
    np.testing.assert_allclose(boot.draws[:, 3], result.params["alpha"], rtol=1e-8)


def test_dask_cluster_gives_the_same_draws(synthetic):
    distributed = pytest.importorskip("dask.distributed")
    runs, result = synthetic
    local = bootstrap(result, runs, 40, rng=8, chunk_size=10)
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        remote = bootstrap(result, runs, 40, rng=8, chunk_size=10, backend="dask", n_jobs=2)
    assert np.array_equal(local.draws, remote.draws)


def test_json_round_trip_keeps_the_bootstrap(synthetic, tmp_path):
    runs, result = synthetic
    boot = bootstrap(result, runs, 50, rng=1, method="bca")
    path = tmp_path / "fit.json"
    result.with_bootstrap(boot).save(path)
    doc = json.loads(path.read_text())
    assert doc["bootstrap"]["n_resamples"] == 50 and doc["bootstrap"]["seed"] == 1
    assert doc["bootstrap"]["method"] == "bca" and doc["bootstrap"]["confidence_level"] == 0.95
    loaded = sl.load(path)
    assert loaded.bootstrap.intervals == boot.intervals
    assert "[" in loaded.summary()


def test_methods_and_derived_intervals(synthetic):
    runs, result = synthetic
    boot = bootstrap(result, runs, 200, rng=2, method="bca")
    assert boot.jackknife.shape == (len(runs), 5)
    for method in ("percentile", "basic", "bca"):
        estimate, low, high = boot.interval(lambda p: p["alpha"], method=method)
        assert low < estimate < high
    narrow = boot.interval(lambda p: p["alpha"], confidence_level=0.5)
    wide = boot.interval(lambda p: p["alpha"], confidence_level=0.99)
    assert wide[1] < narrow[1] < narrow[2] < wide[2]
    se = boot.standard_errors
    assert se["alpha"] == pytest.approx(np.std(boot.draws[:, 3], ddof=1))
    assert boot.covariance.shape == (5, 5)


def test_failed_resamples_are_counted_and_reported(synthetic, monkeypatch):
    runs, result = synthetic
    import scalinglaws.uncertainty.bootstrap as module

    def no_polish(residuals, x, loss, lower, upper, **kwargs):
        return x, 1.0, False, 1.0  # as if the refit could not finish

    monkeypatch.setattr(module, "polish", no_polish)
    with pytest.warns(ConvergenceWarning, match="10 of 10 resamples failed"):
        boot = bootstrap(result, runs, 10, rng=0, max_iter=1)
    assert boot.n_failed == 10 and boot.draws.shape[0] == 0
    assert "10 failed" in boot.summary().splitlines()[0]


@pytest.mark.parametrize("n_runs, n_resamples", [(240, 1500), (7, 20_001), (1, 3)])
def test_counts_are_the_multiplicities_of_one_draw_of_every_pick(n_runs, n_resamples):
    """Drawn in blocks, the counts are still those of one (n_resamples, n_runs) draw of run
    indices (so a seed gives the draws it always gave), and every resample has n_runs runs."""
    picks = np.random.default_rng(5).integers(0, n_runs, size=(n_resamples, n_runs))
    expected = np.stack([np.bincount(row, minlength=n_runs) for row in picks])
    counts = resample_counts(n_runs, n_resamples, np.random.default_rng(5))
    assert counts.dtype == float and np.array_equal(counts, expected)
    assert np.all(counts.sum(axis=1) == n_runs)


def test_grouped_resampling_keeps_group_sizes():
    labels = np.repeat([0, 1, 2], [5, 7, 9])
    counts = resample_counts(21, 30, np.random.default_rng(0), labels)
    for label, size in ((0, 5), (1, 7), (2, 9)):
        assert np.all(counts[:, labels == label].sum(axis=1) == size)
    runs = sl.generate_sweep(rng=0)
    result = sl.fit(runs)
    boot = bootstrap(result, runs, 20, rng=0, groups="budget")
    assert boot.groups == "budget" and boot.n_failed == 0


def test_groups_may_name_the_header_a_column_was_read_from():
    # the audit's case: a table whose compute column is headed 'flops' (read as C); strata
    # by it were refused as "not in the runs", while clusters= took the header
    frame = sl.generate_sweep(rng=0).to_frame()[["N", "D", "C", "loss"]]
    runs = sl.load_runs(frame.rename(columns={"C": "flops"}))
    assert runs.source_columns["C"] == "flops"
    result = sl.fit(runs)
    by_header = bootstrap(result, runs, 20, rng=0, groups="flops")
    by_name = bootstrap(result, runs, 20, rng=0, groups="C")
    np.testing.assert_array_equal(by_header.draws, by_name.draws)
    assert by_header.groups == "C"
    with pytest.raises(InputError, match="column 'flop' is not in the runs"):
        bootstrap(result, runs, 20, rng=0, groups="flop")


def test_sandwich_standard_errors_agree_with_bootstrap():
    # squared loss, where the asymptotics are sharp: within 30%
    runs = sl.generate_sweep(noise=0.01, rng=9)
    result = sl.fit(runs, loss="squared")
    boot = bootstrap(result, runs, 400, rng=0)
    sandwich = asymptotic_covariance(result, runs).standard_errors
    for name in ("E", "alpha", "beta"):
        assert sandwich[name] == pytest.approx(boot.standard_errors[name], rel=0.3), name


def test_sandwich_on_epoch_is_rough_but_right_order(epoch):
    # README (Bootstrap): "only about 16% of the Epoch runs sit in Huber's quadratic zone,
    # and its standard errors differ from the bootstrap's by up to a factor of 2 (alpha:
    # 0.025 vs 0.015)". Measured: 39 of 240 runs (16.25%); sandwich/bootstrap ratios E 1.17,
    # A 1.70, B 0.51, alpha 1.74, beta 0.75 (1000 resamples, seed 42)
    runs, result, boot = epoch
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert ("only about 16% of the Epoch runs sit in Huber's\nquadratic zone, and its standard "
            "errors differ from the bootstrap's by up to a\nfactor of 2 (α: 0.025 vs 0.015)"
            ) in readme
    covariance = asymptotic_covariance(result, runs)
    assert covariance.n_runs == 240
    assert f"{100 * covariance.n_quadratic / covariance.n_runs:.0f}%" == "16%"
    # the runs in the quadratic zone counted independently: |log residual| <= delta
    residuals = np.log(result.predict(N=runs.N, D=runs.D)) - np.log(runs.loss)
    assert covariance.n_quadratic == int(np.sum(np.abs(residuals) <= 1e-3))
    sandwich = covariance.standard_errors
    assert (f"{sandwich['alpha']:.3f}", f"{boot.standard_errors['alpha']:.3f}") == \
        ("0.025", "0.015")
    # "up to a factor of 2": the largest factor either way, over all five parameters,
    # is at most 2 and rounds to 2 (B: 0.51, the factor 1.95)
    factors = [max(r, 1 / r) for r in (sandwich[name] / boot.standard_errors[name]
                                       for name in ("E", "A", "B", "alpha", "beta"))]
    assert 1.5 <= max(factors) <= 2.0, factors


def test_progress_bar_can_be_forced(synthetic, capsys):
    runs, result = synthetic
    bootstrap(result, runs, 10, rng=0, progress=True)
    assert "bootstrap" in capsys.readouterr().err


def test_bad_arguments(synthetic):
    runs, result = synthetic
    with pytest.raises(InputError, match="`n_resamples`"):
        bootstrap(result, runs, 1)
    with pytest.raises(InputError, match="`method`"):
        bootstrap(result, runs, 10, method="normal")
    with pytest.raises(InputError, match="`confidence_level`"):
        bootstrap(result, runs, 10, confidence_level=95)
    with pytest.raises(InputError, match="fingerprints differ"):
        bootstrap(result, sl.generate_sweep(rng=99), 10)
    with pytest.raises(InputError, match=r"`groups` \(--group\) column 'seed' is not in the runs"):
        bootstrap(result, runs, 10, groups="seed")
    # issue 19: each of these was a raw numpy error or silently accepted
    for kwargs, name in (({"rng": -1}, "rng"), ({"rng": "seed"}, "rng"), ({"rng": 1.5}, "rng"),
                         ({"chunk_size": -1}, "chunk_size"), ({"chunk_size": 2.5}, "chunk_size"),
                         ({"chunk_size": 0}, "chunk_size"), ({"extra_starts": -1}, "extra_starts"),
                         ({"extra_starts": 1.0}, "extra_starts"), ({"n_jobs": 0}, "n_jobs"),
                         ({"n_jobs": 1.5}, "n_jobs"), ({"n_jobs": "2"}, "n_jobs"),
                         ({"n_jobs": -1000}, "n_jobs"), ({"max_iter": 0}, "max_iter"),
                         ({"progress": "yes"}, "progress"), ({"jackknife": 1}, "jackknife"),
                         ({"backend": 3}, "backend")):
        with pytest.raises(InputError, match=f"`{name}`"):
            bootstrap(result, runs, 10, **kwargs)


def test_bca_matches_scipy_given_the_same_draws(synthetic):
    """Our BCa interval equals scipy.stats.bootstrap(method="BCa") fed the same resamples.

    scipy draws its resamples with ``rng.integers(0, n, (n_resamples, n))``, the call
    :func:`resample_counts` makes, so with the same seed both see the same resamples;
    scipy's statistic is then answered from our draws (and our jackknife)."""
    from scipy import stats

    runs, result = synthetic
    n, n_resamples = len(runs), 300
    boot = bootstrap(result, runs, n_resamples, rng=2, method="bca")
    assert boot.n_failed == 0
    counts = resample_counts(n, n_resamples, np.random.default_rng(2))
    by_counts = {row.astype(int).tobytes(): i for i, row in enumerate(counts)}
    column = list(result.form.param_names).index("alpha")

    def one(indices):
        if len(indices) == n - 1:  # a leave-one-out sample of scipy's jackknife
            left_out = np.setdiff1d(np.arange(n), indices)[0]
            return boot.jackknife[left_out, column]
        row = np.bincount(indices, minlength=n)
        if np.all(row == 1):
            return result.params["alpha"]
        return boot.draws[by_counts[row.tobytes()], column]

    def statistic(indices, axis=-1):
        flat = indices.reshape(-1, indices.shape[-1])
        return np.array([one(r) for r in flat]).reshape(indices.shape[:-1])

    theirs = stats.bootstrap((np.arange(n),), statistic, n_resamples=n_resamples,
                             method="BCa", vectorized=True, rng=np.random.default_rng(2))
    estimate, low, high = boot.interval(lambda p: p["alpha"], method="bca")
    assert low == pytest.approx(theirs.confidence_interval.low, rel=1e-12)
    assert high == pytest.approx(theirs.confidence_interval.high, rel=1e-12)
    assert low < estimate < high


_X = np.linspace(0.0, 4.0, 30)


def _exp_residuals(theta):
    """``a exp(-b x) + c - y`` and its Jacobian, whose second derivatives are known."""
    a, b, c = theta[:, :1], theta[:, 1:2], theta[:, 2:3]
    e = np.exp(-b * _X)
    r = a * e + c - (2.5 * np.exp(-1.3 * _X) + 0.4)
    return r, np.stack([e, -a * _X * e, np.ones_like(e)], axis=1)


def test_second_derivatives_of_the_residuals_match_the_analytic_ones():
    from scalinglaws.uncertainty.bootstrap import _second_derivatives

    points = np.array([[2.5, 1.3, 0.4], [1.0, 0.5, -0.2]])
    numeric = _second_derivatives(_exp_residuals, points, _exp_residuals(points)[1])
    for (a, b, _), d2 in zip(points, numeric):
        e = np.exp(-b * _X)
        # r = a e^{-bx} + c - y: d2r/da db = -x e^{-bx}, d2r/db2 = a x^2 e^{-bx}, else 0
        exact = np.zeros((3, 3, _X.size))
        exact[0, 1] = exact[1, 0] = -_X * e
        exact[1, 1] = a * _X**2 * e
        np.testing.assert_allclose(d2, exact, rtol=1e-7, atol=1e-9)


def test_sparse_outer_products_equal_the_dense_sum():
    from scalinglaws.uncertainty.bootstrap import _sparse_outer

    rng = np.random.default_rng(4)
    jac = rng.normal(size=(6, 4, 50))
    curvature = rng.integers(0, 3, (6, 50)) * (rng.random((6, 50)) < 0.2)
    curvature[2] = 0  # a row with no residual inside the loss's quadratic part
    upper = np.triu_indices(4)
    dense = np.einsum("kin,kjn,kn->kij", jac, jac, curvature)[:, upper[0], upper[1]]
    sparse = _sparse_outer(jac, curvature.astype(float), upper)
    np.testing.assert_allclose(sparse, dense, rtol=1e-13, atol=1e-13)
    assert np.all(sparse[2] == 0)


def test_a_resample_refine_mode_leaves_unconverged_gets_the_default_search(monkeypatch):
    # refine mode is a fast path: what it cannot finish (1 of 100 datablations resamples,
    # tests/laws/test_datablations.py) is refitted by the default search, not dropped
    from scalinglaws.uncertainty import bootstrap as module

    runs = sl.generate_sweep(noise=0.01, rng=5)
    result = sl.fit(runs)
    honest = bootstrap(result, runs, 8, rng=0)
    refit_once = module._refit_once
    calls = []

    def refine_fails_on_the_first_resample(fitter, residuals, starts, counts, max_iter, n_optima):
        x, fun, ok, best = refit_once(fitter, residuals, starts, counts, max_iter, n_optima)
        calls.append((len(counts), n_optima))
        if n_optima:
            ok = ok.copy()
            ok[0] = False
        return x, fun, ok, best

    monkeypatch.setattr(module, "_refit_once", refine_fails_on_the_first_resample)
    boot = bootstrap(result, runs, 8, rng=0)
    assert calls == [(8, 1), (1, 0)]  # the whole block in refine mode, then one retry
    assert boot.n_failed == 0
    np.testing.assert_allclose(boot.draws, honest.draws, rtol=1e-6)


# --- few runs: no residual degrees of freedom, degenerate resamples ---

def _rows(runs, rows):
    return sl.load_runs(runs.frame.iloc[list(rows)].reset_index(drop=True))


@pytest.fixture(scope="module")
def five_runs():
    """The reviewer's case: five runs of a sweep, which the five-parameter law passes
    through exactly (every residual zero)."""
    runs = _rows(sl.generate_sweep(noise=0.01, rng=5), (0, 20, 40, 60, 80))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        return runs, sl.fit(runs)


def test_no_more_runs_than_free_parameters_is_refused_naming_both(five_runs):
    runs, result = five_runs
    assert result.objective < 1e-20  # an exact fit: nothing left to resample
    assert result.residual_df == 0
    with pytest.raises(InputError, match=r"5 runs for 5 free parameters \(E, A, B, alpha, "
                                         r"beta\): no residual degrees of freedom"):
        bootstrap(result, runs, 100, rng=0)


def test_the_count_is_of_free_parameters(five_runs):
    """Tying beta to alpha leaves 4 free parameters: 5 runs have one residual degree of
    freedom and are bootstrapped; only resamples of at least 4 distinct runs are draws."""
    runs, _ = five_runs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        tied = sl.fit(runs, tied={"beta": "alpha"})
        boot = bootstrap(tied, runs, 40, rng=0)
    assert tied.residual_df == 1
    counts = resample_counts(5, 40, np.random.default_rng(0))
    assert boot.n_degenerate == int(np.sum(np.count_nonzero(counts, axis=1) < 4))
    assert boot.n_degenerate + boot.n_failed + len(boot.draws) == 40


def test_replicated_runs_at_too_few_points_are_refused():
    """Eight runs at four distinct (N, D) points (two seeds each) cannot identify five
    parameters, whatever the resample."""
    full = sl.generate_sweep(noise=0.01, rng=5)
    frame = full.frame.iloc[[0, 30, 60, 90] * 2].reset_index(drop=True)
    frame["loss"] = frame["loss"] * np.exp(np.random.default_rng(0).normal(0, 0.01, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        runs = sl.load_runs(frame)
        result = sl.fit(runs)
    with pytest.raises(InputError, match="8 runs at only 4 distinct N/D points for 5 free"):
        bootstrap(result, runs, 10, rng=0)


def test_distinct_points_counts_design_points_not_runs():
    from scalinglaws.uncertainty.bootstrap import design_points, distinct_points

    inputs = {"N": np.array([1e8, 1e8, 2e8, 3e8]), "D": np.array([1e9, 1e9, 1e9, 2e9])}
    points = design_points(inputs)
    assert points[0] == points[1] and len(set(points.tolist())) == 3
    counts = np.array([[1, 1, 0, 2], [0, 2, 1, 1], [4, 0, 0, 0], [0, 0, 1, 3]], float)
    np.testing.assert_array_equal(distinct_points(counts, points), [2, 3, 1, 2])
    # every run at its own point: the runs drawn
    np.testing.assert_array_equal(distinct_points(counts, np.arange(4)), [3, 3, 1, 2])


@pytest.fixture(scope="module")
def eight_runs():
    runs = _rows(sl.generate_sweep(noise=0.01, rng=5), np.linspace(0, 107, 8).round().astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        return runs, sl.fit(runs)


def test_degenerate_resamples_are_counted_left_out_and_said(eight_runs):
    """A resample of 8 runs drawing fewer than 5 distinct ones cannot identify the 5
    parameters: it is counted (the count computed here from the same stream), left out,
    and a BootstrapResamplingWarning says how many."""
    from scalinglaws.uncertainty.bootstrap import BootstrapResamplingWarning

    runs, result = eight_runs
    counts = resample_counts(8, 60, np.random.default_rng(3))
    expected = int(np.sum(np.count_nonzero(counts, axis=1) < 5))
    assert 0 < expected < 60
    with pytest.warns(BootstrapResamplingWarning,
                      match=f"{expected} of 60 resamples drew fewer than 5 distinct runs"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a resample that fails is not this
        boot = bootstrap(result, runs, 60, rng=3)
    assert issubclass(BootstrapResamplingWarning, sl.ScalingLawsWarning)
    assert boot.n_degenerate == expected
    assert len(boot.draws) == 60 - expected - boot.n_failed
    assert f"{expected} degenerate" in boot.summary().splitlines()[0]
    assert boot.to_dict()["n_degenerate"] == expected
    # the fit's table (what `scalinglaws fit --bootstrap` prints) says it too
    header = [line for line in result.with_bootstrap(boot).summary().splitlines()
              if line.startswith("parameter")][0]
    assert header.endswith(f"60 resamples, {boot.n_failed} failed, {expected} degenerate]")


def test_valid_resamples_keep_their_draws_bit_for_bit(eight_runs):
    """Setting degenerate resamples aside changes no other draw: the draws are those of
    refitting every resample from the same stream (the former behaviour) with the
    degenerate rows then removed, bit for bit, whatever the blocks."""
    from scalinglaws.uncertainty import bootstrap as module

    runs, result = eight_runs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        boot = bootstrap(result, runs, 60, rng=3, chunk_size=7)
    fitter = sl.LawFitter(result.form, **{k: v for k, v in result.options.items()
                                         if k in sl.LawFitter.OBJECTIVE_OPTIONS})
    counts = resample_counts(8, 60, np.random.default_rng(3))
    starts = module._starts(result, fitter, runs, 0)
    x, _, ok, _ = module._refit_chunk(fitter, runs.inputs(("N", "D")), runs.loss, starts,
                                      counts, 200, 1)
    valid = np.count_nonzero(counts, axis=1) >= 5
    former = fitter.form.to_public(fitter._expand(x[valid & ok]))
    assert boot.n_failed == int(np.sum(valid & ~ok))
    assert np.array_equal(boot.draws, former)


def test_an_exact_fit_with_residual_degrees_of_freedom_is_still_bootstrapped():
    """Noise-free runs (more than the parameters) determine the law exactly: zero-width
    intervals at the truth are then right, and are not refused."""
    runs = _rows(sl.generate_sweep(noise=0.0, rng=1), range(0, 108, 9))
    result = sl.fit(runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        boot = bootstrap(result, runs, 30, rng=0)
    low, high = boot.intervals["alpha"]
    assert high - low < 1e-6 and low == pytest.approx(DEFAULT_TRUTH["chinchilla"]["alpha"])


def test_a_leave_one_out_set_that_cannot_identify_the_parameters_is_no_jackknife_value():
    """Seven runs at five distinct points (two replicated): leaving out one of the three
    unreplicated runs leaves four points for five parameters, so its jackknife row is NaN;
    leaving out a replica keeps all five points and gives a value."""
    full = sl.generate_sweep(noise=0.01, rng=5)
    frame = full.frame.iloc[[0, 20, 40, 60, 80, 0, 20]].reset_index(drop=True)
    frame["loss"] = frame["loss"] * np.exp(np.random.default_rng(1).normal(0, 0.01, 7))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        runs = sl.load_runs(frame, duplicates="keep")
        result = sl.fit(runs)
        boot = bootstrap(result, runs, 20, rng=0, jackknife=True)
    unidentified = np.all(np.isnan(boot.jackknife), axis=1)
    assert unidentified.tolist() == [False, False, True, True, True, False, False]
