"""The rollout figure: one colour per estimator, misses ringed, arguments checked."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import scalinglaws as sl  # noqa: E402
from scalinglaws import plot  # noqa: E402
from scalinglaws.uncertainty.rollout import rollout  # noqa: E402


@pytest.fixture(scope="module")
def rollouts():
    runs = sl.generate_sweep(rng=0)
    band = {"band": lambda fit, train, X: (0.99 * fit.predict(**X), 1.01 * fit.predict(**X))}
    return (rollout(runs, label="huber", intervals=band, n_cuts=3, progress=False),
            rollout(runs, loss="squared", label="squared", intervals=band, n_cuts=3,
                    progress=False))


def test_one_scatter_per_estimator_and_misses_ringed(rollouts):
    ax = plot.rollout_errors(list(rollouts), interval="band")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [label.split(":")[0] for label in labels] == ["huber", "squared"]
    # per estimator: the points, the ringed misses
    offsets = [c.get_offsets() for c in ax.collections if len(c.get_offsets())]
    n_records = rollouts[0].n_records
    assert len(offsets[0]) == n_records
    misses = int((~rollouts[0].covered("band")).sum())
    assert len(offsets[1]) == misses
    np.testing.assert_allclose(offsets[0][:, 0], rollouts[0].factor)
    np.testing.assert_allclose(offsets[0][:, 1], 100 * rollouts[0].signed_relative_error)
    assert ax.get_xscale() == "log"


def test_arguments_are_checked(rollouts):
    with pytest.raises(sl.InputError, match="`rollout`"):
        plot.rollout_errors("rollout.json")
    with pytest.raises(sl.InputError, match="distinct labels"):
        plot.rollout_errors([rollouts[0], rollouts[0]])
    with pytest.raises(sl.InputError, match="`interval`"):
        plot.rollout_errors(rollouts[0], interval="prediction")
    with pytest.raises(sl.InputError, match="`n_bins`"):
        plot.rollout_errors(rollouts[0], n_bins=0)
