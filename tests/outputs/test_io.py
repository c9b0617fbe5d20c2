"""Tests of scalinglaws.outputs.io: fit files written atomically, read only when valid.

The loader checks the shipped JSON Schema (through its own small interpreter of the
subset the schema uses) and then the document's meaning. ``jsonschema`` is the
independent reference: the tests feed both the same corpus of mutations.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalinglaws import InputError, fit, from_json, generate_sweep, load, save
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.losses import get_loss
from scalinglaws.outputs.io import SCHEMA_VERSION, SUPPORTED_VERSIONS, schema
from scalinglaws.outputs.io.validate import check_json_schema

# A fit file written by the code before this module checked documents (schema_version 1,
# `PYTHONPATH=<pre-change worktree>/src`, fit(generate_sweep(noise=0.01, rng=0))).
V1_FILE = (
    '{"schema_version": 1, "kind": "scalinglaws.fit", "package_version": "0.1.0", "form": {"n'
    'ame": "chinchilla", "config": {}, "inputs": ["N", "D"], "param_names": ["E", "A", "B", "'
    'alpha", "beta"], "formula": "L = E + A / N**alpha + B / D**beta"}, "params": {"E": 1.7934'
    '58760311157, "A": 431.92382746420384, "B": 1692.5732811502103, "alpha": 0.34148485346886'
    '68, "beta": 0.35468872902684834}, "free_params": ["E", "A", "B", "alpha", "beta"], "fixe'
    'd": {}, "tied": {}, "loss": {"name": "huber", "delta": 0.001}, "space": "log", "objectiv'
    'e": 0.0007937626024306987, "n_runs": 108, "data_fingerprint": "sha256:454cafcb77123249501'
    '559b83b7e749fe685b51bcdd15279600707a0918a1a43", "success": true, "status": 0, "message":'
    ' "converged", "at_bounds": [], "optimizer": {"n_starts": 4500, "n_best_basin": 40, "best'
    '_basin_starts": [184, 407, 511, 562, 661, 712, 1256, 1307, 1411, 1462, 1476, 1561, 1612,'
    ' 1792, 2156, 2207, 2232, 2461, 2512, 2537, 2616, 3056, 3084, 3107, 3132, 3276, 3361, 3412'
    ', 3437, 3516, 3567, 3592, 3956, 4007, 4032, 4261, 4312, 4337, 4416, 4492], "nit": 100, "'
    'nfev": 22513, "gradient": 1.471763134942594e-09}, "local_optima": [{"params": {"E": 1.79'
    '3458760311157, "A": 431.92382746420384, "B": 1692.5732811502103, "alpha": 0.34148485346'
    '88668, "beta": 0.35468872902684834}, "objective": 0.0007937626024306987, "n_starts": 40}'
    ', {"params": {"E": 2.650965295089117, "A": 9.35762296884064e-14, "B": 9.35762296884064e-'
    '14, "alpha": 0.8429961249717861, "beta": 0.9591446189024248}, "objective": 0.01060266471'
    '2634883, "n_starts": 3}], "diagnostics": {"condition_number": 20031.756626148923, "most_c'
    'orrelated": {"params": ["beta", "B"], "correlation": 0.9988829067629982}, "identifiable"'
    ': true}, "options": {"loss": "huber", "delta": 0.001, "space": "log", "fixed": {}, "tied'
    '": {}, "bounds": {}, "starts": "default", "max_iter": 100, "prune_after": 3, "keep": 64,'
    ' "polish": true}, "bootstrap": null}'
)


@pytest.fixture(scope="module")
def result():
    return fit(generate_sweep(noise=0.01, rng=0))


@pytest.fixture(scope="module")
def good_text(result):
    return result.to_json()


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
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(doc, schema())
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["package_version"]
    assert doc["loss"] == {"name": "huber", "delta": 1e-3}
    assert doc["n_runs"] == 108
    assert doc["data_fingerprint"].startswith("sha256:")


def test_the_fitted_range_travels_with_the_fit(result, runs, tmp_path):
    # the smallest and largest of each input and of N*D, checked against the runs themselves
    assert set(result.fitted_range) == {"N", "D", "N*D"}
    for name in ("N", "D"):
        values = runs.inputs((name,))[name]
        assert result.fitted_range[name] == (values.min(), values.max())
    assert result.fitted_range["N*D"][1] == np.max(runs.N * runs.D)
    path = tmp_path / "fit.json"
    save(result, path)
    assert load(path).fitted_range == result.fitted_range
    doc = json.loads(path.read_text())
    doc["fitted_range"] = {"N": [2e7, 1e7]}
    with pytest.raises(InputError, match=r"field fitted_range.N must be \[smallest, largest\]"):
        from_json(json.dumps(doc))
    doc["fitted_range"] = {"Q": [1, 2]}
    with pytest.raises(InputError, match="field fitted_range.Q: form 'chinchilla' takes inputs"):
        from_json(json.dumps(doc))
    del doc["fitted_range"]  # files written before it was kept load with an empty range
    assert from_json(json.dumps(doc)).fitted_range == {}


def test_a_law_of_signed_inputs_keeps_its_range_through_a_file(tmp_path):
    # a user-defined law over x in [-2, 3] (custom forms take signed inputs) saved a range
    # its own loader refused
    import scalinglaws as sl

    form = sl.define_form("slope_signed_io", lambda x, a, b: a + b * x, inputs=("x",),
                          params={"a": sl.Param(start=[0.0, 1.0]),
                                  "b": sl.Param(start=[0.0, 1.0])},
                          register=True, overwrite=True)
    x = np.linspace(-2.0, 3.0, 12)
    result = sl.LawFitter(form, loss="squared", space="linear").fit_arrays(
        {"x": x}, 1.5 + 0.5 * x + 0.01 * np.sin(7 * x))
    assert result.fitted_range == {"x": (-2.0, 3.0)}
    path = tmp_path / "signed.json"
    save(result, path)
    assert load(path).fitted_range == {"x": (-2.0, 3.0)}


def test_given_parameters_round_trip_and_validate():
    """A result of published coefficients (not fitted: n_runs 0, no loss) is a valid file."""
    from scalinglaws import FitResult

    given_ = FitResult.from_params("chinchilla", dict(E=1.69, A=406.4, B=410.7, alpha=0.34,
                                                      beta=0.28))
    doc = json.loads(given_.to_json())
    jsonschema.validate(doc, schema())
    assert from_json(given_.to_json()).params == given_.params


def test_version_1_files_written_before_validation_still_load():
    loaded = from_json(V1_FILE)
    p = json.loads(V1_FILE)["params"]
    by_hand = p["E"] + p["A"] / 1e9 ** p["alpha"] + p["B"] / 2e10 ** p["beta"]
    assert loaded.predict(N=1e9, D=2e10) == pytest.approx(by_hand, rel=1e-14)
    assert 1 in SUPPORTED_VERSIONS


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


def test_data_constrained_fit_loads_in_a_fresh_process(tmp_path):
    """The package's own forms are registered by the loader, not by an earlier import."""
    from scalinglaws import FitResult
    from scalinglaws.laws.datablations import MUENNIGHOFF_2023

    path = tmp_path / "dc.json"
    save(FitResult.from_params("data_constrained", MUENNIGHOFF_2023["params"]), path)
    code = ("import scalinglaws as sl; r = sl.load(r'%s'); print(r.form.name)" % path)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "data_constrained"


# ----------------------------------------------------------------------------- bad files


def _doc(text):
    return json.loads(text)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(schema_version=99), r"schema_version 99 is not supported"),
    (lambda d: d.pop("schema_version"), r"field schema_version is missing"),
    (lambda d: d["form"].update(name="mystery"), r"field form.name: `form` must be one of"),
    (lambda d: d["params"].pop("alpha"), r"field params.alpha is missing"),
    (lambda d: d["params"].update(alpha="0.3"), r"field params.alpha must be a number, got text"),
    (lambda d: d["params"].update(gamma=1.0), r"field params.gamma is not a known field"),
    (lambda d: d.update(kind="other"), r"field kind must be 'scalinglaws.fit'"),
    (lambda d: d.update(n_runs="many"), r"field n_runs must be an integer, got text 'many'"),
    (lambda d: d.update(n_runs=-5), r"field n_runs must be >= 0, got -5"),
    (lambda d: d.update(form=[1, 2]), r"field form must be an object, got a list"),
    (lambda d: d.update(status=7), r"field status must be one of 0, 1, 2, 3, got 7"),
    (lambda d: d["loss"].update(name="l1"), r"field loss.name must be one of 'huber'"),
    (lambda d: d.update(space="sqrt"), r"field space must be one of 'log', 'linear', null"),
    (lambda d: d.update(local_optima=[1, 2]), r"field local_optima\[0\] must be an object"),
    (lambda d: d["params"].update(A=-5), r"field params.A must be > 0, got -5"),
    (lambda d: d["params"].update(alpha=50.0), r"field params.alpha = 50.0 lies outside the "
                                                r"fit's bounds \[0, 10\]"),
    (lambda d: d["diagnostics"].update(condition_number="abc"),
     r"field diagnostics.condition_number must be a number or null"),
    (lambda d: d["options"].update(max_iter="x"), r"field options.max_iter must be an integer"),
    (lambda d: d["options"].update(loss="squared"), r"field options.loss = 'squared' disagrees "
                                                    r"with loss.name = 'huber'"),
    (lambda d: d["local_optima"][0]["params"].update(E="x"),
     r"field local_optima\[0\].params.E must be a number or null"),
    (lambda d: d["optimizer"].update(n_best_basin=3), r"field optimizer.n_best_basin = 3 but "
                                                      r"best_basin_starts lists"),
    (lambda d: d.update(tied={"beta": "alpha"}), r"field params.beta = .* differs from alpha"),
    (lambda d: d.update(surprise=1), r"field surprise is not a known field"),
    (lambda d: d.update(bootstrap={"draws": "x"}), r"field bootstrap.method is missing"),
])
def test_bad_documents_name_the_field(good_text, mutate, message):
    doc = _doc(good_text)
    mutate(doc)
    with pytest.raises(InputError, match=r"^fit JSON: .*" + message):
        from_json(json.dumps(doc))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_literals_name_the_field(good_text, literal):
    doc = _doc(good_text)
    doc["params"]["E"] = "<literal>"
    with pytest.raises(InputError, match=r"^fit JSON: field params.E is not a finite number"):
        from_json(json.dumps(doc).replace('"<literal>"', literal))


def test_bad_text_and_files(tmp_path, good_text):
    with pytest.raises(InputError, match="not valid JSON"):
        from_json(good_text[: len(good_text) // 2])
    with pytest.raises(InputError, match="expected a JSON object"):
        from_json("[1, 2]")
    with pytest.raises(InputError, match="cannot read fit file"):
        load(tmp_path / "missing.json")
    with pytest.raises(InputError, match="is a folder, not a fit file"):
        load(tmp_path)
    with pytest.raises(InputError, match="key 'E' appears twice"):
        from_json(good_text.replace('"E": 1.79', '"E": 2, "E": 1.79', 1))
    with pytest.raises(InputError, match="nested more than 64 levels deep"):
        from_json('{"options": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(InputError, match="expected JSON text"):
        from_json(None)


def test_save_refuses_what_json_cannot_hold_and_keeps_the_old_file(result, tmp_path):
    path = tmp_path / "fit.json"
    save(result, path)
    before = path.read_bytes()
    broken = dataclasses.replace(result, options={**result.options, "callback": print})
    with pytest.raises(InputError, match=r"options\.callback \(builtin_function_or_method\) "
                                         r"is not a JSON value"):
        save(broken, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.json"]  # no temporary left


# ----------------------------------------------------------------------------- schema = loader


def _loader_accepts(text: str) -> bool:
    try:
        from_json(text)
    except InputError:
        return False
    return True


def _schema_accepts(text: str) -> bool:
    """Verdict of the reference implementation on the same text (NaN etc. are not JSON)."""
    def refuse(value):
        raise ValueError(value)

    try:
        doc = json.loads(text, parse_constant=refuse,
                         parse_float=lambda s: float(s) if np.isfinite(float(s)) else refuse(s))
    except ValueError:
        return False
    return jsonschema.Draft202012Validator(schema()).is_valid(doc)


def _set(path, value):
    def mutate(doc):
        *parents, last = path
        for key in parents:
            doc = doc[key]
        doc[last] = value
    return mutate


def _drop(*path):
    def mutate(doc):
        *parents, last = path
        for key in parents:
            doc = doc[key]
        del doc[last]
    return mutate


# Mutations the schema and the loader must judge alike (accept both, or refuse both).
STRUCTURAL = {
    "unchanged": lambda d: None,
    "no optional sections": lambda d: [d.pop(k) for k in ("free_params", "optimizer",
                                                            "local_optima", "diagnostics",
                                                            "options", "bootstrap", "at_bounds")],
    "integral float n_runs": _set(["n_runs"], 108.0),
    "objective null": _set(["objective"], None),
    "extra option": _set(["options", "preset"], "hoffmann"),
    "extra diagnostic": _set(["diagnostics", "note"], [1, "x"]),
    "wider bounds": lambda d: (d["options"].update(bounds={"alpha": [0, 20]}),
                               d["params"].update(alpha=12.0)),
    "bool n_runs": _set(["n_runs"], True),
    "float status": _set(["status"], 1.5),
    "status 7": _set(["status"], 7),
    "n_runs -5": _set(["n_runs"], -5),
    "loss l1": _set(["loss", "name"], "l1"),
    "huber without delta": _set(["loss", "delta"], None),
    "delta 0": _set(["loss", "delta"], 0),
    "space sqrt": _set(["space"], "sqrt"),
    "success string": _set(["success"], "yes"),
    "message number": _set(["message"], 3),
    "fingerprint garbage": _set(["data_fingerprint"], "md5:abc"),
    "local optima ints": _set(["local_optima"], [1, 2]),
    "local optimum extra key": _set(["local_optima", 0, "note"], "x"),
    "local optimum negative starts": _set(["local_optima", 0, "n_starts"], -1),
    "local optimum null objective": _set(["local_optima", 0, "objective"], None),
    "diagnostics text": _set(["diagnostics", "condition_number"], "abc"),
    "correlation 2": _set(["diagnostics", "most_correlated", "correlation"], 2.0),
    "correlation three names": _set(["diagnostics", "most_correlated", "params"],
                                    ["E", "A", "B"]),
    "options text": _set(["options"], "fast"),
    "max_iter 0": _set(["options", "max_iter"], 0),
    "starts other": _set(["options", "starts"], "random"),
    "bounds triple": _set(["options", "bounds"], {"E": [1, 2, 3]}),
    "bounds text": _set(["options", "bounds"], {"E": ["a", 2]}),
    "fixed text": _set(["fixed"], {"E": "abc"}),
    "optimizer unknown key": _set(["optimizer", "speed"], 1),
    "negative nfev": _set(["optimizer", "nfev"], -3),
    "negative gradient": _set(["optimizer", "gradient"], -1.0),
    "repeated start": _set(["optimizer", "best_basin_starts"], [1, 1]),
    "negative A": _set(["params", "A"], -5),
    "zero E": _set(["params", "E"], 0),
    "missing param": _drop("params", "alpha"),
    "unknown param": _set(["params", "gamma"], 1.0),
    "param text": _set(["params", "E"], "1.7"),
    "param null": _set(["params", "E"], None),
    "form list": _set(["form"], [1, 2]),
    "form without config": _drop("form", "config"),
    "empty form name": _set(["form", "name"], ""),
    "unknown top key": _set(["surprise"], 1),
    "version 4": _set(["schema_version"], 4),
    "kind other": _set(["kind"], "other"),
    "missing status": _drop("status"),
    "bootstrap list": _set(["bootstrap"], [1]),
    "NaN": lambda d: "NaN",
    "Infinity": lambda d: "Infinity",
    "1e400": lambda d: "1e400",
}
# Mutations only the loader can refuse: what a schema cannot say (its "$comment").
SEMANTIC = {
    "alpha outside default bounds": _set(["params", "alpha"], 50.0),
    "unregistered form": _set(["form", "name"], "mystery"),
    "config of another form": _set(["form", "config"], {"variable": "N"}),
    "param_names reordered": _set(["form", "param_names"], ["A", "E", "B", "alpha", "beta"]),
    "fixed value not held": _set(["fixed"], {"E": 1.0}),
    "tied value not held": _set(["tied"], {"beta": "alpha"}),
    "free_params wrong": _set(["free_params"], ["E"]),
    "at_bounds not free": lambda d: (d.update(fixed={"E": d["params"]["E"]},
                                              free_params=["A", "B", "alpha", "beta"],
                                              at_bounds=["E"]),
                                     d["options"].update(fixed={"E": d["params"]["E"]})),
    "n_best_basin miscounted": _set(["optimizer", "n_best_basin"], 3),
    "start index past n_starts": _set(["optimizer", "best_basin_starts"], [99999]),
    "local optimum of other params": _set(["local_optima", 0, "params"], {"x": 1.0}),
    "correlated unknown name": _set(["diagnostics", "most_correlated", "params"], ["E", "Q"]),
    "options.loss disagrees": _set(["options", "loss"], "squared"),
    "options.space disagrees": _set(["options", "space"], "linear"),
    "options.bounds unknown name": _set(["options", "bounds"], {"Q": [0, 1]}),
    "options.bounds empty": _set(["options", "bounds"], {"alpha": [1, 0.5]}),
    "bootstrap garbage": _set(["bootstrap"], {"draws": "x"}),
}


def _mutated(text: str, mutate) -> str:
    doc = _doc(text)
    literal = mutate(doc)
    if isinstance(literal, str):  # a number JSON cannot hold, written in place of alpha
        doc["params"]["alpha"] = "<literal>"
        return json.dumps(doc).replace('"<literal>"', literal)
    return json.dumps(doc)


@pytest.mark.parametrize("name", sorted(STRUCTURAL))
def test_schema_and_loader_agree(good_text, name):
    text = _mutated(good_text, STRUCTURAL[name])
    assert _loader_accepts(text) == _schema_accepts(text), name


@pytest.mark.parametrize("name", sorted(SEMANTIC))
def test_semantic_checks_refuse_what_the_schema_cannot_say(good_text, name):
    text = _mutated(good_text, SEMANTIC[name])
    assert _schema_accepts(text), f"{name}: the schema could check this itself"
    assert not _loader_accepts(text), name


def test_corpus_has_both_verdicts(good_text):
    verdicts = {_loader_accepts(_mutated(good_text, m)) for m in STRUCTURAL.values()}
    assert verdicts == {True, False}


_VALUES = (st.none() | st.booleans() | st.integers(-10, 10**6) | st.floats(-1e3, 1e3)
           | st.text(max_size=4) | st.lists(st.integers(-2, 5), max_size=3)
           | st.dictionaries(st.sampled_from(["E", "A", "x", "params", "name"]),
                             st.floats(-2, 2) | st.text(max_size=2), max_size=3))


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(doc, list):
        for index, value in enumerate(doc[:3]):
            yield from _paths(value, prefix + (index,))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.data())
def test_fuzzed_mutations_loader_never_accepts_what_the_schema_refuses(good_text, data):
    doc = _doc(good_text)
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    _set(list(path), data.draw(_VALUES))(doc)
    text = json.dumps(doc)
    if not _schema_accepts(text):
        assert not _loader_accepts(text), path
        return
    try:
        loaded = from_json(text)
    except InputError:
        return
    assert np.isfinite(loaded.predict(N=1e9, D=2e10)), path
    loaded.summary()


@settings(max_examples=150, derandomize=True, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=5)
                    | st.integers(), lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=20))
def test_fuzzed_documents_load_or_raise_input_error(value):
    try:
        from_json(json.dumps(value))
    except InputError:
        pass


# ----------------------------------------------------------------------------- the schema


def test_schema_entries_match_the_registered_forms():
    import scalinglaws.laws.datablations  # noqa: F401  (registers the data-constrained forms)

    entries = [e for e in schema()["allOf"] if "form" in e["if"].get("properties", {})]
    assert len(entries) >= 10
    for entry in entries:
        form = get_form(entry["if"]["properties"]["form"]["properties"]["name"]["const"])
        params = entry["then"]["properties"]["params"]
        assert params["required"] == list(form.param_names)
        positive = {name for name, rule in params["properties"].items()
                    if rule.get("exclusiveMinimum") == 0}
        assert positive == set(form.log_params) & set(form.param_names)


def test_schema_loss_names_are_the_package_losses():
    names = [n for n in schema()["$defs"]["loss_name"]["enum"] if n is not None]
    for name in names:
        assert get_loss(name).name == name
    with pytest.raises(InputError):
        get_loss("l1")


def test_schema_interpreter_refuses_keywords_it_does_not_implement():
    with pytest.raises(ValueError, match="not supported"):
        check_json_schema({"a": 1}, {"properties": {"a": {"multipleOf": 2}}}, "x")
    check_json_schema(json.loads(V1_FILE), schema(), "v1")  # every keyword used is implemented


def test_a_fit_from_one_explicit_start_round_trips(tmp_path):
    # with few explicit starts each raw start is polished too, and the same start joined
    # the best basin twice: the file said best_basin_starts [0, 0] and its loader refused it
    import scalinglaws as sl

    form = sl.define_form("exp_one_start_io", lambda x, a, b: a * np.exp(b * x), inputs=("x",),
                          params={"a": sl.Param(bounds=(0, None), start=1.0),
                                  "b": sl.Param(bounds=(-5, 5), start=0.1)},
                          register=True, overwrite=True)
    x = np.linspace(-2, 3, 30)
    y = 2 * np.exp(0.4 * x) * np.exp(np.random.default_rng(0).normal(0, 0.01, 30))
    result = sl.LawFitter(form).fit_arrays({"x": x}, y)
    assert result.n_starts == 1 and result.best_basin_starts == (0,)
    path = tmp_path / "one_start.json"
    save(result, path)
    assert load(path).params == result.params


def test_load_names_what_it_was_given_when_it_is_not_a_fit(result, runs, tmp_path):
    # a reviewer gave `optimal` an isoflop result, a comparison and a CSV and read
    # "field schema_version is missing" and "not valid JSON"
    other = tmp_path / "iso.json"
    other.write_text(json.dumps({"kind": "scalinglaws.comparison", "reference": "a"}))
    with pytest.raises(InputError, match=r"scalinglaws comparison file \(kind "
                                         r"'scalinglaws.comparison'\), not a fit"):
        load(other)
    other.write_text(json.dumps({"kind": "scalinglaws.curve_fit", "law": "mpl"}))
    with pytest.raises(InputError, match="load_curve_fit"):
        load(other)
    # an IsoFLOP analysis is named as one (it was 'a scalinglaws results file'), with the
    # exported loader that reads it
    other.write_text(json.dumps({"kind": "scalinglaws.isoflop", "a": 0.5}))
    with pytest.raises(InputError, match=r"scalinglaws IsoFLOP analysis file \(kind "
                                         r"'scalinglaws.isoflop'\), not a fit.* read an IsoFLOP "
                                         r"analysis with scalinglaws.load_isoflop$"):
        load(other)
    table = tmp_path / "runs.csv"
    runs.frame.to_csv(table, index=False)
    with pytest.raises(InputError, match=r"not a fit file .* `scalinglaws fit RUNS --out"):
        load(table)
    save(result, tmp_path / "fit.json")  # and a fit still loads
    assert load(tmp_path / "fit.json").params == result.params
