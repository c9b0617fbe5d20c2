"""Curve fits on the command line, their JSON (round trip and schema), and the figure."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scalinglaws import InputError
from scalinglaws.fitting.curves import CurveFitResult, fit_curves
from scalinglaws.laws.curve_synthetic import LUO_2025_MPL, synthetic_curves
from scalinglaws.outputs.cli import main
from scalinglaws.outputs.io.curves import (
    curve_fit_from_dict,
    curve_fit_from_json,
    curve_fit_to_dict,
    curve_fit_to_json,
    curves_schema,
    load_curve_bootstrap,
    load_curve_fit,
    save_curve_fit,
)
from scalinglaws.uncertainty.curves import bootstrap_curves

from curve_logs import write_lr_logged_curves

# these tests take few resamples to stay fast; the warning that few draws narrow a
# percentile interval is tested in tests/uncertainty/test_curves_few_draws.py
pytestmark = pytest.mark.filterwarnings(
    "ignore:curve bootstrap.*too few:scalinglaws.CurveResamplingWarning")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """Noise-free momentum-law curves logged with their LR at every step, as a CSV."""
    folder = tmp_path_factory.mktemp("curves")
    curves, truth = synthetic_curves("momentum", rng=0, noise=0.0, every=512)
    path = write_lr_logged_curves(curves, folder / "logs.csv")
    return path, truth


def test_fit_then_predict_from_the_shell(synthetic, tmp_path, capsys):
    path, truth = synthetic
    out = tmp_path / "fit.json"
    assert main(["curves", "fit", str(path), "--law", "momentum", "--nan-policy", "omit",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "status     0: converged" in printed and "per-curve scores" in printed
    fit = load_curve_fit(out)
    for name, value in truth.items():
        assert fit.params[name] == pytest.approx(value, rel=1e-6)
    assert main(["curves", "predict", str(out), "--schedule", "wsd", "--steps", "24000",
                 "--peak-lr", "3e-4", "--final-lr", "3e-5", "--warmup-steps", "2160",
                 "--decay-steps", "4000", "--decay-shape", "exponential", "--at", "23999",
                 "--json"]) == 0
    document = json.loads(capsys.readouterr().out)  # the document --out x.json writes
    assert document["kind"] == "scalinglaws.curves_predict"
    table = document["rows"]
    from scalinglaws.laws.curve_synthetic import default_schedules

    wsd = default_schedules()["wsd"]
    expected = CurveFitResult.from_params("momentum", truth).predict(wsd, [23999])[0]
    assert table[0]["step"] == 23999 and table[0]["loss"] == pytest.approx(expected, rel=1e-6)


def test_fit_with_bootstrap_writes_draws_and_predict_prints_the_band(synthetic, tmp_path, capsys):
    path, _ = synthetic
    out = tmp_path / "boot.json"
    assert main(["curves", "fit", str(path), "--law", "momentum", "--nan-policy", "omit",
                 "--bootstrap", "20", "--seed", "3", "--out", str(out)]) == 0
    # the AR(1) sieve by default (README), said with each curve's coefficient
    assert ("95% bootstrap percentile intervals (AR(1) sieve of each curve's residuals, "
            "coefficients") in capsys.readouterr().out
    draws = load_curve_bootstrap(out)
    assert draws is not None and draws.draws.shape[1] == 5 and not draws.draws.flags.writeable
    assert draws.method == "ar1" and len(draws.ar1_coefficients) == 4
    csv = tmp_path / "curve.csv"
    assert main(["curves", "predict", str(out), "--schedule", "cosine", "--steps", "10000",
                 "--peak-lr", "3e-4", "--final-lr", "3e-5", "--every", "2500",
                 "--out", str(csv)]) == 0
    text = csv.read_text().splitlines()
    assert text[0] == "step,lr,loss,loss_low,loss_high" and len(text) == 5


def test_luo_schedules_from_the_shell(shared_dir, tmp_path, capsys):
    folder = shared_dir / "datasets" / "lr_schedule_curves"
    out = tmp_path / "mpl25.json"
    assert main(["curves", "fit", str(folder / "mpl_luo2025_curves.csv"),
                 "--schedules", str(folder / "mpl_luo2025_schedules.csv"),
                 "--schedule-key", "schedule_file", "--where", "model_size=25M",
                 "--where", "paper_split=train", "--columns", "N=n_params",
                 "--out", str(out)]) == 0
    fit = load_curve_fit(out)
    assert fit.n_points == 437 and len(fit.runs) == 3 and fit.status == 0
    assert set(fit.run_N.values()) == {89e6}


@pytest.mark.slow
def test_luo_recipe_from_the_shell(shared_dir, tmp_path, capsys):
    # --recipe luo2025 reproduces their published 25M parameters (4 printed digits) and
    # says it is not an optimum: warning, status 2 in the file, exit status 1
    folder = shared_dir / "datasets" / "lr_schedule_curves"
    out = tmp_path / "luo25.json"
    assert main(["curves", "fit", str(folder / "mpl_luo2025_curves.csv"),
                 "--schedules", str(folder / "mpl_luo2025_schedules.csv"),
                 "--schedule-key", "schedule_file", "--where", "model_size=25M",
                 "--where", "paper_split=train", "--columns", "N=n_params",
                 "--recipe", "luo2025", "--out", str(out)]) == 1
    assert "early-stopped point, not an optimum" in capsys.readouterr().err
    fit = load_curve_fit(out)
    assert fit.status == 2 and fit.options["method"] == "luo2025"
    for name, printed in LUO_2025_MPL["25M"].items():
        assert fit.params[name] == pytest.approx(printed, rel=5e-4), name


@pytest.mark.parametrize("argv, message", [
    (["curves", "predict", "missing.json", "--schedule", "constant", "--steps", "10",
      "--peak-lr", "1e-3"], "cannot read curve fit file"),
    (["curves", "fit", "nowhere.csv"], "no such file"),
])
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_predict_needs_a_complete_schedule(synthetic, tmp_path, capsys):
    path, _ = synthetic
    out = tmp_path / "fit.json"
    main(["curves", "fit", str(path), "--law", "momentum", "--nan-policy", "omit",
          "--out", str(out)])
    capsys.readouterr()
    assert main(["curves", "predict", str(out), "--schedule", "cosine", "--steps", "100",
                 "--peak-lr", "1e-3"]) == 2
    assert "needs --final-lr" in capsys.readouterr().err


def test_json_round_trip_and_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    curves, _ = synthetic_curves("momentum", rng=2, noise=0.001, every=512)
    fit = fit_curves(curves, "momentum", fixed={"lambda": 0.999})
    draws = bootstrap_curves(fit, curves, 10, method="blocks", rng=0)
    doc = curve_fit_to_dict(fit, draws)
    jsonschema.validate(doc, curves_schema())
    again, again_draws = curve_fit_from_dict(json.loads(json.dumps(doc)))
    assert again.params == fit.params and again.fixed == {"lambda": 0.999}
    assert again.law == fit.law and again.objective == fit.objective
    np.testing.assert_array_equal(again_draws.draws, draws.draws)
    # what the intervals rest on comes back too (so a loaded fit's bands say it)
    assert (again_draws.n_distinct, again_draws.n_curves, again_draws.at_bounds) == (
        draws.n_distinct, draws.n_curves, draws.at_bounds)
    assert again_draws.describe() == draws.describe()
    path = tmp_path / "fit.json"
    save_curve_fit(fit, path)
    loaded = load_curve_fit(path)
    table = tmp_path / "curves.csv"
    table.write_text("run_id,step,loss\n")
    with pytest.raises(InputError, match="path"):  # another kind of file: refused unless force
        save_curve_fit(fit, table)
    with pytest.raises(InputError, match="path"):  # one of the inputs: refused, force or not
        save_curve_fit(fit, path, inputs=[path], force=True)
    assert table.read_text() == "run_id,step,loss\n"
    np.testing.assert_array_equal(loaded.predict(curves.lr_array("cosine"), [100, 20000]),
                                  fit.predict(curves.lr_array("cosine"), [100, 20000]))
    published = CurveFitResult.from_params("mpl", LUO_2025_MPL["25M"])
    assert curve_fit_from_json(curve_fit_to_json(published)).params == published.params
    # the AR(1) sieve's draws keep their method and each curve's coefficient (describe()
    # names them)
    sieve = bootstrap_curves(fit, curves, 10, method="ar1", rng=0)
    doc = curve_fit_to_dict(fit, sieve)
    jsonschema.validate(doc, curves_schema())
    _, again_sieve = curve_fit_from_dict(json.loads(json.dumps(doc)))
    assert again_sieve.method == "ar1"
    assert dict(again_sieve.ar1_coefficients) == dict(sieve.ar1_coefficients)
    assert again_sieve.describe() == sieve.describe()
    # every writer wrote the method: one without it is refused, not read as blocks (which
    # the sieve's draws are not; tests/outputs/io/test_io_curves.py checks each such key)
    edited = curve_fit_to_dict(fit, sieve)
    del edited["bootstrap"]["method"]
    with pytest.raises(InputError, match="field bootstrap.method is missing"):
        curve_fit_from_dict(json.loads(json.dumps(edited)))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(kind="scalinglaws.fit"), "is not 'scalinglaws.curve_fit'"),
    (lambda d: d.update(schema_version=9), "schema_version 9 is not supported"),
    (lambda d: d["params"].pop("alpha"), "parameter 'alpha'"),
    (lambda d: d["params"].update(E=1.0), "unknown parameter"),
    (lambda d: d["law"].update(name="nope"), "`law` must be one of"),
    (lambda d: d.update(bootstrap={"method": "blocks", "n_resamples": 2, "n_failed": 0,
                                   "confidence_level": 0.95, "seed": None,
                                   "block_lengths": {}, "draws": [[1, 2]]}),
     "must have 7 values"),
    (lambda d: d.update(bootstrap={"draws": [[1, 2]]}), "field bootstrap.method is missing"),
])
def test_malformed_documents_raise_naming_the_problem(change, message):
    doc = curve_fit_to_dict(CurveFitResult.from_params("mpl", LUO_2025_MPL["25M"]))
    change(doc)
    with pytest.raises(InputError, match=message):
        curve_fit_from_dict(doc)
    with pytest.raises(InputError, match="not valid JSON"):
        curve_fit_from_json("{")


def test_learning_curve_figure(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from scalinglaws.analysis.curves import predict_curve
    from scalinglaws.outputs import plot

    curves, _ = synthetic_curves("momentum", rng=0, noise=0.001, every=512)
    fit = fit_curves(curves.select(["constant", "cosine"]), "momentum")
    ax = plot.learning_curves(fit, curves.select(["constant", "cosine"]),
                              curves.select(["wsd", "two_stage"]), stride=2)
    assert len(ax.lines) == 4 and len(ax.lr_axes.lines) == 4
    styles = [line.get_linestyle() for line in ax.lines]
    assert styles == ["-", "-", "--", "--"]
    # the panel below: each curve's points relative to the law, in %
    residual_lines = ax.residual_axes.lines[:4]
    assert [line.get_linestyle() for line in residual_lines] == styles
    wsd = curves.select(["wsd"])
    law = fit.law.predict(fit.params, fit.law.prepare(wsd))
    np.testing.assert_allclose(residual_lines[2].get_ydata(), 100 * (wsd.loss("wsd") / law - 1),
                               rtol=1e-12)
    with pytest.raises(InputError, match="`residuals=True` draws its own panel"):
        plot.learning_curves(fit, curves, ax=ax, residuals=True)
    # the loss axis shows the points after warmup (the LR's peak) up to their 90th
    # percentile, not the first steps' losses that squeezed every curve into one line
    after = np.concatenate([curves.loss(r)[curves.steps(r) >= np.argmax(curves.lr_array(r))]
                            for r in curves.runs])
    low, high = ax.get_ylim()
    assert low < after.min() < np.percentile(after, 90) < high < curves.frame["loss"].max()
    assert high - np.percentile(after, 90) < 0.1 * (high - low)
    assert "solid = fitted, dashed = predicted for held-out schedules" in ax.get_title()
    alone = plot.learning_curves(fit, curves.select(["constant", "cosine"]))
    assert alone.get_title() == "momentum: solid = fitted"  # no held-out curves, no dashes
    # the laws' lines lie over the points, the fitted curves over the held-out ones, and a
    # long log is thinned to about 120 markers a curve by default (every point: a band)
    assert min(line.get_zorder() for line in ax.lines) > max(
        c.get_zorder() for c in ax.collections)
    fitted_line, heldout_line = ax.lines[0], ax.lines[2]
    assert fitted_line.get_zorder() > heldout_line.get_zorder()
    dense, truth = synthetic_curves("momentum", rng=0, noise=0.001, every=16)
    from scalinglaws.fitting.curves import CurveFitResult

    thinned = plot.learning_curves(CurveFitResult.from_params("momentum", truth),
                                   dense.select(["constant"]), show_lr=False, residuals=False)
    n_points = len(dense.steps("constant"))
    (markers,) = thinned.collections
    assert n_points > 1000 and 100 <= len(markers.get_offsets()) <= 240
    ax.figure.savefig(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    prediction = predict_curve(fit, curves.lr_array("wsd"), draws=bootstrap_curves(
        fit, curves.select(["constant", "cosine"]), 10, rng=0))
    band = plot.curve_band(prediction)
    assert len(band.collections) == 1
    # the band relative to the prediction, in an inset scaled to a power of 10 of nats
    (relative,) = band.band_axes.collections
    power = int(np.floor(np.log10(np.max(np.abs(np.r_[prediction.low - prediction.loss,
                                                       prediction.high - prediction.loss])))))
    assert f"$10^{{{power}}}$ nats" in band.band_axes.get_title()
    lowest = relative.get_paths()[0].vertices[:, 1].min()
    assert lowest == pytest.approx(np.min(prediction.low - prediction.loss) / 10.0 ** power)
    assert not hasattr(plot.curve_band(prediction, inset=False), "band_axes")
    # a label names the curve (and the band) in a legend; without one there is none
    assert band.get_legend() is None
    named = plot.curve_band(prediction, label="WSD (predicted)")
    assert [t.get_text() for t in named.get_legend().get_texts()] == [
        "WSD (predicted)", "95% bootstrap percentile band"]
    with pytest.raises(InputError, match="give `curves`, `heldout` or both"):
        plot.learning_curves(fit)


@pytest.fixture(scope="module")
def boot_fit(synthetic, tmp_path_factory):
    """The synthetic curves' momentum fit with 20 bootstrap draws, as `curves fit` writes it."""
    path, _ = synthetic
    out = tmp_path_factory.mktemp("boot") / "boot.json"
    assert main(["curves", "fit", str(path), "--law", "momentum", "--nan-policy", "omit",
                 "--bootstrap", "20", "--seed", "3", "--out", str(out)]) == 0
    return out


def test_final_prints_where_a_run_part_way_through_will_end(synthetic, boot_fit, tmp_path,
                                                           capsys):
    # the fit (with draws) from the finished runs; a run logged to step 12,000 of a planned
    # 24,000-step WSD schedule, given in a schedules table keyed by run id
    path, truth = synthetic
    out = boot_fit
    capsys.readouterr()
    import pandas as pd

    logs = pd.read_csv(path)
    part = logs[(logs["run"] == "wsd") & (logs["step"] <= 12000)].assign(run="new")
    part_path = tmp_path / "partway.csv"
    part.to_csv(part_path, index=False)
    plans = tmp_path / "plans.csv"
    plans.write_text("run_id,kind,total_steps,peak_lr,final_lr,warmup_steps,decay_start,"
                     "decay_shape\nnew,wsd,24000,3e-4,3e-5,2160,20000,exponential\n")
    args = ["curves", "final", str(out), str(part_path), "--schedules", str(plans),
            "--schedule-key", "run_id", "--nan-policy", "omit", "--seed", "1"]
    assert main(args + ["--json"]) == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    from scalinglaws.laws.curve_synthetic import default_schedules

    expected = CurveFitResult.from_params("momentum", truth).predict(
        default_schedules()["wsd"], [23999])[0]
    assert row["run_id"] == "new" and row["final_step"] == 23999
    assert row["last_logged_step"] <= 12000
    assert row["final_loss"] == pytest.approx(expected, rel=1e-6)  # noise-free curves
    assert row["final_low"] <= row["final_loss"] <= row["final_high"] and row["n_draws"] == 20
    assert main(args) == 0  # the table, and what the interval is
    printed = capsys.readouterr().out
    # the level and the kind: percentiles of the draws' final losses (curve_final)
    assert "final_low, final_high: 95% bootstrap percentile intervals of the law's" in printed
    assert ("from the fit's bootstrap: 95% bootstrap percentile intervals (AR(1) sieve of "
            "each curve's residuals") in printed
    assert ("L0 refitted on the run's own points, their noise redrawn by studentized AR(1) "
            "sieve bootstrap") in printed
    # how such intervals covered (README): the defaults at their level in simulations, not
    # the law's misfit on real curves; the run's points in moving blocks fell short
    assert "at its level in simulations where the law holds" in printed
    assert "18 of 54 logged last losses" in printed and "below nominal" not in printed
    assert main(args + ["--run-noise", "blocks"]) == 0
    printed = capsys.readouterr().out
    assert "their noise redrawn by moving blocks" in printed
    assert "moving blocks: below nominal coverage in simulations" in printed
    assert main(args + ["--json"]) == 0  # the same seed, the same interval
    assert json.loads(capsys.readouterr().out)["rows"][0] == row
    # no planned schedule: refused in one line
    assert main(["curves", "final", str(out), str(part_path), "--nan-policy", "omit"]) == 2
    assert "has no planned schedule" in capsys.readouterr().err


def test_final_back_test_from_the_shell_is_the_library_s(synthetic, boot_fit, tmp_path,
                                                         capsys):
    # --seen cuts each finished run and predicts its last logged step; the table is
    # predict_final's on the same cut, with the same seed, level and block length
    from scalinglaws.analysis.curves import predict_final
    from scalinglaws.data.curves import load_curves

    path, _ = synthetic
    out = boot_fit
    capsys.readouterr()
    table = tmp_path / "final.csv"
    args = ["curves", "final", str(out), str(path), "--nan-policy", "omit", "--seen", "0.5",
            "--refit", "A", "L0", "--confidence-level", "0.8", "--block-length", "3",
            "--seed", "9"]
    assert main(args + ["--out", str(table)]) == 0
    printed = capsys.readouterr().out
    assert "final_low, final_high: 80% bootstrap percentile intervals" in printed
    assert "back-test: each run seen to 0.5" in printed
    import pandas as pd

    shell = pd.read_csv(table)
    curves = load_curves(path, nan_policy="omit")
    cut = curves.with_schedules({r: curves.lr_array(r)[:curves.steps(r)[-1] + 1]
                                 for r in curves.runs}).truncate(0.5)
    library = predict_final(load_curve_fit(out), cut, refit=("L0", "A"),
                            draws=load_curve_bootstrap(out), confidence_level=0.8,
                            block_length=3, rng=9)
    for column in ("final_loss", "final_low", "final_high", "refit_L0", "refit_A"):
        np.testing.assert_allclose(shell[column], library[column], rtol=1e-12)
    assert (shell["final_step"] == [curves.steps(r)[-1] for r in curves.runs]).all()
    logged = [curves.loss(r)[-1] for r in curves.runs]
    np.testing.assert_allclose(shell["logged_loss"], logged, rtol=1e-12)
    np.testing.assert_allclose(shell["error"], shell["final_loss"] / logged - 1, rtol=1e-9)
    assert main(args + ["--no-refit"]) == 2  # --refit and --no-refit exclude each other
    assert "not allowed with argument" in capsys.readouterr().err


def test_loss_units_from_the_shell(synthetic, tmp_path, capsys):
    # the synthetic logs with the loss written as a perplexity: --loss-units converts it,
    # and the fit is the one on the nats (the truth, noise-free)
    import pandas as pd

    path, truth = synthetic
    logs = pd.read_csv(path)
    ppl = tmp_path / "ppl.csv"
    logs.assign(val_loss=np.exp(logs["val_loss"])).to_csv(ppl, index=False)
    out = tmp_path / "fit.json"
    assert main(["curves", "fit", str(ppl), "--law", "momentum", "--nan-policy", "omit",
                 "--loss-units", "perplexity", "--out", str(out)]) == 0
    assert load_curve_fit(out).params["L0"] == pytest.approx(truth["L0"], rel=1e-6)
    capsys.readouterr()
    main(["curves", "fit", str(ppl), "--law", "momentum", "--nan-policy", "omit"])
    said = capsys.readouterr().err
    assert "column 'val_loss' (loss) exceeds 14.45 nats per token" in said
    assert "pass --loss-units perplexity" in said


def test_predict_refuses_N_for_a_law_of_one_size(synthetic, boot_fit, capsys):
    capsys.readouterr()
    assert main(["curves", "predict", str(boot_fit), "--schedule", "constant", "--steps",
                 "1000", "--peak-lr", "3e-4", "--N", "7B"]) == 2
    assert "--N is given, but the fit is of the 'momentum' law for one model size" in \
        capsys.readouterr().err


def test_final_takes_the_user_s_run_column_name(synthetic, boot_fit, tmp_path, capsys):
    # the logs call the run column run_name (read as run_id): --schedule-key and --where
    # take that name, in the logs and in the schedules table
    import pandas as pd

    path, _ = synthetic
    logs = pd.read_csv(path)
    part = logs[(logs["run"] == "wsd") & (logs["step"] <= 12000)]
    part_path = tmp_path / "half_run.csv"
    part.rename(columns={"run": "run_name"}).to_csv(part_path, index=False)
    plans = tmp_path / "sched.csv"
    plans.write_text("run_name,kind,total_steps,peak_lr,final_lr,warmup_steps,decay_start,"
                     "decay_shape\nwsd,wsd,24000,3e-4,3e-5,2160,20000,exponential\n")
    capsys.readouterr()
    rows = []
    for key in ("run_name", "run_id"):
        assert main(["curves", "final", str(boot_fit), str(part_path), "--schedules",
                     str(plans), "--schedule-key", key, "--where", "run_name=wsd",
                     "--nan-policy", "omit", "--no-refit", "--json"]) == 0
        rows.append(json.loads(capsys.readouterr().out)["rows"])
    assert rows[0] == rows[1] and rows[0][0]["run_id"] == "wsd"
    assert rows[0][0]["final_step"] == 23999
    assert main(["curves", "final", str(boot_fit), str(part_path), "--schedules", str(plans),
                 "--schedule-key", "run_name", "--where", "run_name=other",
                 "--nan-policy", "omit"]) == 2
    assert "the selection keeps no point" in capsys.readouterr().err


def test_predict_and_final_files_say_the_interval_s_level_and_kind(synthetic, boot_fit,
                                                                   tmp_path, capsys):
    path, _ = synthetic
    capsys.readouterr()
    predict = ["curves", "predict", str(boot_fit), "--schedule", "cosine", "--steps", "10000",
               "--peak-lr", "3e-4", "--final-lr", "3e-5", "--at", "9999"]
    documents = {}
    for level in ("0.8", None):
        out = tmp_path / f"predict_{level}.json"
        assert main(predict + ["--out", str(out)]
                    + (["--confidence-level", level] if level else [])) == 0
        documents[level] = json.loads(out.read_text())
        printed = capsys.readouterr().out
        assert (f"loss_low, loss_high: {'80' if level else '95'}% bootstrap percentile "
                "intervals") in printed
        assert "a confidence band of the law's curve" in printed
    narrow, wide = documents["0.8"], documents[None]
    assert (narrow["interval"], narrow["confidence_level"], wide["confidence_level"]) == (
        "confidence", 0.8, 0.95)
    assert narrow["method"] == "bootstrap percentile" and narrow["n_draws"] == 20
    out = tmp_path / "final.json"
    assert main(["curves", "final", str(boot_fit), str(path), "--nan-policy", "omit",
                 "--seen", "0.5", "--confidence-level", "0.8", "--out", str(out),
                 "--json"]) == 0
    final = json.loads(out.read_text())
    assert (final["interval"], final["confidence_level"], final["of"], final["refit"]) == (
        "confidence", 0.8, "the law's final loss", ["L0"])
    # --json prints that document (it printed the bare rows: no kind, level or method)
    assert json.loads(capsys.readouterr().out) == final
    assert final["kind"] == "scalinglaws.curves_final"
    out = tmp_path / "predict.json"
    assert main(predict + ["--json", "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(out.read_text()) == wide


@pytest.mark.parametrize("extra, message", [
    (["--schedule", "wsd", "--decay-steps", "30000"],
     "--decay-steps 30000 is longer than the 23800 steps after warmup (--steps 24000 minus "
     "--warmup-steps 200)"),
    (["--schedule", "cosine", "--decay-steps", "4000"],
     "--decay-steps applies to a wsd schedule"),
    # a warmup longer than the run is named, not the negative room it leaves (audit)
    (["--schedule", "wsd", "--warmup-steps", "30000", "--decay-steps", "1000"],
     "--warmup-steps 30000 is longer than --steps 24000"),
])
def test_decay_steps_are_checked_in_their_own_terms(boot_fit, extra, message, capsys):
    # they used to be refused as a --decay-start of -6000, a flag and value never typed
    capsys.readouterr()
    assert main(["curves", "predict", str(boot_fit), "--steps", "24000", "--peak-lr", "3e-4",
                 "--final-lr", "3e-5", "--warmup-steps", "200", *extra]) == 2
    said = capsys.readouterr().err
    assert message in said and "--decay-start" not in said


@pytest.mark.parametrize("command, dest", [
    (["curves", "fit", "logs.csv"], "method"),
    (["curves", "final", "fit.json", "logs.csv"], "run_noise"),
])
def test_method_and_run_noise_are_one_flag_in_both_commands(command, dest):
    # before: the ar1/blocks choice was --method in curves fit and --run-noise in curves
    # final, and each command refused the other's name
    from scalinglaws.outputs.cli import build_parser

    parser = build_parser()
    for value in ("ar1", "blocks"):
        by_method = parser.parse_args([*command, "--method", value])
        by_run_noise = parser.parse_args([*command, "--run-noise", value])
        assert getattr(by_method, dest) == getattr(by_run_noise, dest) == value
