"""Tests of outputs/io/curves.py: a curve-fit file is read with the project's JSON reader
and checked against its shipped schema (curves.schema.json) before anything is built, so
a bad field is one InputError naming the file and the field, never an interval computed
under a method the file does not name, a numpy error later, or a silently kept extra.

The bootstrap is built by hand (draws around Luo et al.'s 25M parameters, no fit), and a
loaded file is compared with that object as it was before saving.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from scalinglaws import InputError
from scalinglaws.fitting.curves import CurveFitResult
from scalinglaws.laws.curve_synthetic import LUO_2025_MPL
from scalinglaws.outputs.io.curves import (curve_fit_to_json, load_curve_bootstrap,
                                           load_curve_fit)
from scalinglaws.uncertainty.curves import CurveBootstrap


@pytest.fixture(scope="module")
def saved():
    fit = CurveFitResult.from_params("mpl", LUO_2025_MPL["25M"])
    names = list(fit.law.param_names)
    centre = np.array([fit.params[n] for n in names])
    draws = centre * np.exp(np.random.default_rng(0).normal(0.0, 0.01, (400, len(names))))
    boot = CurveBootstrap(law=fit.law, point=dict(fit.params), draws=draws, n_resamples=402,
                          n_failed=2, method="blocks", block_lengths={"run": 5},
                          confidence_level=0.9, seed=4, n_distinct=400, n_curves=4)
    return fit, boot, json.loads(curve_fit_to_json(fit, boot))


def _write(tmp_path, doc_or_text):
    path = tmp_path / "curves.json"
    path.write_text(doc_or_text if isinstance(doc_or_text, str) else json.dumps(doc_or_text))
    return path


def test_a_saved_file_reads_back_as_the_objects_before_saving(saved, tmp_path):
    fit, boot, doc = saved
    path = _write(tmp_path, doc)
    assert load_curve_fit(path).params == fit.params
    loaded = load_curve_bootstrap(path)
    np.testing.assert_array_equal(loaded.draws, boot.draws)
    assert (loaded.method, loaded.confidence_level, loaded.seed) == ("blocks", 0.9, 4)
    assert loaded.intervals == boot.intervals


@pytest.mark.parametrize("field, value, message", [
    ("method", "garbage", r"field bootstrap\.method must be one of 'blocks', 'curves', "
                          r"'points', 'ar1', got 'garbage'"),
    ("confidence_level", 1.5, r"field bootstrap\.confidence_level must be < 1, got 1\.5"),
    ("n_resamples", "x", r"field bootstrap\.n_resamples must be an integer, got text 'x'"),
    ("ar1_coefficients", "x", r"field bootstrap\.ar1_coefficients must be an object"),
    ("seed", "garbage", r"field bootstrap\.seed must be an integer or null"),
    ("n_failed", 500, r"field bootstrap\.n_resamples = 402 is fewer than the draws \(400\) "
                      r"plus n_failed \(500\)"),
    ("draws", [[1.0, 2.0]], r"field bootstrap\.draws must have 7 values"),
    ("surprise", 1, r"field bootstrap\.surprise is not a known field"),
])
def test_a_bad_bootstrap_field_is_refused_naming_it(saved, tmp_path, field, value, message):
    doc = json.loads(json.dumps(saved[2]))
    doc["bootstrap"][field] = value
    path = _write(tmp_path, doc)
    with pytest.raises(InputError, match="^" + str(path).replace(".", r"\.") + ": " + message):
        load_curve_bootstrap(path)


@pytest.mark.parametrize("field", ["method", "n_resamples", "n_failed", "confidence_level",
                                   "seed", "block_lengths", "draws"])
def test_a_missing_required_bootstrap_field_is_refused_naming_it(saved, tmp_path, field):
    """Every curve-fit writer wrote these (since the format's first commit, 96137a9): a
    file without one was edited, and a default (the method "blocks", the level 0.95)
    would give intervals the bootstrap never made. A missing method used to read as
    blocks."""
    doc = json.loads(json.dumps(saved[2]))
    del doc["bootstrap"][field]
    path = _write(tmp_path, doc)
    with pytest.raises(InputError, match="^" + str(path).replace(".", r"\.")
                       + rf": field bootstrap\.{field} is missing$"):
        load_curve_bootstrap(path)


def test_a_bootstrap_as_the_first_writer_wrote_it_still_loads(saved, tmp_path):
    """The keys added later (n_distinct, n_curves and at_bounds in 0392063,
    ar1_coefficients in efb3b70) are absent from older files, which load: unknown
    counts, no curve's AR(1) coefficient."""
    fit, boot, doc = saved
    doc = json.loads(json.dumps(doc))
    for field in ("n_distinct", "n_curves", "at_bounds", "ar1_coefficients"):
        del doc["bootstrap"][field]
    loaded = load_curve_bootstrap(_write(tmp_path, doc))
    assert (loaded.method, loaded.n_resamples, loaded.n_failed) == ("blocks", 402, 2)
    assert (loaded.n_distinct, loaded.n_curves, loaded.ar1_coefficients) == (None, None, {})
    assert loaded.intervals == boot.intervals


@pytest.mark.parametrize("change, message", [
    (lambda text: text.replace('"objective": ', '"objective": NaN, "x": ', 1),
     r"not a finite number|appears twice"),
    (lambda text: text.replace('"objective": ', '"objective": 1.0, "objective": ', 1),
     r"key 'objective' appears twice"),
    (lambda text: text.replace('"n_points": ', '"surprise": 1, "n_points": ', 1),
     r"field surprise is not a known field"),
    (lambda text: text.replace('"name": "mpl"', '"name": "nope"', 1),
     r"field law: `law` must be one of"),
])
def test_bad_text_is_refused_naming_the_file(saved, tmp_path, change, message):
    path = _write(tmp_path, change(json.dumps(saved[2])))
    with pytest.raises(InputError, match="^" + str(path).replace(".", r"\.") + ": .*" + message):
        load_curve_fit(path)


def test_restrictions_must_name_parameters_and_hold(saved, tmp_path):
    # a curve file's fixed and tied sections were read as written: tied={"zzz": "L0"}
    # loaded, as did a fixed value the parameters contradict; the fit files' check applies
    fit, _, doc = saved
    names = list(fit.law.param_names)
    first, second = names[:2]
    value = doc["params"][first]
    fixed = {**doc, "fixed": {first: value}, "free_params": names[1:]}
    assert load_curve_fit(_write(tmp_path, fixed)).fixed == {first: value}
    cases = [
        ({"tied": {"zzz": first}}, rf"field tied.zzz = '{first}' does not tie a parameter of "
                                   rf"form 'mpl' to another one"),
        ({"fixed": {"zzz": 1.0}}, r"field fixed.zzz is not a parameter of form 'mpl'"),
        ({"free_params": ["zzz"]}, r"field free_params must be \[.*\] \(the parameters neither "
                                   r"fixed nor tied\), got \['zzz'\]"),
        ({"fixed": {first: value * 1.1}}, rf"field params.{first} = .* differs from its fixed "
                                          rf"value"),
        ({"tied": {second: first}}, rf"field params.{second} = .* differs from {first} = .*, "
                                    rf"to which it is tied"),
    ]
    for change, message in cases:
        with pytest.raises(InputError, match=message):
            load_curve_fit(_write(tmp_path, {**doc, **change}))
