"""Tests of scalinglaws.outputs.io.uncertainty: a calibrated law's document read back."""

from __future__ import annotations

import json

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.uncertainty.calibrated import calibrate


@pytest.fixture(scope="module")
def tied_law():
    runs = sl.generate_sweep(params={"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478,
                                     "beta": 0.30}, rng=3)
    return calibrate(sl.fit(runs, preset="extrapolate"), runs, n_resamples=0, progress=False)


def test_a_tied_law_keeps_its_ties_bias_allowance_through_json(tied_law, tmp_path):
    # before: the loaded law dropped its untied law, and its confidence interval silently lost
    # the allowance (and read "delta method (tie bias excluded)")
    tied_law.save(tmp_path / "law.json")
    back = sl.load(tmp_path / "law.json")
    assert back.untied is not None and dict(back.untied.ties) == dict(tied_law.untied.ties)
    np.testing.assert_array_equal(back.untied.covariance, tied_law.untied.covariance)
    X = {"N": np.array([1e9, 1e11]), "D": np.array([2e10, 2e12])}
    before, after = (law.interval("confidence", 0.95, **X) for law in (tied_law, back))
    assert after.method == before.method == "delta method + tie bias"
    np.testing.assert_allclose(after.low, before.low, rtol=1e-12)
    np.testing.assert_allclose(after.high, before.high, rtol=1e-12)


def test_a_bad_untied_section_is_named(tied_law, tmp_path):
    doc = json.loads(tied_law.to_json())
    doc["uncertainty"]["unrestricted"]["covariance"] = [[1.0]]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(sl.InputError, match="uncertainty.unrestricted.covariance"):
        sl.load(path)
    doc["uncertainty"]["unrestricted"]["ties"] = {"beta": "gamma"}
    path.write_text(json.dumps(doc))
    with pytest.raises(sl.InputError, match="uncertainty.unrestricted.ties"):
        sl.load(path)


def test_a_document_without_the_allowance_still_loads(tied_law, tmp_path):
    doc = json.loads(tied_law.to_json())
    del doc["uncertainty"]["unrestricted"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    assert sl.load(path).untied is None


@pytest.fixture(scope="module")
def fixed_law():
    runs = sl.generate_sweep(rng=3)
    return calibrate(sl.fit(runs, fixed={"E": 1.9172}), runs, n_resamples=0, rollout=False,
                     progress=False)


def test_a_fixed_law_keeps_its_allowance_through_json(fixed_law, tmp_path):
    fixed_law.save(tmp_path / "law.json")
    back = sl.load(tmp_path / "law.json")
    assert dict(back.unrestricted.fixed) == {"E": 1.9172} and dict(back.unrestricted.ties) == {}
    X = {"N": np.array([1e9, 1e11]), "D": np.array([2e10, 2e12])}
    before, after = (law.interval("confidence", 0.95, **X) for law in (fixed_law, back))
    assert after.method == before.method == "delta method + fixed-parameter bias"
    np.testing.assert_allclose(after.high, before.high, rtol=1e-12)


def test_a_file_written_when_only_ties_were_dropped_still_loads(tied_law, tmp_path):
    """Before fixed parameters were freed the section was called "untied" and had no
    "fixed": such a file loads with the same allowance."""
    doc = json.loads(tied_law.to_json())
    section = doc["uncertainty"].pop("unrestricted")
    del section["fixed"]
    doc["uncertainty"]["untied"] = section
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    back = sl.load(path)
    assert dict(back.unrestricted.ties) == {"beta": "alpha"} and dict(back.unrestricted.fixed) == {}
    X = {"N": np.array([1e9, 1e11]), "D": np.array([2e10, 2e12])}
    assert back.interval("confidence", **X).method == "delta method + tie bias"
    np.testing.assert_allclose(back.interval("confidence", **X).high,
                               tied_law.interval("confidence", **X).high, rtol=1e-12)
    doc["uncertainty"]["untied"]["ties"] = {"alpha": "beta"}  # not the fit's tie
    path.write_text(json.dumps(doc))
    with pytest.raises(sl.InputError, match="uncertainty.untied.ties"):
        sl.load(path)


@pytest.mark.parametrize("fixed", [{"E": 1.5}, {"A": 400.0}, {"E": "1.9172"}])
def test_a_fixed_section_that_is_not_the_fits_is_named(fixed_law, tmp_path, fixed):
    doc = json.loads(fixed_law.to_json())
    doc["uncertainty"]["unrestricted"]["fixed"] = fixed
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(sl.InputError, match="uncertainty.unrestricted.fixed"):
        sl.load(path)
    doc["uncertainty"]["unrestricted"]["fixed"] = {}  # a restriction that drops nothing
    path.write_text(json.dumps(doc))
    with pytest.raises(sl.InputError, match="field uncertainty.unrestricted must drop a tie"):
        sl.load(path)
