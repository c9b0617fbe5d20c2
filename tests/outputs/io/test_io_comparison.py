"""Comparison documents read back (scalinglaws.outputs.io.comparison)."""

from __future__ import annotations

import json
import math
import warnings

import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.fitting.isoflop_groups import GroupedIsoFLOPResult
from scalinglaws.outputs.io.comparison import comparison_from_dict, load_comparison


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)  # small sweeps' caveats
        return function(*args, **kwargs)


@pytest.fixture(scope="module")
def frame():
    return pd.concat([sl.generate_sweep(rng=i).to_frame().assign(recipe=name)
                      for i, name in enumerate(["base", "new", "other"])], ignore_index=True)


@pytest.fixture(scope="module")
def parametric(frame):
    return quiet(sl.compare, frame, "base", groups="recipe", n_resamples=20, rng=3,
                 pairs="all", progress=False)


@pytest.fixture(scope="module")
def isoflop(frame):
    grouped = quiet(sl.isoflop_fit, frame, groups="recipe", budget="budget")
    return quiet(sl.compare, grouped, "base", budgets=[1e21, 1e22], confidence_level=0.9)


def _same(loaded, result):
    """Everything the document holds comes back: the document, the text, the tables
    (NaN where the result had NaN) and the fit's own document."""
    assert loaded.to_dict() == result.to_dict()
    assert loaded.summary() == result.summary()
    for name in ("table_estimates", "table_differences", "table_multipliers"):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(result, name))
        assert getattr(loaded, name).attrs == getattr(result, name).attrs


@pytest.mark.parametrize("which", ["parametric", "isoflop"])
def test_a_saved_comparison_reads_back_the_same(which, request, tmp_path):
    result = request.getfixturevalue(which)
    path = tmp_path / "comparison.json"
    result.save(path)
    loaded = sl.load_comparison(path)
    _same(loaded, result)
    assert type(loaded.fit) is type(result.fit)
    if which == "isoflop":
        assert isinstance(loaded.fit, GroupedIsoFLOPResult)
        pd.testing.assert_frame_equal(loaded.fit.exponents, result.fit.exponents)
    else:  # the grouped fit predicts what the one that was saved predicts
        for group in result.groups:
            assert (loaded.fit.results[group].params == result.fit.results[group].params)
    assert loaded.separate is None and loaded.draws is None  # not in the document


def test_the_cli_document_reads_back(frame, tmp_path, capsys):
    table = tmp_path / "runs.csv"
    frame.to_csv(table, index=False)
    out = tmp_path / "comparison.json"
    from scalinglaws.outputs.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        assert main(["compare", str(table), "--group", "recipe", "--reference", "base",
                     "--bootstrap", "20", "--seed", "0", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    loaded = load_comparison(out)
    assert loaded.groups == ("base", "new", "other") and loaded.n_resamples == 20
    # the multipliers the command printed are the ones read back
    for row in loaded.multipliers:
        assert f"{row['multiplier']:.4g} [{row['multiplier_low']:.4g}" in printed


def test_a_non_finite_number_comes_back_as_nan(parametric):
    doc = parametric.to_dict()
    doc["multipliers"][0]["multiplier_high"] = None  # what to_plain writes for inf or NaN
    loaded = comparison_from_dict(doc)
    assert math.isnan(loaded.multipliers[0]["multiplier_high"])


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(kind="scalinglaws.isoflop"),
     r"IsoFLOP.*not a comparison.*load_isoflop"),
    (lambda d: d.update(schema_version=99), "schema_version 99 is not supported"),
    (lambda d: d.pop("estimates"), "field estimates is missing"),
    (lambda d: d.update(approach="bayesian"), "field approach must be one of"),
    (lambda d: d.update(reference="nobody"), "field reference = 'nobody' is not one of"),
    (lambda d: d["differences"][1].pop("p_adjusted"), r"field differences\[1\] lacks .*p_adjusted"),
    (lambda d: d["estimates"][0].update(value="big"),
     r"field estimates\[0\].value must be a number or null"),
    (lambda d: d.update(confidence_level=95), "field confidence_level must be a number in"),
    (lambda d: d["fit"].update(form={"name": "no such form"}), r"\(field fit\)"),
    # review s38: each of these loaded (or crashed later, in a figure)
    (lambda d: d.update(schema_version="1"), "field schema_version must be an integer"),
    (lambda d: d.update(schema_version=-3), "field schema_version must be an integer"),
    (lambda d: d.update(extra=1), r"unknown field\(s\) extra"),
    (lambda d: d.update(groups=["base", "base", "new"]), "field groups names a group twice"),
    (lambda d: d.update(groups=[["base"], "new", "other"]), "field groups must be a non-empty"),
    (lambda d: d.update(package_version=3), "field package_version must be text"),
    (lambda d: d["differences"][0].update(differs="yes"), r"differences\[0\].differs must be"),
    (lambda d: d["estimates"][0].update(quantity=1), r"estimates\[0\].quantity must be text"),
])
def test_a_bad_document_is_refused_naming_the_field(parametric, change, message):
    doc = json.loads(parametric.to_json())
    change(doc)
    with pytest.raises(InputError, match=message):
        comparison_from_dict(doc, source="c.json")


def test_other_loaders_name_this_one(parametric, tmp_path):
    path = tmp_path / "comparison.json"
    parametric.save(path)
    with pytest.raises(InputError, match=r"not a fit.* scalinglaws.load_comparison"):
        sl.load(path)


def test_a_fit_of_other_groups_is_refused(parametric, isoflop):
    """Review s38: a document whose fit held other groups loaded, and its figure failed
    with a KeyError; an IsoFLOP fit's list-valued group raised a bare TypeError."""
    doc = json.loads(parametric.to_json())
    doc["groups"] = ["base", "new", "zzz"]
    doc["reference"] = "base"
    with pytest.raises(InputError, match=r"field fit holds the groups .* not the compared"):
        comparison_from_dict(doc, source="c.json")
    doc = json.loads(isoflop.to_json())
    doc["fit"]["groups"][0]["group"] = ["base"]
    with pytest.raises(InputError, match=r"field fit.groups must be a list of IsoFLOP"):
        comparison_from_dict(doc, source="c.json")
