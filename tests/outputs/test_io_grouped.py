"""Tests of outputs/io/grouped.py: a grouped fit saved by GroupedFitResult.save comes back
with scalinglaws.load_grouped, predicting exactly as the fit that was saved."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import InputError


@pytest.fixture(scope="module")
def grouped():
    """Two recipes of one synthetic sweep, the second at twice the size and data (the
    base law at (2N, 2D)), fitted with shared exponents."""
    runs = sl.generate_sweep(noise=0.01, rng=3).frame
    doubled = runs.assign(recipe="better")
    truth = sl.FitResult.from_params("chinchilla", dict(E=1.8172, A=482.01, B=2085.43,
                                                        alpha=0.3478, beta=0.3658))
    doubled["loss"] = truth.predict(N=2 * runs["N"].to_numpy(), D=2 * runs["D"].to_numpy()) \
        * np.exp(np.random.default_rng(4).normal(0, 0.01, len(runs)))
    frame = pd.concat([runs.assign(recipe="base"), doubled], ignore_index=True)
    return sl.fit(frame, groups="recipe", shared=["alpha", "beta"])


def test_round_trip_keeps_params_predictions_and_document(grouped, tmp_path):
    path = tmp_path / "grouped.json"
    grouped.save(path)
    loaded = sl.load_grouped(path)
    assert loaded.groups == grouped.groups == ("base", "better")
    assert loaded.params.equals(grouped.params)
    assert dict(loaded.shared_params) == dict(grouped.shared_params)
    assert loaded.shared == ("alpha", "beta")
    N, D = np.array([1e8, 7e10]), np.array([2e9, 1.4e12])
    for group in grouped.groups:
        assert np.array_equal(loaded.predict(group, N=N, D=D), grouped.predict(group, N=N, D=D))
        # 7e10 x 1.4e12 is far beyond the groups' runs: both warn, the loaded one too
        with pytest.warns(sl.ExtrapolationWarning):
            assert np.array_equal(sl.predict(loaded[group], N=N, D=D).loss,
                                  sl.predict(grouped[group], N=N, D=D).loss)
        assert dict(loaded.separate[group].params) == dict(grouped.separate[group].params)
    assert loaded.objective == grouped.objective
    assert loaded.to_dict() == grouped.to_dict()
    assert loaded.summary() == grouped.summary()


def test_the_fit_loader_names_the_grouped_loader(grouped, tmp_path):
    path = tmp_path / "grouped.json"
    grouped.save(path)
    with pytest.raises(InputError, match="read a grouped fit with scalinglaws.load_grouped"):
        sl.load(path)


def test_a_fit_file_is_refused_naming_its_loader(grouped, tmp_path):
    path = tmp_path / "fit.json"
    grouped["base"].save(path)
    with pytest.raises(InputError, match="not a grouped fit.*scalinglaws.load"):
        sl.load_grouped(path)


def test_a_tampered_shared_value_is_refused(grouped, tmp_path):
    doc = grouped.to_dict()
    doc["groups"][1]["params"]["alpha"] += 0.01
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"groups\[1\]\.params\.alpha.*shared value"):
        sl.load_grouped(path)
    del doc["groups"][0]["params"]["E"]
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"groups\[0\]\.params must give E, A, B"):
        sl.load_grouped(path)


# ------------------------------------------------------ checks of the single-fit loader
@pytest.fixture(scope="module")
def restricted():
    """Two halves of one sweep counted at k = 8, fitted with E fixed at 1.8, beta tied to
    alpha and alpha shared: every group's E is 1.8 and its beta its alpha."""
    runs = sl.generate_sweep(noise=0.01, rng=3).frame
    runs = runs.assign(half=np.where(runs.index % 2 == 0, "even", "odd"))
    return sl.fit(sl.load_runs(runs, flops_per_token=8.0), groups="half", shared=["alpha"],
                  tied={"beta": "alpha"}, fixed={"E": 1.8})


def _refused(doc, tmp_path, message):
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="^" + str(path).replace(".", r"\.") + ": " + message):
        sl.load_grouped(path)


def test_a_restricted_grouped_fit_keeps_k_ties_and_fixed_values(restricted, tmp_path):
    path = tmp_path / "g.json"
    restricted.save(path)
    loaded = sl.load_grouped(path)
    for group in ("even", "odd"):
        law = loaded[group]
        assert law.flops_per_token == 8.0
        assert dict(law.tied) == {"beta": "alpha"} and dict(law.fixed) == {"E": 1.8}
        assert law.params["E"] == 1.8 and law.params["beta"] == law.params["alpha"]
        # C = 8 N D: at N = 1e9, C = 1.6e20 the law is evaluated at D = 2e10 tokens
        assert sl.predict(law, N=1e9, C=1.6e20).loss == pytest.approx(
            float(restricted[group].predict(N=1e9, D=2e10)), rel=1e-12)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["groups"][0]["params"].update(A=-5),
     r"field groups\[0\]\.params\.A must be > 0 \(form 'chinchilla' takes its logarithm\), "
     r"got -5"),
    (lambda d: d["groups"][1]["params"].update(E=1.0),
     r"field groups\[1\]\.params\.E = 1\.0 differs from its fixed value 1\.8"),
    (lambda d: d["groups"][0]["params"].update(beta=0.9),
     r"field groups\[0\]\.params\.beta = 0\.9 differs from alpha = .*, to which it is tied"),
    (lambda d: d["groups"][0]["params"].update(alpha=50.0, beta=50.0),
     r"field groups\[0\]\.params\.alpha = 50\.0 lies outside the fit's bounds \[0, 10\]"),
    (lambda d: d.pop("options"), r"field options is missing \(GroupedFitResult\.save always "
                                 r"writes it"),
    (lambda d: d["options"].update(flops_per_token="x"),
     r"field options\.flops_per_token must be a number, got text 'x'"),
    (lambda d: d["options"].update(flops_per_token=0),
     r"field options\.flops_per_token must be > 0, got 0"),
    (lambda d: d["options"].update(tied={"beta": "zzz"}),
     r"field options\.tied\.beta = 'zzz' does not tie"),
    (lambda d: d.update(shared=5), r"field shared must be a list, got an integer 5"),
    (lambda d: d.update(shared=["gamma"]), r"field shared\[0\] = 'gamma' is not a parameter"),
    (lambda d: d["groups"][0].update(status="x"), r"field groups\[0\]\.status must be one of"),
    (lambda d: d["groups"][0].update(group=[1, 2]), r"field groups\[0\]\.group must be"),
])
def test_a_contradictory_or_bad_field_is_refused_naming_it(restricted, tmp_path, mutate,
                                                           message):
    doc = json.loads(restricted.to_json())
    mutate(doc)
    _refused(doc, tmp_path, message)


def test_a_file_without_options_flops_per_token_still_loads_with_k_6(restricted, tmp_path):
    """Files written before the fit recorded k: the single-fit loader's rule (k = 6)."""
    doc = json.loads(restricted.to_json())
    del doc["options"]["flops_per_token"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    assert sl.load_grouped(path)["even"].flops_per_token == 6.0


def test_nan_literals_are_refused_naming_the_field(restricted, tmp_path):
    text = restricted.to_json().replace('"objective": ', '"objective": NaN, "x": ', 1)
    path = tmp_path / "nan.json"
    path.write_text(text)
    with pytest.raises(InputError, match="objective is not a finite number"):
        sl.load_grouped(path)
