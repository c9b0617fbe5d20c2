"""Bootstrap: coverage on known truth, published Epoch intervals, reproducibility, parallelism."""

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import ConvergenceWarning, InputError
from scalinglaws.uncertainty.asymptotic import asymptotic_covariance
from scalinglaws.uncertainty.bootstrap import bootstrap, resample_counts
from scalinglaws.laws.synthetic import DEFAULT_TRUTH

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
    # notebook: bootstrap SD of a = 0.020
    a_draws = boot.draws[:, 4] / (boot.draws[:, 3] + boot.draws[:, 4])
    assert np.std(a_draws) == pytest.approx(0.020, rel=0.25)


def test_tokens_per_parameter_and_prediction_intervals(epoch):
    _, result, boot = epoch
    estimate, low, high = boot.tokens_per_parameter(5.88e23)
    assert estimate == pytest.approx(18.4, rel=0.05) and low < estimate < high
    estimate, low, high = boot.predict(N=7e10, D=1.4e12)
    assert estimate == pytest.approx(result.predict(N=7e10, D=1.4e12))
    assert low < estimate < high and high - low < 0.2


@pytest.mark.slow
def test_coverage_on_simulated_sweeps():
    """Nominal 95% intervals cover the truth in 88-99% of 100 simulated sweeps."""
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
    for name, count in hits.items():
        assert 88 <= 100 * count / n_sweeps <= 99, (name, count)


def test_same_seed_same_draws_and_json_whatever_n_jobs(synthetic):
    runs, result = synthetic
    one = bootstrap(result, runs, 60, rng=3)
    two = bootstrap(result, runs, 60, rng=3, n_jobs=2, chunk_size=16)
    assert np.array_equal(one.draws, two.draws)
    assert result.with_bootstrap(one).to_json() == result.with_bootstrap(two).to_json()
    other = bootstrap(result, runs, 60, rng=4)
    assert not np.array_equal(one.draws, other.draws)


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


def test_grouped_resampling_keeps_group_sizes():
    labels = np.repeat([0, 1, 2], [5, 7, 9])
    counts = resample_counts(21, 30, np.random.default_rng(0), labels)
    for label, size in ((0, 5), (1, 7), (2, 9)):
        assert np.all(counts[:, labels == label].sum(axis=1) == size)
    runs = sl.generate_sweep(rng=0)
    result = sl.fit(runs)
    boot = bootstrap(result, runs, 20, rng=0, groups="budget")
    assert boot.groups == "budget" and boot.n_failed == 0


def test_sandwich_standard_errors_agree_with_bootstrap():
    # squared loss, where the asymptotics are sharp: within 30%
    runs = sl.generate_sweep(noise=0.01, rng=9)
    result = sl.fit(runs, loss="squared")
    boot = bootstrap(result, runs, 400, rng=0)
    sandwich = asymptotic_covariance(result, runs).standard_errors
    for name in ("E", "alpha", "beta"):
        assert sandwich[name] == pytest.approx(boot.standard_errors[name], rel=0.3), name


def test_sandwich_on_epoch_is_rough_but_right_order(epoch):
    # Huber with delta=1e-3: only ~16% of runs are in the quadratic zone, so the
    # sandwich is rough; the README says so. Same order as the bootstrap:
    runs, result, boot = epoch
    sandwich = asymptotic_covariance(result, runs).standard_errors
    for name in ("E", "alpha", "beta"):
        ratio = sandwich[name] / boot.standard_errors[name]
        assert 0.4 < ratio < 2.5, (name, ratio)


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
    with pytest.raises(InputError, match="`groups` column"):
        bootstrap(result, runs, 10, groups="seed")
