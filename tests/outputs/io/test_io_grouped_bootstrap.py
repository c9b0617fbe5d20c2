"""Tests of outputs/io/grouped_bootstrap.py: a grouped bootstrap
(:func:`scalinglaws.bootstrap_groups`) read back from the JSON its ``save`` writes, every
field checked before a result is built.

A loaded bootstrap is compared with the one saved (its document, its draws, each group's
intervals, a statistic of several groups, and a comparison drawn from it), never with
numbers copied from the loader's output; expected messages follow the documented wording.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.outputs.io.grouped_bootstrap import (grouped_bootstrap_from_dict,
                                                      grouped_bootstrap_from_json,
                                                      load_grouped_bootstrap)
from scalinglaws.uncertainty.grouped import GroupedBootstrapResult, bootstrap_groups

GROUPS = ["baseline", "new"]


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)  # few resamples, on purpose
        return call(*args, **kwargs)


@pytest.fixture(scope="module")
def frame():
    return pd.concat([sl.generate_sweep(rng=i).to_frame().assign(recipe=name)
                      for i, name in enumerate(GROUPS)])


@pytest.fixture(scope="module")
def joint(frame):
    return sl.fit(frame, groups="recipe", shared=["alpha", "beta"])


@pytest.fixture(scope="module")
def boot(joint, frame):
    return _quiet(bootstrap_groups, joint, frame, 40, rng=0)


@pytest.fixture(scope="module")
def degenerate():
    """A group of 5 runs for its 3 own parameters: some resamples cannot identify it and
    are left out (null rows in its draws, counted in n_degenerate)."""
    big = sl.generate_sweep(rng=0).to_frame().assign(recipe="big")
    small = sl.generate_sweep(rng=1).to_frame()
    small = small.iloc[np.linspace(0, len(small) - 1, 5).round().astype(int)]
    frame = pd.concat([big, small.assign(recipe="small")])[["N", "D", "loss", "recipe"]]
    joint = _quiet(sl.fit, frame, groups="recipe", shared=["alpha", "beta"])
    return _quiet(bootstrap_groups, joint, frame, 40, rng=0)


@pytest.fixture
def doc(boot):
    return json.loads(boot.to_json())


def _difference_of_e(params):
    return params["new"]["E"] - params["baseline"]["E"]


def _same_bootstrap(loaded, boot):
    assert isinstance(loaded, GroupedBootstrapResult)
    assert loaded.to_dict(include_draws=True) == boot.to_dict(include_draws=True)
    np.testing.assert_array_equal(loaded.draws, boot.draws)  # NaN where a refit was left out
    assert (loaded.form, loaded.groups, loaded.shared) == (boot.form, boot.groups, boot.shared)
    assert dict(loaded.n_failed) == dict(boot.n_failed)
    assert dict(loaded.n_degenerate) == dict(boot.n_degenerate)
    for group in boot.groups:
        ours, theirs = loaded.group(group), boot.group(group)
        assert ours.intervals == theirs.intervals
        assert ours.summary() == theirs.summary()
        ours, theirs = (b.predict(N=7e10, D=1.4e12) for b in (ours, theirs))
        assert (ours.loss, ours.low, ours.high) == (theirs.loss, theirs.low, theirs.high)


@pytest.mark.parametrize("name", ["boot", "degenerate"])
def test_a_saved_bootstrap_loads_back_as_it_was(request, name, tmp_path):
    boot = request.getfixturevalue(name)
    path = tmp_path / "grouped_bootstrap.json"
    boot.save(path)
    _same_bootstrap(load_grouped_bootstrap(path), boot)
    _same_bootstrap(grouped_bootstrap_from_json(boot.to_json()), boot)
    assert sl.load_grouped_bootstrap is load_grouped_bootstrap


def test_a_statistic_of_several_groups_has_the_same_interval(boot, doc):
    loaded = grouped_bootstrap_from_dict(doc)
    assert loaded.interval(_difference_of_e) == boot.interval(_difference_of_e)


def test_a_comparison_drawn_from_the_loaded_draws_is_the_same(frame, tmp_path):
    separate = sl.fit(frame, groups="recipe")
    boot = _quiet(bootstrap_groups, separate, frame, 30, rng=1)
    path = tmp_path / "separate.json"
    boot.save(path)
    kwargs = {"runs": frame, "bootstrap": None, "budgets": [1e21], "n_resamples": 30}
    ours = _quiet(sl.compare, separate, **{**kwargs, "bootstrap": load_grouped_bootstrap(path)})
    theirs = _quiet(sl.compare, separate, **{**kwargs, "bootstrap": boot})
    assert ours.to_dict() == theirs.to_dict()


def test_the_document_names_itself_and_its_law(boot):
    doc = boot.to_dict(include_draws=True)
    assert (doc["kind"], doc["schema_version"]) == ("scalinglaws.grouped_bootstrap", 1)
    assert doc["package_version"] == sl.__version__
    assert doc["form"]["name"] == "chinchilla"
    assert [entry["group"] for entry in doc["point"]] == GROUPS
    assert "draws" not in boot.to_dict()  # the summary without draws, as before


def test_saving_replaces_only_a_grouped_bootstrap(boot, tmp_path):
    table = tmp_path / "runs.csv"
    table.write_text("N,D,loss\n")
    with pytest.raises(InputError, match="`path`"):
        boot.save(table)
    assert table.read_text() == "N,D,loss\n"
    path = tmp_path / "b.json"
    boot.save(path)
    boot.save(path)  # the same kind: replaced unasked


# ------------------------------------------------------------------ with the fit
def test_the_fit_given_checks_the_point_and_fills_what_older_documents_lack(boot, joint, doc):
    _same_bootstrap(grouped_bootstrap_from_dict(doc, fit=joint), boot)
    # GroupedBootstrapResult.to_dict before it named itself, its law and its point, and
    # (earlier) before it recorded n_degenerate, k and the restriction
    older = {key: value for key, value in doc.items()
             if key not in ("kind", "schema_version", "package_version", "form", "point",
                            "n_degenerate", "flops_per_token", "restriction")}
    with pytest.raises(InputError, match=r"^old.json: field form is missing: a grouped "
                                         r"bootstrap written before it held its law and "
                                         r"point estimates loads with its grouped fit "
                                         r"\(fit=\)"):
        grouped_bootstrap_from_dict(older, source="old.json")
    _same_bootstrap(grouped_bootstrap_from_dict(older, fit=joint), boot)


def test_a_fit_with_other_parameters_or_groups_is_refused(boot, joint, doc, frame):
    # the same model fitted to other losses: other parameters
    other = sl.fit(frame.assign(loss=frame["loss"] * 1.001), groups="recipe",
                   shared=["alpha", "beta"])
    with pytest.raises(InputError, match=r"^m.json: field point\[0\].params.E is .* but "
                                         r"params.E is .*: the section was computed for other "
                                         r"parameters"):
        grouped_bootstrap_from_dict(doc, fit=other, source="m.json")
    with pytest.raises(InputError, match=r"^m.json: field shared is \('alpha', 'beta'\), but "
                                         r"the fit's is \(\)"):
        grouped_bootstrap_from_dict(doc, fit=sl.fit(frame, groups="recipe"), source="m.json")
    for key, value, message in (
            ("restriction", "tie", r"field restriction = 'tie' disagrees with the fit's ties "
                                   r"and fixed parameters, which make it ''"),
            ("flops_per_token", 8.0, r"field flops_per_token = 8.0 disagrees with the fit's "
                                     r"flops_per_token 6.0")):
        with pytest.raises(InputError, match="^m.json: " + message):
            grouped_bootstrap_from_dict({**doc, key: value}, fit=joint, source="m.json")
    renamed = frame.assign(recipe=frame["recipe"].map({"baseline": "a", "new": "b"}))
    with pytest.raises(InputError, match=r"^m.json: field n_failed names the groups "
                                         r"\['baseline', 'new'\], but the fit's are "
                                         r"\['a', 'b'\]"):
        grouped_bootstrap_from_dict(doc, fit=sl.fit(renamed, groups="recipe",
                                                    shared=["alpha", "beta"]), source="m.json")
    with pytest.raises(InputError, match=r"^m.json: `fit` must be a GroupedFitResult"):
        grouped_bootstrap_from_dict(doc, fit=other["new"], source="m.json")


# ------------------------------------------------------------------ what is refused
def _refused(doc, message):
    with pytest.raises(InputError, match="^m.json: " + message):
        grouped_bootstrap_from_json(json.dumps(doc), source="m.json")


def _edited(doc, change):
    doc = json.loads(json.dumps(doc))
    change(doc)
    return doc


def _draws(doc, group=1):
    return doc["draws"][group]["draws"]


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(method="bca"), r"field method must be one of percentile, got 'bca'"),
    (lambda d: d.update(confidence_level=1.5), r"field confidence_level must be a number in "
                                               r"\(0, 1\), got 1.5"),
    (lambda d: d.update(seed=1.5), r"field seed must be a non-negative integer or null"),
    (lambda d: d.update(n_resamples=39), r"field draws\[0\].draws must have 39 rows \(one per "
                                         r"resample, n_resamples\), got 40"),
    (lambda d: d.update(group_column=3), r"field group_column must be a column name, got 3"),
    (lambda d: d.update(shared=["gamma"]), r"field shared\[0\] = 'gamma' is not a parameter of "
                                           r"form 'chinchilla'"),
    (lambda d: d.update(param_names=["E"]), r"field param_names must be \['E', 'A', 'B', "
                                            r"'alpha', 'beta'\]"),
    (lambda d: d.update(restriction="ties"), r"field restriction must be one of '', 'tie', "),
    (lambda d: d.update(flops_per_token=0), r"field flops_per_token must be a positive number"),
    (lambda d: d.pop("draws"), r"field draws is missing: GroupedBootstrapResult.to_dict\(\) "
                               r"leaves the draws out; save\(\) and "
                               r"to_dict\(include_draws=True\) write them"),
    (lambda d: d["draws"].reverse(), r"field draws\[0\].group must be 'baseline' \(the groups "
                                     r"in the order of n_failed\), got 'new'"),
    (lambda d: d["point"].reverse(), r"field point\[0\].group must be 'baseline'"),
    (lambda d: d["n_failed"].append({"group": "new", "n_failed": 0}),
     r"field n_failed\[2\].group repeats group 'new'"),
    (lambda d: d["n_failed"][1].update(n_failed=41), r"field n_failed\[1\].n_failed = 41 plus "
                                                     r"n_degenerate 0 exceeds n_resamples 40"),
    (lambda d: d["point"][1]["params"].update(alpha=0.3), r"field point\[1\].params.alpha = 0.3 "
                                                          r"differs from group 'baseline''s"),
    (lambda d: _draws(d)[3].__setitem__(3, 0.3), r"field draws\[1\].draws\[3\] differs from "
                                                 r"group 'baseline''s in the shared alpha"),
    (lambda d: _draws(d)[3].__setitem__(0, None), r"field draws\[1\].draws\[3\] must be 5 "
                                                  r"numbers \(a refit\) or 5 nulls \(none\)"),
    (lambda d: _draws(d).__setitem__(3, [None] * 5),
     r"field draws\[1\].draws has 1 rows without a refit, but n_failed \(0\) plus n_degenerate "
     r"\(0\) of group 'new' say 0"),
    (lambda d: d["point"][0]["params"].pop("E"), r"field point\[0\].params must give E, A, B, "
                                                 r"alpha, beta"),
    (lambda d: d.update(surprise=1), r"field surprise is not a known field"),
    (lambda d: d.update(schema_version=2), r"schema_version 2 is not supported"),
    (lambda d: d["form"].update(name="nope"), r"field form.name: "),
])
def test_a_bad_field_is_refused_naming_the_file_and_the_field(doc, change, message):
    _refused(_edited(doc, change), message)


def test_another_kind_of_document_is_named_with_its_loader(doc, joint, tmp_path):
    _refused(joint.to_dict(), r"this is a scalinglaws grouped fit file \(kind "
                              r"'scalinglaws.grouped_fit'\), not a grouped bootstrap; .*read a "
                              r"grouped fit with scalinglaws.load_grouped")
    path = tmp_path / "b.json"
    path.write_text(json.dumps(doc))
    hint = r"read a grouped bootstrap with scalinglaws.load_grouped_bootstrap"
    with pytest.raises(InputError, match=r"grouped bootstrap file .*" + hint):
        sl.load(path)
    with pytest.raises(InputError, match=hint):
        sl.load_grouped(path)


def test_text_that_is_not_json_numbers_is_refused(doc):
    text = json.dumps(doc).replace('"n_resamples": ', '"n_resamples": NaN, "x": ', 1)
    with pytest.raises(InputError, match=r"^m.json: .*NaN"):
        grouped_bootstrap_from_json(text, source="m.json")
    with pytest.raises(InputError, match=r"^m.json: expected a JSON object, got list"):
        grouped_bootstrap_from_dict([doc], source="m.json")
