import json

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalinglaws import InputError, fit, from_json, generate_sweep, load, save
from scalinglaws.outputs.io import SCHEMA_VERSION, schema


@pytest.fixture(scope="module")
def result():
    return fit(generate_sweep(noise=0.01, rng=0))


def test_round_trip_predicts_identically(result, tmp_path):
    path = tmp_path / "fit.json"
    save(result, path)
    loaded = load(path)
    n, d = np.geomspace(1e8, 1e12, 9), np.geomspace(1e9, 1e13, 9)
    assert np.array_equal(loaded.predict(N=n, D=d), result.predict(N=n, D=d))
    assert loaded.params == result.params
    assert loaded.objective == result.objective
    assert loaded.data_fingerprint == result.data_fingerprint
    assert loaded.form == result.form
    assert loaded.to_json() == result.to_json()


def test_file_validates_against_shipped_schema(result):
    doc = json.loads(result.to_json())
    jsonschema.validate(doc, schema())
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["package_version"]
    assert doc["loss"] == {"name": "huber", "delta": 1e-3}
    assert doc["n_runs"] == 108
    assert doc["data_fingerprint"].startswith("sha256:")


def test_same_seed_same_json():
    a = fit(generate_sweep(rng=11)).to_json()
    b = fit(generate_sweep(rng=11)).to_json()
    assert a == b


@pytest.mark.parametrize("form", ["kaplan_n", "kaplan_nd", "kaplan_c_offset"])
def test_round_trip_other_forms(form):
    original = fit(generate_sweep(form, noise=0.005, rng=1), form)
    loaded = from_json(original.to_json())
    assert loaded.form == original.form
    assert loaded.params == original.params


def _doc(result):
    return json.loads(result.to_json())


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(schema_version=99), "schema_version 99 is not supported"),
    (lambda d: d.pop("schema_version"), "missing key 'schema_version'"),
    (lambda d: d["form"].update(name="mystery"), "`form` must be one of"),
    (lambda d: d["params"].pop("alpha"), "parameter 'alpha'"),
    (lambda d: d["params"].update(alpha="0.3"), "parameter 'alpha'"),
    (lambda d: d["params"].update(gamma=1.0), "unknown parameter"),
    (lambda d: d.update(kind="other"), "kind"),
    (lambda d: d.update(n_runs="many"), "'n_runs' must be int"),
    (lambda d: d.update(form=[1, 2]), "'form' must be dict"),
])
def test_bad_documents_raise_input_error(result, mutate, message):
    doc = _doc(result)
    mutate(doc)
    with pytest.raises(InputError, match=message):
        from_json(json.dumps(doc))


def test_bad_text_and_files(tmp_path, result):
    text = result.to_json()
    with pytest.raises(InputError, match="not valid JSON"):
        from_json(text[: len(text) // 2])
    with pytest.raises(InputError, match="expected a JSON object"):
        from_json("[1, 2]")
    with pytest.raises(InputError, match="cannot read fit file"):
        load(tmp_path / "missing.json")


@settings(max_examples=150, derandomize=True, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=5)
                    | st.integers(), lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=20))
def test_fuzzed_documents_load_or_raise_input_error(value):
    try:
        from_json(json.dumps(value))
    except InputError:
        pass


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.data())
def test_fuzzed_mutations_of_a_real_file(data):
    doc = json.loads(fit(generate_sweep(rng=0), "kaplan_n").to_json())
    key = data.draw(st.sampled_from(sorted(doc)))
    doc[key] = data.draw(st.none() | st.integers() | st.text(max_size=4) | st.lists(st.integers())
                         | st.dictionaries(st.text(max_size=3), st.floats(allow_nan=False)))
    try:
        loaded = from_json(json.dumps(doc))
    except InputError:
        return
    assert np.isfinite(loaded.predict(N=1e9))
