"""What C = k N D an IsoFLOP analysis states (scalinglaws.fitting.isoflop, outputs.io.isoflop).

Before: ``IsoFLOPResult.flops_per_token``, ``predict_optimal``'s ``attrs`` and the JSON
document said k = 6, the loader's default, even when D* was the runs' own C/(N D) at N*
(``flop_model`` "runs": their logged C is not 6 N D) or the user's FLOP model ("flops"),
so that no one k made D*. Now, as the envelope's version 2 does, ``flops_per_token`` is
None there and ``flops_per_token_range`` gives C/(N_opt D_opt) over the used budgets: in
the result, ``predict_optimal``'s ``attrs``, the summary and the document (version 2),
which loads back; a version 1 document, whose number there was the runs' unused k, loads
as no k.

Expected ratios are computed by hand, from the FLOP formula the runs were made with or
from the budget table's C, N_opt and D_opt, never taken from the result's own range.
"""

import json
import warnings
from importlib import resources

import jsonschema
import numpy as np
import pandas as pd
import pytest

from scalinglaws import InputError, ScalingLawsWarning
from scalinglaws.fitting.isoflop import SCHEMA_VERSION, isoflop_fit
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.synthetic import DEFAULT_TRUTH
from scalinglaws.outputs.io.isoflop import isoflop_from_dict, load_isoflop

TRUTH = DEFAULT_TRUTH["chinchilla"]
A_TRUE = TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])
BUDGETS = (1e19, 1e20, 1e21)
CONTEXT_SIZE = 1e7  # N at which attention FLOPs equal the 6N of the weights


def optimum(c):
    """The true compute-optimal N at budget ``c`` when C = 6ND (Hoffmann Eq 4)."""
    G = (TRUTH["alpha"] * TRUTH["A"] / (TRUTH["beta"] * TRUTH["B"])) ** (
        1 / (TRUTH["alpha"] + TRUTH["beta"]))
    return G * (np.asarray(c, float) / 6) ** A_TRUE


def per_token(N):
    """FLOP per parameter and token with attention: 6 (1 + (N0/N)^(1/3)), N0 = 1e7 (7.3 at
    1e9 parameters, 7.9 at 3.2e8: far from 6 at the sizes of these budgets), a smooth
    stand-in for Kaplan et al.'s (2020, Table 1) 6 n_layer n_ctx d_attn per token."""
    return 6 * (1 + (CONTEXT_SIZE / np.asarray(N, float)) ** (1 / 3))


def attention_flops(N, D):
    """The user's FLOP model of the attention runs (proportional to D)."""
    return per_token(N) * np.asarray(N, float) * np.asarray(D, float)


def eight(N):
    return np.full(np.shape(N), 8.0)


def six(N):
    return np.full(np.shape(N), 6.0)


def sweep(k=per_token, budgets=BUDGETS, n_sizes=9, sizes=(0.1, 10.0)):
    """Runs at exact budgets whose logged C is k(N) N D, sizes ``sizes`` times the
    optimum, losses of the Chinchilla truth at their own D."""
    rows = [(n, c) for c in budgets for n in optimum(c) * np.geomspace(*sizes, n_sizes)]
    frame = pd.DataFrame(rows, columns=["N", "C"])
    frame["D"] = frame["C"] / (k(frame["N"].to_numpy()) * frame["N"])
    frame["loss"] = get_form("chinchilla").predict(TRUTH, N=frame["N"].to_numpy(),
                                                   D=frame["D"].to_numpy())
    return frame[["N", "D", "C", "loss"]]


def by_hand(result):
    """C/(N_opt D_opt) of the used budgets, from the table's own columns."""
    used = result.budgets.loc[lambda t: t["used"]]
    return (used["C"] / (used["N_opt"] * used["D_opt"])).to_numpy(float), used


@pytest.fixture(scope="module")
def analyses():
    attention = sweep()
    return {"runs": isoflop_fit(attention),
            "flops": isoflop_fit(attention, flops=attention_flops),
            "resampled": isoflop_fit(attention, n_resamples=20, rng=0, flops=attention_flops),
            "eight": isoflop_fit(sweep(eight)),
            "exact": isoflop_fit(sweep(six))}


def _shipped() -> dict:
    return json.loads(resources.files("scalinglaws").joinpath("schema/isoflop.schema.json")
                      .read_text())


def _edited(doc, change):
    copy = json.loads(json.dumps(doc))
    change(copy)
    return copy


# ----------------------------------------------------------------------------- the result
@pytest.mark.parametrize("name", ["runs", "flops"])
def test_no_k_is_stated_when_d_did_not_come_from_one_k(analyses, name):
    result = analyses[name]
    assert result.flop_model == name
    assert result.flops_per_token is None  # was 6.0, the loader's default
    ratios, used = by_hand(result)
    assert result.flops_per_token_range == pytest.approx((ratios.min(), ratios.max()),
                                                         rel=1e-12)
    # and that is the runs' FLOP formula at N_opt: exactly with the user's model; with the
    # runs' own ratio interpolated in ln N, within the 1% test_budgets.py bounds it by
    formula = per_token(used["N_opt"])
    low, high = result.flops_per_token_range
    assert (low, high) == pytest.approx((formula.min(), formula.max()),
                                        rel=1e-12 if name == "flops" else 1e-2)
    assert low > 6.5 and high > low  # far from 6, and not one number


def test_one_ratio_that_is_not_the_runs_k_is_a_range_of_one_value(analyses):
    # C = 8 N D for every run, loaded with the default k = 6: D* is the runs' own ratio, 8;
    # given as k, 8 is k
    result = analyses["eight"]
    assert (result.flop_model, result.flops_per_token) == ("runs", None)
    assert result.flops_per_token_range == pytest.approx((8.0, 8.0), rel=1e-12)
    with_k = isoflop_fit(sweep(eight), flops_per_token=8.0)
    assert (with_k.flop_model, with_k.flops_per_token) == ("flops_per_token", 8.0)
    assert with_k.flops_per_token_range is None
    exact = analyses["exact"]
    assert (exact.flop_model, exact.flops_per_token, exact.flops_per_token_range) == (
        "flops_per_token", 6.0, None)


def test_the_range_is_over_the_used_budgets_only():
    # a fourth budget swept off-centre (sizes 3x-30x its optimum) is excluded: its row has
    # no N_opt, and it must not enter (nor NaN) the range
    frame = pd.concat([sweep(), sweep(budgets=(3e20,), sizes=(3.0, 30.0))],
                      ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingLawsWarning)  # the excluded budget's warning
        result = isoflop_fit(frame, flops=attention_flops)
    assert result.n_budgets_excluded == 1
    ratios, _ = by_hand(result)
    assert len(ratios) == 3 and np.isfinite(ratios).all()
    assert result.flops_per_token_range == pytest.approx((ratios.min(), ratios.max()),
                                                         rel=1e-12)


@pytest.mark.parametrize("name", ["runs", "flops", "resampled"])
def test_predict_optimal_states_no_k_and_uses_none(analyses, name):
    result = analyses[name]
    ratios, used = by_hand(result)
    for interval in ("t", "auto"):
        table = result.predict_optimal(used["C"].to_numpy(), interval=interval)
        assert table.attrs["flops_per_token"] is None
        assert table.attrs["flops_per_token_range"] == pytest.approx(
            [ratios.min(), ratios.max()], rel=1e-12)
        # D follows the fitted line of the budgets' own D*, not C/(6 N): at the budgets the
        # allocation's C/(N D) is the optima's, to the lines' misfit
        ratio = table["C"] / (table["N"] * table["D"])
        np.testing.assert_allclose(ratio, ratios, rtol=0.03)
        assert (ratio > 6.5).all()
        np.testing.assert_allclose(table["tokens_per_parameter"], table["D"] / table["N"],
                                   rtol=1e-12)


def test_predict_optimal_with_one_ratio_keeps_it_at_a_new_budget(analyses):
    # C = 8 N D exactly: the line of ln D* is ln C - ln 8 - ln N*, so at any budget the
    # allocation spends C = 8 N D (6 N D would have 4/3 the tokens)
    table = analyses["eight"].predict_optimal([1e22, 1e24])
    np.testing.assert_allclose(table["C"] / (table["N"] * table["D"]), 8.0, rtol=1e-9)
    assert table.attrs["flops_per_token"] is None
    assert table.attrs["flops_per_token_range"] == pytest.approx([8.0, 8.0], rel=1e-12)
    exact = analyses["exact"].predict_optimal(1e22)
    assert exact.attrs["flops_per_token"] == 6.0 and "flops_per_token_range" not in exact.attrs


def test_the_summary_says_what_c_per_parameter_and_token_was(analyses):
    result = analyses["runs"]
    ratios, _ = by_hand(result)
    line = next(line for line in result.summary().splitlines() if "C/(N_opt D_opt)" in line)
    assert f"{ratios.min():.4g}" in line and f"{ratios.max():.4g}" in line
    assert "no one k" in line
    assert "C/(N_opt D_opt)" not in analyses["exact"].summary()


def test_grouped_analyses_state_each_group_s_own(analyses):
    frame = pd.concat([sweep(six).assign(recipe="exact"), sweep().assign(recipe="attention")],
                      ignore_index=True)
    grouped = isoflop_fit(frame, groups="recipe")
    assert grouped["exact"].flops_per_token == 6.0
    assert grouped["attention"].flops_per_token is None
    ratios, _ = by_hand(grouped["attention"])
    doc = json.loads(json.dumps(grouped.to_dict()))
    documents = {g["group"]: g for g in doc["groups"]}
    assert documents["exact"]["flops_per_token"] == 6.0
    assert "flops_per_token_range" not in documents["exact"]
    assert documents["attention"]["flops_per_token"] is None
    assert documents["attention"]["flops_per_token_range"] == pytest.approx(
        [ratios.min(), ratios.max()], rel=1e-12)


# ----------------------------------------------------------------------------- the document
@pytest.mark.parametrize("name", ["runs", "flops", "resampled", "eight", "exact"])
def test_the_version_2_document_round_trips(analyses, name, tmp_path):
    result = analyses[name]
    doc = json.loads(result.to_json())
    assert (doc["kind"], doc["schema_version"]) == ("scalinglaws.isoflop", 2)
    assert SCHEMA_VERSION == 2
    if name == "exact":
        assert doc["flops_per_token"] == 6.0 and "flops_per_token_range" not in doc
    else:
        ratios, _ = by_hand(result)
        assert doc["flops_per_token"] is None
        assert doc["flops_per_token_range"] == pytest.approx([ratios.min(), ratios.max()],
                                                             rel=1e-12)
    jsonschema.validate(doc, _shipped())  # an independent validator accepts it
    path = tmp_path / "isoflop.json"
    result.save(path)
    loaded = load_isoflop(path)
    assert loaded.to_dict() == result.to_dict()
    assert loaded.flops_per_token == result.flops_per_token
    assert loaded.flops_per_token_range == result.flops_per_token_range
    for interval in ("t", "auto"):
        theirs = result.predict_optimal([1e19, 1e22], interval=interval)
        ours = loaded.predict_optimal([1e19, 1e22], interval=interval)
        pd.testing.assert_frame_equal(ours, theirs)
        assert ours.attrs == theirs.attrs
    assert loaded.summary() == result.summary()


@pytest.mark.parametrize("name", ["runs", "flops", "exact"])
def test_a_version_1_document_still_loads(analyses, name):
    """Version 1 wrote the loader's k (6.0) whatever the flop model, and no range: it loads,
    as no k where D* did not come from one (its range follows from its table)."""
    result = analyses[name]
    old = _edited(result.to_dict(), lambda d: (d.update(schema_version=1, flops_per_token=6.0),
                                               d.pop("flops_per_token_range", None)))
    jsonschema.validate(old, _shipped())  # the shipped schema describes both versions
    loaded = isoflop_from_dict(old)
    assert loaded.flops_per_token == (6.0 if name == "exact" else None)
    assert loaded.flops_per_token_range == result.flops_per_token_range
    assert loaded.to_dict() == result.to_dict()  # written again as version 2


def _refused(doc, message):
    with pytest.raises(InputError, match=rf"IsoFLOP JSON: .*{message}"):
        isoflop_from_dict(doc)


def test_a_document_contradicting_its_flop_model_is_refused(analyses):
    doc = analyses["runs"].to_dict()
    _refused(_edited(doc, lambda d: d.update(flops_per_token=6.0)),
             r"field flops_per_token must be null with flop_model 'runs'")
    _refused(_edited(doc, lambda d: d.pop("flops_per_token_range")),
             r"field flops_per_token_range is missing \(flop_model 'runs'\)")
    _refused(_edited(doc, lambda d: d.update(flops_per_token_range=[6.0, 7.0])),
             r"field flops_per_token_range must be the lowest and highest C/\(N_opt D_opt\) "
             r"of the used budgets")
    flops = analyses["flops"].to_dict()
    _refused(_edited(flops, lambda d: d.update(flops_per_token=6.0)),
             r"field flops_per_token must be null with flop_model 'flops'")
    exact = analyses["exact"].to_dict()
    _refused(_edited(exact, lambda d: d.update(flops_per_token=None)),
             r"field flops_per_token must be k of C = k N D \(flop_model 'flops_per_token'\)")
    _refused(_edited(exact, lambda d: d.update(flops_per_token_range=[6.0, 6.0])),
             r"field flops_per_token_range is for flop_model 'runs' or 'flops'")
    _refused(_edited(exact, lambda d: d.update(flops_per_token=7.0)),
             r"field flops_per_token must be C/\(N_opt D_opt\) of every used budget with "
             r"flop_model 'flops_per_token' \(6-6\), got 7.0")
    # the ratios the range and k are checked against are the rows' own C/(N_opt D_opt)
    _refused(_edited(doc, lambda d: d["budgets"][1].update(flops_per_token=6.0)),
             r"field budgets\[1\].flops_per_token must be C/\(N_opt D_opt\) = 7\.")
    _refused(_edited(doc, lambda d: d.update(schema_version=3)),
             r"schema_version 3 is not supported")
