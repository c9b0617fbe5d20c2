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
