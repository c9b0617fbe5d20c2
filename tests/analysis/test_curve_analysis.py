"""Using a fitted curve law: scores, curves of new schedules, final losses, anytime points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws import InputError, ScalingLawsWarning, load_curves
from scalinglaws.analysis.curves import anytime_points, curve_scores, predict_curve, predict_final
from scalinglaws.fitting.curves import CurveFitResult, fit_curves
from scalinglaws.laws.curve_laws import SizeScaled
from scalinglaws.laws.curve_synthetic import LUO_2025_MPL, default_schedules, synthetic_curves
from scalinglaws.laws.schedules import Schedule
from scalinglaws.uncertainty.curves import bootstrap_curves
from bench_modules import load_bench

# these tests take few resamples to stay fast; the warning that few draws narrow a
# percentile interval is tested in tests/uncertainty/test_curves_few_draws.py
pytestmark = pytest.mark.filterwarnings(
    "ignore:curve bootstrap.*too few:scalinglaws.CurveResamplingWarning")

TRUTH = CurveFitResult.from_params("mpl", LUO_2025_MPL["25M"])


def test_scores_are_luo_et_al_s_formulas():
    curves, _ = synthetic_curves("mpl", noise=0.0)
    exact = curve_scores(TRUTH, curves)
    assert np.allclose(exact["R2"], 1.0) and np.allclose(exact["PredE"], 0.0, atol=1e-12)
    # every loss 1% high: |L - L_hat| / L = 0.01 / 1.01 exactly, MAE = 0.01 * mean(L_hat)
    shifted, _ = synthetic_curves("mpl", noise=0.0)
    frame = shifted.to_frame()
    from scalinglaws.data.curves import load_curves

    high = load_curves(frame.assign(loss=frame["loss"] * 1.01)).with_schedules(shifted.schedules)
    scores = curve_scores(TRUTH, high).set_index("run_id")
    for run in shifted.runs:
        clean = shifted.loss(run)
        assert scores.loc[run, "PredE"] == pytest.approx(0.01 / 1.01, rel=1e-9)
        assert scores.loc[run, "WorstE"] == pytest.approx(0.01 / 1.01, rel=1e-9)
        assert scores.loc[run, "MAE"] == pytest.approx(0.01 * clean.mean(), rel=1e-9)
        assert scores.loc[run, "RMSE"] == pytest.approx(0.01 * np.sqrt(np.mean(clean ** 2)),
                                                        rel=1e-9)
        expected_r2 = 1 - np.sum((0.01 * clean) ** 2) / np.sum((1.01 * (clean - clean.mean())) ** 2)
        assert scores.loc[run, "R2"] == pytest.approx(expected_r2, rel=1e-12)


def test_predicted_curve_is_the_law_on_the_schedule():
    wsd = Schedule.wsd(24000, 3e-4, final_lr=3e-5, decay_start=20000, warmup_steps=2160,
                       decay_shape="exponential")
    prediction = predict_curve(TRUTH, wsd, steps=[5000, 23999])
    law = TRUTH.law
    expected = law.predict(TRUTH.params, law.make_sums([wsd.lr_array()], [[5000, 23999]],
                                                       quadrature={"exact": True}))
    np.testing.assert_allclose(prediction.loss, expected, atol=1e-5)
    assert prediction.lr.tolist() == [3e-4, wsd.lr_array()[23999]]
    default = predict_curve(TRUTH, wsd)
    assert default.steps[0] == 2159 and default.steps[-1] == 23999 and len(default.steps) == 101
    with pytest.raises(InputError, match="`steps` must lie in"):
        predict_curve(TRUTH, wsd, steps=[24000])
    scaled = CurveFitResult.from_params(
        SizeScaled("mpl", scaled=("L0",), reference_N=1e8), {**LUO_2025_MPL["25M"], "L0_N": 0.0})
    with pytest.raises(InputError, match="a function of the model size: pass N="):
        predict_curve(scaled, wsd)
    # N for a law of one size was ignored: the fitted size's curve, printed as 7B's
    with pytest.raises(InputError, match=r"`N` is given, but the fit is of the 'mpl' law for "
                                         r"one model size.*fit_size_scaled"):
        predict_curve(TRUTH, wsd, N=7e9)


def test_final_loss_of_runs_part_way_through():
    # noise-free curves of known parameters, cut at 40%: the law fitted elsewhere (here: the
    # truth, with L0 shifted) refits L0 on the first 40% and predicts the last step exactly
    curves, truth = synthetic_curves("mpl", noise=0.0)
    part = curves.truncate(0.4)
    prior = CurveFitResult.from_params("mpl", {**truth, "L0": truth["L0"] + 0.05})
    table = predict_final(prior, part)
    for row in table.itertuples():
        lr = curves.lr_array(row.run_id)
        final = TRUTH.predict(lr, [len(lr) - 1])[0]
        assert row.final_step == len(lr) - 1
        assert row.final_loss == pytest.approx(final, rel=1e-8)
        assert row.refit_L0 == pytest.approx(truth["L0"], rel=1e-8)
    unrefit = predict_final(prior, part, refit=())
    assert np.allclose(unrefit["final_loss"] - table["final_loss"], 0.05, atol=1e-9)
    with pytest.raises(InputError, match="`refit` names"):
        predict_final(prior, part, refit=("E",))
    # a run logged with its LR but no planned schedule: its end is unknown, not its last step
    logged = load_curves(part.frame[["run_id", "step", "loss"]].assign(lr=3e-4))
    with pytest.raises(InputError, match="has no planned schedule"):
        predict_final(prior, logged)


@pytest.fixture(scope="module")
def partway():
    """A momentum-law fit (with 30 block-bootstrap draws) to constant, cosine and two-stage
    curves, and a WSD run with its L0 0.05 nats higher, seen to half its steps."""
    schedules = default_schedules()
    held = schedules.pop("wsd")
    curves, truth = synthetic_curves("momentum", schedules=schedules, rng=1, noise=0.001,
                                     autocorrelation=0.7)
    fit = fit_curves(curves, "momentum")
    draws = bootstrap_curves(fit, curves, 30, method="blocks", rng=1, max_iter=200,
                             confidence_level=0.9)
    run, _ = synthetic_curves("momentum", {**truth, "L0": truth["L0"] + 0.05},
                              schedules={"new": held}, rng=7, noise=0.001, autocorrelation=0.7)
    return fit, draws, run.truncate(0.5), held, curves


def test_final_interval_without_refit_is_the_band_of_the_draws(partway):
    # refitting nothing, each draw predicts the final loss itself: the interval is the band
    # predict_curve draws at the last step (another code path)
    fit, draws, part, held, _ = partway
    table = predict_final(fit, part, refit=(), draws=draws)
    band = predict_curve(fit, held, steps=[held.total_steps - 1], draws=draws)
    assert table.final_low[0] == pytest.approx(band.low[0], rel=1e-12)
    assert table.final_high[0] == pytest.approx(band.high[0], rel=1e-12)
    assert table.n_draws[0] == draws.n_draws
    # both tables say what their intervals are (a file written from them says it too)
    common = {"interval": "confidence", "method": "bootstrap percentile",
              "confidence_level": 0.9, "n_draws": draws.n_draws, "resampling": "blocks"}
    assert band.to_frame().attrs == {**common, "of": "the law's curve"}
    assert table.attrs == {**common, "of": "the law's final loss", "refit": [],
                           "run_points": ""}
    assert predict_final(fit, part, draws=draws, confidence_level=0.8).attrs["refit"] == ["L0"]
    assert predict_curve(fit, held, steps=[10], draws=draws,
                         confidence_level=0.8).to_frame().attrs["confidence_level"] == 0.8
    assert predict_curve(fit, held, steps=[10]).to_frame().attrs == {}


def test_final_interval_refits_l0_for_every_draw(partway):
    # one block as long as the run: every resample is the run itself, so each draw's
    # interval member is fit_curves with the draw's other parameters held, run by hand
    fit, draws, part, held, _ = partway
    table = predict_final(fit, part, draws=draws, block_length=len(part), confidence_level=0.8)
    finals = []
    for draw in draws.draws:
        params = dict(zip(fit.law.param_names, draw))
        refit = fit_curves(part, "momentum", fixed={k: v for k, v in params.items() if k != "L0"},
                           starts={"L0": [table.refit_L0[0]]})
        finals.append(refit.predict(held, [held.total_steps - 1])[0])
    low, high = np.percentile(finals, [10, 90])
    assert table.final_low[0] == pytest.approx(low, rel=1e-9)
    assert table.final_high[0] == pytest.approx(high, rel=1e-9)
    # resampling the run's blocks widens it (the run's own noise), around the point
    wide = predict_final(fit, part, draws=draws, rng=0, confidence_level=0.8)
    assert wide.final_low[0] < wide.final_loss[0] < wide.final_high[0]
    assert wide.final_high[0] - wide.final_low[0] > high - low
    again = predict_final(fit, part, draws=draws, rng=0, confidence_level=0.8)
    assert again.equals(wide)  # the same seed, the same interval
    with pytest.raises(InputError, match="not draws of `result`"):
        predict_final(CurveFitResult.from_params("momentum", fit.params | {"L0": 3.1}), part,
                      draws=draws)
    with pytest.raises(InputError, match="must be a CurveBootstrap"):
        predict_final(fit, part, draws=draws.draws)


def test_final_refits_by_the_fit_s_own_objective(partway):
    # the point and every draw are refitted with the fit's delta, bounds and ties; checked
    # against fit_curves run by hand with the same options
    fit, draws, part, held, curves = partway
    last = [held.total_steps - 1]

    def by_hand(law_fit, refit=("L0",), **options):
        held_params = {k: v for k, v in law_fit.params.items()
                       if k not in refit and k not in options.get("tied", {})}
        again = fit_curves(part, "momentum", fixed=held_params,
                           starts={p: [law_fit.params[p]] for p in refit}, **options)
        return again.predict(held, last)[0], again.params

    narrow = fit_curves(curves, "momentum", delta=1e-5)
    expected, _ = by_hand(narrow, delta=1e-5)
    assert predict_final(narrow, part).final_loss[0] == pytest.approx(expected, rel=1e-10)
    assert abs(expected - predict_final(fit, part).final_loss[0]) > 1e-5  # delta matters
    with pytest.warns(UserWarning):  # the fit sits on its L0 bound, and says so
        bounded = fit_curves(curves, "momentum", bounds={"L0": (2.9, 2.99)})
    assert predict_final(bounded, part).refit_L0[0] == pytest.approx(2.99, abs=1e-12)
    tied = fit_curves(curves, "momentum", tied={"C": "A"})
    expected, params = by_hand(tied, refit=("L0", "A"), tied={"C": "A"})
    table = predict_final(tied, part, refit=("A", "L0"))  # any order: the law's is used
    assert table.final_loss[0] == pytest.approx(expected, rel=1e-9)
    assert table.refit_A[0] == pytest.approx(params["A"], rel=1e-8)
    assert list(table.columns[-2:]) == ["refit_L0", "refit_A"]
    for refit, message in ((("L0", "L0"), "'L0' more than once"), (("C",), "tied to 'A'"),
                           (("alpha",), "held fixed")):
        source = fit_curves(curves, "momentum", fixed={"alpha": 0.5}) \
            if refit == ("alpha",) else tied
        with pytest.raises(InputError, match=message):
            predict_final(source, part, refit=refit)
    assert predict_final(fit, part, refit="L0").equals(predict_final(fit, part))
    one_point = part.select(mask=np.arange(len(part)) == 0)
    with pytest.warns(ScalingLawsWarning, match="1 point.*keeps the law's L0"):
        kept = predict_final(fit, one_point)
    assert kept.refit_L0[0] == fit.params["L0"]
    # the draws' refits too: the names' order does not matter, the interval holds the point
    swapped = predict_final(fit, part, refit=("A", "L0"), draws=draws, rng=1)
    assert swapped.equals(predict_final(fit, part, refit=("L0", "A"), draws=draws, rng=1))
    assert swapped.final_low[0] < swapped.final_loss[0] < swapped.final_high[0]


def test_final_interval_of_a_run_does_not_depend_on_the_other_runs(partway):
    fit, draws, part, held, curves = partway
    other = curves.select(["cosine"]).truncate(0.3)
    both = load_curves(pd.concat([part.frame, other.frame])).with_schedules(
        {"new": held, "cosine": curves.schedules["cosine"]})
    alone = predict_final(fit, part, draws=draws, rng=5).iloc[0]
    together = predict_final(fit, both, draws=draws, rng=5).set_index("run_id").loc["new"]
    assert together.final_low == alone.final_low and together.final_high == alone.final_high
    with pytest.raises(InputError, match="confidence_level"):
        predict_final(fit, part, confidence_level=7)


@pytest.mark.slow
def test_final_intervals_cover_as_the_readme_says():
    # `python bench/bench_curves.py --coverage --method blocks --quantity partway` (momentum
    # law, data sets 0-99, 100 resamples) covered 77 of 100 at 90% nominal with the run seen
    # to half its steps. Here 60 other data sets (100-159), 80 resamples each: within 2.5
    # standard errors of the difference of the two binomial proportions. Below nominal:
    # the run's own short, correlated stretch gives few blocks, whose resamples understate
    # its noise (README).
    bench = load_bench("bench_curves")
    schedules = default_schedules()
    held = schedules.pop("wsd")
    # the README's row is the moving-block treatment of the run's points (predict_final's
    # default is now the AR(1) sieve: test_curve_final_coverage.py)
    hits = [bench.partway_replicate("momentum", schedules, held, "blocks", r, 80,
                                    fractions=(0.5,), run_noise="blocks")[0][0.5][0]
            for r in range(100, 160)]
    covered = np.mean(hits)
    readme = 0.77
    assert abs(covered - readme) <= 2.5 * np.sqrt(readme * (1 - readme) * (1 / 60 + 1 / 100)), \
        covered


def test_anytime_points():
    schedules = default_schedules()
    curves, _ = synthetic_curves("mpl", schedules=schedules, noise=0.0, N=1e8)
    ends = anytime_points(curves, tokens_per_step=524288.0)
    # a gradual decay that ends the run gives its last point; constant LR and an abrupt
    # two-stage drop give none
    assert sorted(ends.frame["run_id"]) == ["cosine", "wsd"]
    for row in ends.frame.itertuples():
        assert row.step == curves.steps(row.run_id)[-1]
        assert row.D == row.step * 524288.0 and row.N == 1e8
    finals = anytime_points(curves, kind="final", tokens_per_step=524288.0)
    assert len(finals) == 4
    cooled = anytime_points(curves.select(["constant"]), kind="cooled", result=TRUTH,
                            tokens_per_step=524288.0, cooldown_fraction=0.2)
    row = cooled.frame.iloc[-1]
    s = int(row["step"])
    lr = schedules["constant"].lr_array()[:s + 1].copy()
    start = round(s * 0.8)
    lr[start:] = np.linspace(lr[s], 0.1 * lr[s], s + 1 - start)
    assert row["loss"] == pytest.approx(TRUTH.predict(lr, [s])[0], rel=1e-12)
    assert row["loss"] < curves.loss("constant")[-1]  # cooling lowers the loss
    # predicted in batches of cooled LR arrays (bounded memory): the batch does not matter
    import scalinglaws.analysis.curves as module

    original = module._COOLED_ELEMENTS
    try:
        module._COOLED_ELEMENTS = 1
        one_by_one = anytime_points(curves.select(["constant"]), kind="cooled", result=TRUTH,
                                    tokens_per_step=524288.0, cooldown_fraction=0.2)
    finally:
        module._COOLED_ELEMENTS = original
    np.testing.assert_allclose(one_by_one.loss, cooled.loss, rtol=1e-12)
    with pytest.raises(InputError, match="tokens_per_step"):
        anytime_points(curves)
    with pytest.raises(InputError, match="`kind` must be one of"):
        anytime_points(curves, kind="best", tokens_per_step=524288.0)


def test_fit_then_predict_a_held_out_schedule():
    # fit on constant + cosine + two-stage (noise-free), predict WSD: the truth comes back
    schedules = default_schedules()
    held = schedules.pop("wsd")
    curves, truth = synthetic_curves("momentum", schedules=schedules, noise=0.0)
    fit = fit_curves(curves, "momentum")
    predicted = predict_curve(fit, held, steps=[held.total_steps - 1]).loss[0]
    expected = CurveFitResult.from_params("momentum", truth).predict(held, [held.total_steps - 1])
    assert predicted == pytest.approx(expected[0], rel=1e-8)


def test_anytime_points_feed_a_scaling_law_fit():
    # one long constant-LR run, cooled down (by the law) at every logged point: a loss-vs-D
    # curve that scalinglaws.fit takes as a table of runs
    from scalinglaws import fit

    constant = {"long": Schedule.constant(60000, 3e-4, warmup_steps=2160)}
    curves, _ = synthetic_curves("mpl", schedules=constant, noise=0.0, N=1e8, every=2048)
    points = anytime_points(curves, kind="cooled", result=TRUTH, tokens_per_step=524288.0)
    # every point whose last 20% of steps ran at constant LR (not the one ending warmup)
    assert len(points) == len(curves) - 1 and points.frame["step"].min() > 1.25 * 2160
    assert np.all(np.diff(points.loss) < 0)
    # the points are checkpoints of one run: fit says so (the bootstrap resamples whole runs)
    with pytest.warns(ScalingLawsWarning, match=r"rows are checkpoints of 1 run \(run_id"):
        law = fit(points, "kaplan_d_offset")
    assert law.status == 0
    assert np.max(np.abs(law.predict(D=points.D) / points.loss - 1)) < 5e-3


def test_a_user_law_of_n_and_tokens_predicts_a_new_schedule():
    # the law written out with numpy at the schedule's own LRs is the independent truth
    from scalinglaws.laws.curve_custom import Param, define_curve_law

    law = define_curve_law(
        "of_n_and_tokens", lambda lr, N, tokens, L0, a, b, c:
        L0 + a * (N / 1e8) ** -0.3 + b * lr * 1e3 + c * 1e9 / (tokens + 1e9),
        features=("lr", "N", "tokens"),
        params={"L0": Param(start=2.0), "a": Param(start=0.5), "b": Param(start=0.1),
                "c": Param(start=1.0)})
    fit = CurveFitResult.from_params(law, {"L0": 2.0, "a": 0.5, "b": 0.1, "c": 1.0})
    wsd = Schedule.wsd(3000, 3e-4, final_lr=3e-5, decay_start=2000, warmup_steps=100)
    steps = np.array([100, 1500, 2999])
    lr = wsd.lr_array()[steps]
    tokens = steps * 2.0**20
    expected = 2.0 + 0.5 * 3.4 ** -0.3 + 0.1 * lr * 1e3 + 1e9 / (tokens + 1e9)
    got = predict_curve(fit, wsd, steps=steps, N=3.4e8, tokens_per_step=2.0**20)
    np.testing.assert_allclose(got.loss, expected, rtol=1e-12)
    np.testing.assert_allclose(fit.predict(wsd, steps, N=3.4e8, tokens_per_step=2.0**20),
                               expected, rtol=1e-12)
    with pytest.raises(InputError, match="function of the model size: pass N="):
        predict_curve(fit, wsd, steps=steps, tokens_per_step=2.0**20)
    with pytest.raises(InputError, match="function of the tokens seen: pass tokens_per_step="):
        predict_curve(fit, wsd, steps=steps, N=3.4e8)
    mpl = CurveFitResult.from_params("mpl", LUO_2025_MPL["25M"])
    with pytest.raises(InputError, match="`tokens_per_step` is given, but the 'mpl' law"):
        predict_curve(mpl, wsd, steps=steps, tokens_per_step=2.0**20)


def test_cooled_points_shared_by_runs_are_counted_once():
    # wsd and two_stage run at the constant run's LR until they decay: their cooled points
    # before that are the constant run's, to the bit, and would enter a fit 2-3 times
    curves, _ = synthetic_curves("mpl", schedules=default_schedules(), noise=0.0, N=1e8)
    every = anytime_points(curves, kind="cooled", result=TRUTH, tokens_per_step=524288.0)
    separately = pd.concat([anytime_points(curves.select([run]), kind="cooled", result=TRUTH,
                                           tokens_per_step=524288.0).frame
                            for run in ("constant", "wsd", "two_stage")])
    distinct = separately.drop_duplicates(["N", "D", "loss"])
    assert len(separately) > len(distinct) == len(every) > 0
    pd.testing.assert_frame_equal(every.frame[["N", "D", "loss", "run_id", "step"]]
                                  .reset_index(drop=True),
                                  distinct[["N", "D", "loss", "run_id", "step"]]
                                  .reset_index(drop=True))


def test_draws_false_is_no_interval_as_everywhere_else(partway):
    # predict_curve(fit, schedule, draws=False) raised AttributeError: 'bool' object has no
    # attribute 'confidence_level'; draws=False is the package's "no intervals"
    fit, _, _, held, _ = partway
    plain = predict_curve(fit, held, steps=[10, 20])
    off = predict_curve(fit, held, steps=[10, 20], draws=False)
    assert off.low is None and off.high is None and off.n_draws == 0
    np.testing.assert_array_equal(off.loss, plain.loss)
    assert off.to_frame().attrs == {}
    for bad, kind in ((True, "bool"), ("draws", "str")):
        with pytest.raises(InputError, match=rf"^`draws` must be a CurveBootstrap "
                                             rf"\(bootstrap_curves\), or None or False for no "
                                             rf"intervals; got {kind}$"):
            predict_curve(fit, held, steps=[10], draws=bad)
