"""Two-step downstream prediction: the OLMo ladder's published numbers reproduced with the
ladder preset, recovery of known laws from synthetic ladders, and the verdicts.

Reference numbers: allenai/OLMo-ladder at 67a3f44, ``src/scripts/paper/figures/
{step1,step2,chained}_main.csv`` (target 13B-5T), as printed to 4 decimals in
``../shared/datasets/downstream_evals/README.md``, which also gives the fitted
coefficients and the 7B-4T predictions of the same fits. A reproduction "to 4 decimals"
means our value rounds to the printed one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglaws import ConvergenceWarning, InputError, ScalingLawsWarning
from scalinglaws.analysis.downstream import fit_direct, fit_downstream, observed, preset_with
from scalinglaws.analysis.downstream_preset import LADDER
from scalinglaws.analysis.downstream_variants import compare_variants
from scalinglaws.analysis.downstream_verdict import checkpoint_noise, predictability
from scalinglaws.data.tasks import load_tasks
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.tasks import SYNTHETIC_STEP1, SYNTHETIC_STEP2, synthetic_task_table

N13, D13 = 13_202_396_160, 5_000_088_518_656
N7, D7 = 6_887_575_552, 3_945_065_873_408
TARGET_13B, TARGET_7B = "olmo2-13B-5T", "olmo2-7B-4T-anneal"

# task: step-1 pred, step-1 actual, step-2 pred, chained pred, actual acc (13B-5T)
REPO_13B = {
    "mmlu_avg_test": (0.7502, 0.7488, 0.5138, 0.5127, 0.5161),
    "hellaswag_val": (0.6532, 0.6609, 0.8416, 0.8530, 0.8319),
    "arc_challenge_test": (0.7833, 0.7157, 0.6030, 0.5267, 0.6381),
    "arc_easy_test": (0.5931, 0.5114, 0.8194, 0.7724, 0.8717),
    "piqa_val": (0.8748, 0.8988, 0.8075, 0.8208, 0.8296),
    "csqa_val": (0.6617, 0.8116, 0.7173, 0.7761, 0.7410),
    "socialiqa_val": (0.9916, 0.9569, 0.6337, 0.5995, 0.6160),
    "openbookqa_test": (1.2750, 1.2632, 0.4572, 0.4486, 0.4864),
}
# task: bpb pred, bpb actual, chained acc pred, actual acc (7B-4T, the single anneal row)
REPO_7B = {
    "mmlu_avg_test": (0.7869, 0.7770, 0.4838, 0.4901),
    "hellaswag_val": (0.6713, 0.6732, 0.8252, 0.8135),
    "arc_challenge_test": (0.7941, 0.7424, 0.5150, 0.6195),
    "arc_easy_test": (0.6038, 0.5330, 0.7659, 0.8455),
    "piqa_val": (0.8903, 0.9088, 0.8122, 0.8205),
    "csqa_val": (0.7123, 0.8069, 0.7571, 0.7265),
    "socialiqa_val": (1.0045, 0.9629, 0.5874, 0.5993),
    "openbookqa_test": (1.2848, 1.2683, 0.4417, 0.4940),
}
# the data README's refit of step 1 (A, B to 4 significant digits; alpha, beta, E to 4
# decimals) and of step 2 (a, x0, b to 3 decimals; k to 2)
# (as printed, strings: the printed digits are the claim; A, B, alpha, beta, E and a, x0,
# k, b)
REPO_STEP1 = {
    "mmlu_avg_test": ("38.07", "100.1", "0.2262", "0.2361", "0.4541"),
    "hellaswag_val": ("11.23", "60.37", "0.1955", "0.2565", "0.5019"),
    "arc_challenge_test": ("7.03e5", "38.45", "0.7877", "0.1970", "0.6546"),
    "arc_easy_test": ("7.94e4", "3958", "0.6610", "0.4195", "0.5582"),
    "piqa_val": ("405.7", "10.16", "0.3978", "0.1533", "0.7217"),
    "csqa_val": ("56.86", "10.91", "0.2350", "0.1111", "0.0000"),
    "socialiqa_val": ("1201", "7897", "0.4473", "0.4768", "0.9489"),
    "openbookqa_test": ("8.64e4", "137.3", "0.6865", "0.2607", "1.1981"),
}
REPO_STEP2 = {
    "mmlu_avg_test": ("-0.742", "0.616", "4.83", "1.000"),
    "hellaswag_val": ("-0.730", "0.767", "12.74", "0.992"),
    "arc_challenge_test": ("-0.778", "0.709", "5.91", "1.000"),
    "arc_easy_test": ("-0.646", "0.741", "4.13", "1.000"),
    "piqa_val": ("-0.459", "0.963", "5.03", "1.000"),
    "csqa_val": ("-0.856", "1.131", "2.21", "1.000"),
    "socialiqa_val": ("-0.599", "0.894", "7.16", "1.000"),
    "openbookqa_test": ("-0.791", "1.081", "4.31", "1.000"),
}
#: the two coefficients of ours that do not print as the data README prints them (our
#: README says so), with how far they may be: OpenBookQA's A lies on a ridge with alpha
#: (correlation ~1; ours 8.635e4, printed 8.64e4: 6e-4 relative, no prediction moves at the
#: 4th decimal); SocialIQa's b sits at its bound 1, which only the anchor (0, 1) holds
#: (ours 0.99947, printed 1.000)
NOT_AS_PRINTED = {("openbookqa_test", "A"): {"rel": 1e-3}, ("socialiqa_val", "b"): {"abs": 1e-3}}


def as_printed(value, printed):
    """``value`` within half a unit of ``printed``'s last digit (rounds to it)."""
    mantissa, _, exponent = printed.lower().partition("e")
    unit = 10.0 ** (int(exponent or 0) - len(mantissa.partition(".")[2]))
    return abs(value - float(printed)) <= 0.5 * unit * (1 + 1e-9)
# the repository's chained 13B errors in points, as the data README (and the paper) quote
PUBLISHED_13B_ERRORS = {"mmlu_avg_test": 0.3, "hellaswag_val": 2.1, "piqa_val": 0.9,
                        "socialiqa_val": 1.6, "arc_challenge_test": 11.1,
                        "arc_easy_test": 9.9, "csqa_val": 3.5, "openbookqa_test": 3.8}


@pytest.fixture(scope="module")
def ladder(shared_dir):
    with pytest.warns(ScalingLawsWarning, match="dropped 40 rows at D = 0"):
        return load_tasks(shared_dir / "datasets" / "downstream_evals" / "olmo_ladder_tasks.csv",
                          zero_tokens="drop")


@pytest.fixture(scope="module")
def ladder_fit(ladder):
    # CSQA's step-1 optimum has E on its bound (0; the repository's fit too): announced
    with pytest.warns(ConvergenceWarning, match="csqa_val: step 1 .chinchilla.: optimum on a "
                                                "bound for E"):
        return fit_downstream(ladder)


@pytest.fixture(scope="module")
def prepared(ladder):
    return LADDER.prepare(ladder, LADDER.tasks)


def test_the_preset_fits_the_8_tasks_on_the_16_runs(ladder_fit):
    assert ladder_fit.tasks == LADDER.tasks
    for fit in ladder_fit.fits.values():
        assert len(fit.step1_runs) == 16
        assert fit.step2_data["run_id"][-1] == "<anchor>"


@pytest.mark.parametrize("task", list(REPO_13B))
def test_13b_step1_step2_and_chained_to_4_decimals(ladder_fit, prepared, task):
    step1, step1_actual, step2, chained, actual = REPO_13B[task]
    fit = ladder_fit[task]
    seen = observed(prepared, TARGET_13B, task, LADDER.target_window)
    assert (seen["N"], seen["D"]) == (N13, D13)
    assert round(float(fit.predict_loss(N13, D13)), 4) == step1
    assert round(seen["task_loss"], 4) == step1_actual
    assert round(float(fit.predict_accuracy(seen["task_loss"])), 4) == step2
    assert round(float(fit.predict(N13, D13)), 4) == chained
    assert round(seen["accuracy"], 4) == actual


@pytest.mark.parametrize("task", list(REPO_7B))
def test_7b_predictions_to_4_decimals(ladder_fit, prepared, task):
    loss, loss_actual, chained, actual = REPO_7B[task]
    fit = ladder_fit[task]
    seen = observed(prepared, TARGET_7B, task, LADDER.target_window)
    assert (seen["N"], seen["D"]) == (N7, D7)
    assert round(float(fit.predict_loss(N7, D7)), 4) == loss
    assert round(seen["task_loss"], 4) == loss_actual
    assert round(float(fit.predict(N7, D7)), 4) == chained
    assert round(seen["accuracy"], 4) == actual


@pytest.mark.parametrize("task", list(REPO_STEP1))
def test_fitted_coefficients_as_printed(ladder_fit, task):
    # every coefficient rounds to the printed one (within half a unit of its last digit),
    # but the two NOT_AS_PRINTED, which do not (the README names them), within their own
    # tolerance
    fit = ladder_fit[task]
    ours = {**{name: fit.step1.params[name] for name in ("A", "B", "alpha", "beta", "E")},
            **{name: fit.step2.params[name] for name in ("a", "x0", "k", "b")}}
    printed = dict(zip(("A", "B", "alpha", "beta", "E", "a", "x0", "k", "b"),
                       REPO_STEP1[task] + REPO_STEP2[task]))
    for name, text in printed.items():
        exception = NOT_AS_PRINTED.get((task, name))
        if exception is None:
            assert as_printed(ours[name], text), (name, ours[name], text)
        else:
            assert not as_printed(ours[name], text), (name, "now as printed: update the README")
            assert ours[name] == pytest.approx(float(text), **exception), (name, ours[name])


def test_chained_13b_errors_are_the_published_ones(ladder_fit, prepared):
    for task, points in PUBLISHED_13B_ERRORS.items():
        seen = observed(prepared, TARGET_13B, task, LADDER.target_window)
        error = 100 * abs(float(ladder_fit[task].predict(N13, D13)) - seen["accuracy"])
        assert round(error, 1) == points, task


def test_predict_table(ladder_fit):
    frame = ladder_fit.predict(N=[N7, N13], D=[D7, D13])
    assert len(frame) == 16 and list(frame.columns) == ["task", "N", "D", "task_loss",
                                                        "accuracy"]
    row = frame[(frame.task == "piqa_val") & (frame.N == N13)].iloc[0]
    assert round(row["accuracy"], 4) == REPO_13B["piqa_val"][3]


# ----------------------------------------------------------------------------- synthetic


def _exact_preset():
    # noise-free synthetic runs: the point at each run's end, every checkpoint unsmoothed,
    # no anchor (the true curve does not pass through (0, 1))
    return preset_with(LADDER, tasks=("synthetic",), fit_runs=None, aggregates={},
                       step1_last=1, step2_drop_fraction=0.0, step2_window=1, anchor=None)


def test_exact_synthetic_two_step_data_is_recovered():
    table = synthetic_task_table(run_sd=0, checkpoint_sd=0, accuracy_sd=0, rng=0)
    fit = fit_downstream(table, _exact_preset())["synthetic"]
    for name, value in SYNTHETIC_STEP1.items():
        assert fit.step1.params[name] == pytest.approx(value, rel=1e-5), name
    for name, value in SYNTHETIC_STEP2.items():
        assert fit.step2.params[name] == pytest.approx(value, rel=1e-5), name
    truth = get_form("task_sigmoid").predict(
        SYNTHETIC_STEP2, task_loss=get_form("chinchilla").predict(SYNTHETIC_STEP1, N=N13, D=D13))
    assert float(fit.predict(N13, D13)) == pytest.approx(truth, abs=1e-6)


def test_noisy_synthetic_recovery_is_unbiased_within_monte_carlo_error():
    # 30 noisy ladders: the chained prediction at 13B scatters around the truth; its mean
    # lies within 3 standard errors of it (no bias from the block structure or smoothing)
    truth = get_form("task_sigmoid").predict(
        SYNTHETIC_STEP2, task_loss=get_form("chinchilla").predict(SYNTHETIC_STEP1, N=N7, D=D7))
    preset = preset_with(_exact_preset(), step1_options={"bounds": {"E": (0.1, None)}})
    predictions = []
    for seed in range(30):
        table = synthetic_task_table(run_sd=0.002, checkpoint_sd=0.002, accuracy_sd=0.005,
                                     rng=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            predictions.append(float(fit_downstream(table, preset)["synthetic"].predict(N7, D7)))
    predictions = np.array(predictions)
    standard_error = predictions.std(ddof=1) / np.sqrt(predictions.size)
    assert abs(predictions.mean() - truth) < 3 * standard_error + 1e-4


def test_step1_takes_any_form_fixed_and_tied():
    table = synthetic_task_table(rng=1)
    fit = fit_downstream(table, _exact_preset(),
                         step1_options={"tied": {"beta": "alpha"}, "fixed": {"E": 0.5}})
    params = fit["synthetic"].step1.params
    assert params["alpha"] == params["beta"] and params["E"] == 0.5
    kaplan = fit_downstream(table, _exact_preset(), step1_form="kaplan_nd")
    assert kaplan["synthetic"].step1.form.name == "kaplan_nd"


def test_floor_fixed_at_the_tasks_chance():
    table = synthetic_task_table(rng=2)
    fit = fit_downstream(table, _exact_preset(), step2_form="task_sigmoid_floor",
                         step2_options={"loss": "squared", "space": "linear",
                                        "fixed": {"floor": "chance"}})
    assert fit["synthetic"].step2.params["floor"] == 0.25


def test_bad_options_are_named():
    table = synthetic_task_table(rng=0)
    with pytest.raises(InputError, match="unknown option 'step3_form'"):
        fit_downstream(table, step3_form="x")
    with pytest.raises(InputError, match="step2_form 'chinchilla' does not take the task loss"):
        fit_downstream(table, _exact_preset(), step2_form="chinchilla")
    # the ladder's tasks are not in a user's table, nor its paper_role column: both said
    # at once, with what to do (it failed on the MMLU subsets, then on the query)
    table = load_tasks(table.frame.drop(columns=["paper_role", "checkpoint", "source_row"]))
    with pytest.raises(InputError, match="<DataFrame> does not hold the tasks of preset "
                                         "'ladder' \\(no 'mmlu_avg_test', 'hellaswag_val', "
                                         "'arc_challenge_test' and 5 more\\): choose the tasks to "
                                         "predict with the tasks option \\(on the command line "
                                         "--tasks TASK ...\\) among the table's: synthetic; "
                                         "and the preset fits only the runs where paper_role "
                                         "== 'ladder_fit', which this table cannot say: to fit "
                                         "every run, set fit_runs to None \\(on the command "
                                         "line --fit-runs ''\\)$"):
        fit_downstream(table)
    with pytest.raises(InputError, match="task 'mmlu_avg_test' of preset 'ladder' is the "
                                         "weighted mean of mmlu_stem_test.*no 'mmlu_stem_test'"):
        fit_downstream(table, tasks=["mmlu_avg_test"])
    with pytest.raises(InputError, match="fit_runs \\(the runs to fit, preset 'ladder'\\): "
                                         "query \"paper_role == 'ladder_fit'\" failed.*set "
                                         "fit_runs to None \\(on the command line --fit-runs "
                                         "''\\)$"):
        fit_downstream(table, tasks=["synthetic"])
    with pytest.raises(InputError, match="`step1_weights` must be None or 'N'"):
        preset_with(LADDER, step1_weights="C")


def test_a_rule_that_leaves_no_rows_says_which_and_why():
    """Step 2's first-10% rule drops the one checkpoint of a run; fit_runs may select
    nothing: each is named (it used to be "no task 'synthetic' in ...; tasks: ")."""
    frame = synthetic_task_table(rng=0).frame
    final = frame[frame["checkpoint"] == frame["checkpoint"].max()]
    table = load_tasks(final[["run_id", "N", "D", "task", "task_loss", "accuracy", "chance"]])
    with pytest.raises(InputError, match=r"step2_drop_fraction=0.1 drops the first ceil\(0.1 "
                                         r"n\) of each run's n checkpoints, which leaves no row "
                                         r"of task 'synthetic' in <DataFrame>: each of its 16 "
                                         r"runs has at most 1 checkpoint\."):
        fit_downstream(table, LADDER, tasks=["synthetic"], fit_runs=None)
    # step 2's has a flag (tasks fit --step2-drop-fraction), named beside the keyword;
    # step 1's has none
    with pytest.raises(InputError, match=r"set step2_drop_fraction to 0 \(a keyword of "
                                         r"fit_downstream; on the command line "
                                         r"--step2-drop-fraction 0\)$"):
        fit_downstream(table, LADDER, tasks=["synthetic"], fit_runs=None)
    with pytest.raises(InputError, match=r"step1_drop_fraction=0.5 .*set step1_drop_fraction "
                                         r"to 0 \(a keyword of fit_downstream\)$"):
        fit_downstream(table, _exact_preset(), step1_drop_fraction=0.5)
    with pytest.raises(InputError, match=r"fit_runs \(the runs to fit, preset 'ladder'\): "
                                         r"query 'N > 1e12' selects no row of <DataFrame>; "
                                         "to fit every run, set fit_runs to None"):
        fit_downstream(table, _exact_preset(), fit_runs="N > 1e12")


def test_a_fit_records_the_tasks_it_fitted_not_the_presets():
    # before: a fit of a user's own task recorded the ladder's eight tasks and its MMLU
    # aggregate (scalinglaws tasks fit --tasks synthetic --out preds.json wrote them)
    table = synthetic_task_table(run_sd=0, checkpoint_sd=0, accuracy_sd=0, rng=0)
    fit = fit_downstream(table, LADDER, tasks=["synthetic"], fit_runs=None)
    assert fit.preset.tasks == ("synthetic",) and dict(fit.preset.aggregates) == {}
    assert fit.preset.fit_runs is None and fit.preset.step2_drop_fraction == 0.1
    direct = fit_direct(table, LADDER, tasks=["synthetic"], fit_runs=None)
    assert direct.preset.tasks == ("synthetic",) and dict(direct.preset.aggregates) == {}
    # an aggregate that is fitted stays, with its weights
    used = LADDER.used(("mmlu_avg_test", "piqa_val"))
    assert used.tasks == ("mmlu_avg_test", "piqa_val")
    assert dict(used.aggregates["mmlu_avg_test"]) == dict(LADDER.aggregates["mmlu_avg_test"])


def test_direct_law_recovers_accuracies_that_follow_it():
    truth = {"A": 40.0, "B": 300.0, "alpha": 0.25, "beta": 0.3}
    frame = synthetic_task_table(rng=0).frame
    frame["accuracy"] = np.exp(-get_form("direct_nd").predict(truth, N=frame["N"],
                                                               D=frame["D"]))
    direct = fit_direct(load_tasks(frame.drop(columns="checkpoint")), _exact_preset())
    for name, value in truth.items():
        assert direct.fits["synthetic"].params[name] == pytest.approx(value, rel=1e-5)
    expected = np.exp(-(40 / N13 ** 0.25 + 300 / D13 ** 0.3))
    assert float(direct.predict_task("synthetic", N13, D13)) == pytest.approx(expected, rel=1e-6)


# ----------------------------------------------------------------------------- verdicts


def _reshaped(table, loss):
    """The synthetic table with task losses from ``loss(N, D)`` and accuracies through the
    true sigmoid (so step 2 stays right and only step 1 can go wrong)."""
    frame = table.frame
    frame["task_loss"] = loss(frame["N"].to_numpy(), frame["D"].to_numpy())
    frame["accuracy"] = get_form("task_sigmoid").predict(SYNTHETIC_STEP2,
                                                         task_loss=frame["task_loss"])
    return load_tasks(frame[["run_id", "N", "D", "task", "task_loss", "accuracy", "chance"]])


def test_verdict_predictable_when_the_laws_hold():
    table = synthetic_task_table(run_sd=0.001, checkpoint_sd=0.001, accuracy_sd=0.002, rng=0)
    verdict = predictability(table, _exact_preset())["synthetic"]
    assert verdict.verdict == "predictable", verdict.reason
    assert verdict.fit_sizes == (190e6, 370e6, 760e6) and verdict.held_out_size == 1.3e9
    assert verdict.scale == 1.0
    # projected to a 13B target: ln(13.2e9 / 1.3e9) / ln(1.3e9 / 760e6), by hand
    projected = predictability(table, _exact_preset(), target_N=N13)["synthetic"]
    assert projected.scale == pytest.approx(np.log(N13 / 1.3e9) / np.log(1.3e9 / 760e6))


def test_verdict_not_predictable_when_the_loss_bends_beyond_the_small_rungs():
    chinchilla = get_form("chinchilla")
    base = synthetic_task_table(run_sd=0, checkpoint_sd=0, accuracy_sd=0, rng=0)

    def bending(N, D):  # an extra drop of the task loss that switches on past 1B
        return chinchilla.predict(SYNTHETIC_STEP1, N=N, D=D) - 0.1 / (1 + (1.1e9 / N) ** 8)

    verdict = predictability(_reshaped(base, bending), _exact_preset())["synthetic"]
    assert verdict.verdict == "not predictable", verdict.reason
    assert verdict.rollout_error > 2


def test_verdict_noisy_when_checkpoints_scatter():
    table = synthetic_task_table(accuracy_sd=0.05, rng=0)
    verdict = predictability(table, _exact_preset())["synthetic"]
    assert verdict.verdict == "noisy", verdict.reason
    # the measured noise is the accuracy noise put in (5 points), within sampling error
    # (160 second differences: a relative standard error near 10%)
    assert verdict.noise == pytest.approx(5.0, rel=0.2)


def test_checkpoint_noise_ignores_a_trend():
    frame = pd.DataFrame({"run_id": "a", "N": 1e9, "D": np.arange(1, 21) * 1e9,
                          "task": "t", "accuracy": np.linspace(0.3, 0.5, 20)})
    assert checkpoint_noise(load_tasks(frame), "t") < 1e-10


# Which tasks the ladder actually mispredicts (chained error above the 2-point tolerance)
# against the verdicts for each target's N, as the README states: on the 13B 6 of 8 agree,
# on the 7B 5 of 8; every misprediction is flagged, and the disagreements are false alarms
# (PIQA and SocialIQa on both, HellaSwag on the 7B).
README_AGREEMENT = {TARGET_13B: (N13, 6), TARGET_7B: (N7, 5)}


def test_verdicts_against_the_actual_mispredictions(ladder, ladder_fit, prepared):
    for run, (size, agreeing) in README_AGREEMENT.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            verdicts = predictability(ladder, target_N=size)
        matches = 0
        for task, verdict in verdicts.items():
            seen = observed(prepared, run, task, LADDER.target_window)
            missed = 100 * abs(float(ladder_fit[task].predict(seen["N"], seen["D"]))
                               - seen["accuracy"]) > verdict.tolerance
            matches += missed == (verdict.verdict != "predictable")
            assert verdict.verdict != "predictable" or not missed, (run, task)
        assert matches == agreeing, run


# ----------------------------------------------------------------------------- beyond


def test_variants_chosen_on_7b_and_reported_on_13b(ladder):
    """The README's "beyond the reference" table: mean absolute chained error over the 8
    tasks, in points, to 2 decimals; the variant is chosen on the 7B alone."""
    with warnings.catch_warnings():
        # CSQA's E on its bound, and the direct law's B-beta ridge on the ladder
        warnings.simplefilter("ignore", ScalingLawsWarning)
        frame = compare_variants(ladder, {"7B": TARGET_7B, "13B": TARGET_13B}, choose_on="7B")
    mean = frame.groupby("variant", sort=False)[["7B_error", "13B_error"]].agg(
        lambda e: np.mean(np.abs(e))).round(2)
    assert mean.loc["published"].tolist() == [3.82, 4.17]
    chosen = frame.loc[frame["chosen"], "variant"].iloc[0]
    assert chosen == "step 1 weighted by N"
    assert mean.loc[chosen].tolist() == [2.40, 2.85]
    assert mean.loc["every ladder run"].tolist() == [3.00, 3.11]
    assert mean.loc["direct law"].tolist() == [3.48, 3.38]
    # the three other rows of the README table
    assert mean.loc["every ladder run, direct law"].tolist() == [3.39, 3.45]
    assert mean.loc["step 1 on checkpoints"].tolist() == [3.64, 3.95]
    assert mean.loc["floor at chance"].tolist() == [3.51, 4.31]
    errors = frame[frame["chosen"]].set_index("task")["13B_error"].abs().round(1)
    assert errors[["arc_challenge_test", "arc_easy_test", "hellaswag_val",
                   "socialiqa_val"]].tolist() == [1.8, 6.3, 4.4, 2.6]


def test_the_readme_example_says_what_the_readme_says():
    """The README's example (a synthetic ladder): truth 0.7353 at 7B / 140B tokens; the fit
    says 0.7491 [0.734, 0.765] (200 resamples, seed 0), predictable."""
    from scalinglaws.analysis.downstream_predict import predict_tasks

    frame = synthetic_task_table(run_sd=0.001, checkpoint_sd=0.001, rng=0).frame
    table = load_tasks(frame[["run_id", "N", "D", "task", "task_loss", "accuracy", "chance"]])
    fit = fit_downstream(table, tasks=["synthetic"], fit_runs=None)
    row = predict_tasks(fit, N=7e9, D=1.4e11, n_resamples=200, rng=0, verdicts=True)["synthetic"]
    truth = get_form("task_sigmoid").predict(
        SYNTHETIC_STEP2, task_loss=get_form("chinchilla").predict(SYNTHETIC_STEP1, N=7e9, D=1.4e11))
    assert round(float(truth), 4) == 0.7353
    assert (round(row["accuracy"], 4), round(row["accuracy_low"], 3),
            round(row["accuracy_high"], 3)) == (0.7491, 0.734, 0.765)
    assert row["verdict"] == "predictable"
