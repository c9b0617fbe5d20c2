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
    assert [label.split(":")[0] for label in labels[:2]] == ["huber", "squared"]
    # the line, the band (named with its kind and level) and the rings say what they are
    # (with several estimators the keys are grey, each mark in its estimator's colour)
    assert labels[2:] == ["median error per bin of the factor (each estimator's colour)",
                          "central 80% of errors per bin (10th–90th percentile) (each "
                          "estimator's colour)",
                          "outside its 'band' interval (the rollout's hook)"]
    # per estimator: the points, the ringed misses
    offsets = [c.get_offsets() for c in ax.collections if len(c.get_offsets())]
    n_records = rollouts[0].n_records
    assert len(offsets[0]) == n_records
    misses = int((~rollouts[0].covered("band")).sum())
    assert len(offsets[1]) == misses
    np.testing.assert_allclose(offsets[0][:, 0], rollouts[0].factor)
    np.testing.assert_allclose(offsets[0][:, 1], 100 * rollouts[0].signed_relative_error)
    assert ax.get_xscale() == "log"


def _described_band(level, kind="prediction", method="delta method"):
    """A +-1% hook returning what CalibratedFit.interval returns: bounds with their kind,
    level and method."""
    from scalinglaws.uncertainty.calibrated import IntervalBounds

    def hook(fit, train, X):
        centre = fit.predict(**X)
        return IntervalBounds(kind=kind, low=0.99 * centre, high=1.01 * centre,
                              confidence_level=level, method=method,
                              log_factor=np.zeros_like(centre),
                              beyond_calibration=np.zeros(centre.shape, bool))

    return hook


def test_the_rings_name_the_interval_s_level_and_kind_when_the_rollout_has_them(rollouts,
                                                                              tmp_path):
    """The legend could only name the hook's key ('band'); a rollout whose hook said what
    its interval is names its level and kind."""
    runs = sl.generate_sweep(rng=0)
    named = [rollout(runs, label=label, intervals={"band": _described_band(level)}, n_cuts=3,
                     progress=False, **options)
             for label, level, options in (("huber", 0.9, {}),
                                           ("squared", 0.9, {"loss": "squared"}))]
    ax = plot.rollout_errors(named, interval="band")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[-1] == "outside its 90% delta method prediction interval ('band')"
    # the rings are the same records as with bare bounds (the same +-1% band)
    assert (named[0].covered("band") == rollouts[0].covered("band")).all()
    ax.figure.savefig(tmp_path / "rollout_named.png", dpi=90)
    # estimators whose hooks differ: each named
    other = rollout(runs, label="other", intervals={"band": _described_band(0.8)}, n_cuts=3,
                    progress=False, loss="squared")
    ax = plot.rollout_errors([named[0], other, rollouts[1]], interval="band")
    assert ax.get_legend().get_texts()[-1].get_text() == (
        "outside its 'band' interval:\n  huber: 90% delta method prediction interval\n"
        "  other: 80% delta method prediction interval\n  squared: kind not recorded")


def test_arguments_are_checked(rollouts):
    with pytest.raises(sl.InputError, match="`rollout`"):
        plot.rollout_errors("rollout.json")
    with pytest.raises(sl.InputError, match="distinct labels"):
        plot.rollout_errors([rollouts[0], rollouts[0]])
    with pytest.raises(sl.InputError, match="`interval`"):
        plot.rollout_errors(rollouts[0], interval="prediction")
    with pytest.raises(sl.InputError, match="`n_bins`"):
        plot.rollout_errors(rollouts[0], n_bins=0)


def test_the_band_is_the_central_80_percent_of_the_errors_in_each_bin(rollouts):
    from matplotlib.collections import PolyCollection

    ax = plot.rollout_errors(rollouts[0], n_bins=2)
    band = next(c for c in ax.collections if isinstance(c, PolyCollection))
    # the band's top edge over the bins with >= 3 records: their 90th percentile of the
    # signed error in percent, computed here from the records
    factor = np.asarray(rollouts[0].factor)
    error = 100 * np.asarray(rollouts[0].signed_relative_error)
    edges = np.geomspace(factor.min(), factor.max() * (1 + 1e-9), 3)
    bins = [(factor >= a) & (factor < b) for a, b in zip(edges[:-1], edges[1:])]
    expected = [np.percentile(error[inside], 90) for inside in bins if inside.sum() >= 3]
    top = band.get_paths()[0].vertices[:, 1]
    assert len(expected) == 2
    for value in expected:
        assert np.isclose(top, value).any()
    assert "central 80% of errors per bin (10th–90th percentile)" in [
        t.get_text() for t in ax.get_legend().get_texts()]


def test_one_estimator_s_keys_are_its_colour_and_the_error_is_defined(rollouts, tmp_path):
    """The legend showed a grey patch and a grey line for the blue band and blue line; the
    axis said "signed error" without saying which sign."""
    from matplotlib.colors import to_rgba

    ax = plot.rollout_errors(rollouts[0], interval="band")
    ax.figure.savefig(tmp_path / "rollout_one.png", dpi=60)
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[1:3] == ["median error per bin of the factor",
                           "central 80% of errors per bin (10th–90th percentile)"]
    (median,) = [line for line in ax.get_lines() if line.get_linewidth() == 2.0]
    (band,) = [c for c in ax.collections if c.get_label().startswith("_") and
               type(c).__name__ in ("PolyCollection", "FillBetweenPolyCollection")]
    line_key, band_key, ring_key = legend.legend_handles[1:4]
    assert to_rgba(line_key.get_color()) == to_rgba(median.get_color())
    assert to_rgba(band_key.get_facecolor())[:3] == tuple(band.get_facecolor()[0][:3])
    assert to_rgba(ring_key.get_markeredgecolor()) == to_rgba(median.get_color())
    # the sign: (predicted - observed) / observed, as RolloutResult.signed_relative_error
    assert "(predicted − observed) / observed" in ax.get_ylabel()
    i = int(np.argmax(np.abs(rollouts[0].signed_relative_error)))
    predicted, observed = rollouts[0].predicted[i], rollouts[0].loss[i]
    points = ax.collections[0].get_offsets()
    assert points[i, 1] == pytest.approx(100 * (predicted - observed) / observed, rel=1e-12)
