"""Tests of outputs/io/envelope.py: an Approach 1 analysis (``envelope_fit``, ``scalinglaws
envelope --out``) read back from its JSON document, checked against the shipped schema
(``scalinglaws/schema/envelope.schema.json``) and for meaning before a result is built.

A loaded analysis is compared with the one that was saved (its document, its envelope
table, predict_optimal's tables and the summary), never with numbers copied from the
loader's output; the expected messages are written from the documented wording.
"""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.fitting.envelope import DOCUMENT_KIND, SCHEMA_VERSION, envelope_fit
from scalinglaws.laws.synthetic import DEFAULT_HORIZONS, synthetic_training_curves
from scalinglaws.outputs.cli import main
from scalinglaws.outputs.io.envelope import (ENVELOPE_COLUMNS, ENVELOPE_SCHEMA, envelope_from_dict,
                                             envelope_from_json, envelope_schema, load_envelope)
from scalinglaws.outputs.io.isoflop import ISOFLOP_SCHEMA, load_isoflop
from scalinglaws.outputs.io.validate import check_json_schema

SIZES = np.geomspace(1e8, 3e9, 6)
BUDGETS = [1e20, 1e22, 1e24]


@pytest.fixture(scope="module")
def curves():
    return synthetic_training_curves(sizes=SIZES, rng=0)


@pytest.fixture(scope="module")
def analyses(curves):
    """Without resamples (t intervals), with 30 resamples over runs, and on runs whose
    logged C is not 6 N D (D from each run's own checkpoints, flop_model "runs")."""
    frame = curves.to_frame()
    frame["C"] = frame["C"] * (1 + (1e7 / frame["N"]) ** (1 / 3))  # attention FLOPs logged
    return {"plain": envelope_fit(curves, n_points=300),
            "resampled": envelope_fit(curves, n_resamples=30, rng=0),
            "logged": envelope_fit(frame, n_points=200, n_resamples=10, rng=1)}


@pytest.fixture(scope="module")
def doc(analyses):
    return json.loads(analyses["resampled"].to_json())


def _same_analysis(loaded, result):
    assert loaded.to_dict() == result.to_dict()
    pd.testing.assert_frame_equal(loaded.envelope, result.envelope)
    pd.testing.assert_frame_equal(loaded.sizes(), result.sizes())
    intervals = ("auto", "t") + (("bootstrap",) if result.N_line_bootstrap is not None else ())
    for interval in intervals:
        theirs = result.predict_optimal(BUDGETS, interval=interval)
        ours = loaded.predict_optimal(BUDGETS, interval=interval)
        pd.testing.assert_frame_equal(ours, theirs)
        assert ours.attrs == theirs.attrs
    assert loaded.summary() == result.summary()


@pytest.mark.parametrize("name", ["plain", "resampled", "logged"])
def test_a_saved_analysis_loads_back_as_it_was(analyses, name, tmp_path):
    result = analyses[name]
    path = tmp_path / "envelope.json"
    result.save(path)
    _same_analysis(load_envelope(path), result)
    _same_analysis(envelope_from_json(result.to_json()), result)
    assert sl.load_envelope is load_envelope


def test_the_document_names_itself(analyses):
    doc = analyses["plain"].to_dict()
    # version 2: flops_per_token null beside flops_per_token_range when C is the table's own
    assert (doc["kind"], doc["schema_version"]) == ("scalinglaws.envelope", 2)
    assert doc["package_version"] == sl.__version__
    assert (DOCUMENT_KIND, SCHEMA_VERSION) == ("scalinglaws.envelope", 2)


def test_the_schema_ships_as_a_file_and_what_is_written_meets_it(analyses):
    text = resources.files("scalinglaws").joinpath("schema/envelope.schema.json").read_text()
    shipped = json.loads(text)
    assert ENVELOPE_SCHEMA == shipped and envelope_schema() == shipped
    jsonschema.Draft202012Validator.check_schema(shipped)
    assert shipped["$defs"]["envelope"]["required"] == list(ENVELOPE_COLUMNS)
    assert list(shipped["$defs"]["envelope"]["properties"]) == list(ENVELOPE_COLUMNS)
    # the pieces of the two approaches' documents are typed twice: they must agree
    for name in ("number", "positive", "maybe", "count", "pair", "maybe_pair", "maybe_draws",
                 "regression"):
        assert shipped["$defs"][name] == ISOFLOP_SCHEMA["$defs"][name], name
    for result in analyses.values():
        doc = json.loads(result.to_json())
        jsonschema.validate(doc, shipped)  # an independent validator agrees
        check_json_schema(doc, shipped, "doc")


def test_saving_replaces_only_an_analysis_of_the_same_kind(analyses, tmp_path):
    table = tmp_path / "runs.csv"
    table.write_text("N,D,loss\n")
    with pytest.raises(InputError, match="`path`"):
        analyses["plain"].save(table)
    assert table.read_text() == "N,D,loss\n"
    path = tmp_path / "envelope.json"
    analyses["plain"].save(path)
    analyses["resampled"].save(path)  # the same kind: replaced unasked
    assert load_envelope(path).options["n_resamples"] == 30


# ------------------------------------------------------------------ the command's documents
@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """The default 12 sizes (each half of the runs still brackets an envelope)."""
    frame = synthetic_training_curves(rng=0).to_frame()
    frame["half"] = ["a" if run % 2 == 0 else "b" for run in frame["run_id"]]
    path = tmp_path_factory.mktemp("envelope") / "checkpoints.csv"
    frame.to_csv(path, index=False)
    return path


def test_what_the_command_writes_loads_and_predicts_as_the_library(checkpoints, tmp_path,
                                                                   capsys):
    out = tmp_path / "envelope.json"
    assert main(["envelope", str(checkpoints), "--bootstrap", "20", "--seed", "5",
                 "--points", "300", "--C", "1e22", "--out", str(out)]) == 0
    capsys.readouterr()
    library = envelope_fit(sl.load_runs(checkpoints), n_points=300, n_resamples=20, rng=5)
    _same_analysis(load_envelope(out), library)
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, ENVELOPE_SCHEMA)
    # a document the command wrote before EnvelopeResult.to_dict named its schema version
    # and the package (and, earlier still, before envelope_fit recorded the seed)
    for key in ("schema_version", "package_version"):
        del doc[key]
    del doc["options"]["seed"]
    older = envelope_from_dict(doc, source="old.json")
    assert older.options.get("seed") is None
    pd.testing.assert_frame_equal(older.predict_optimal(BUDGETS), library.predict_optimal(BUDGETS))


def test_a_by_document_loads_one_group_at_a_time(checkpoints, tmp_path, capsys):
    out = tmp_path / "by.json"
    assert main(["envelope", str(checkpoints), "--by", "half", "--bootstrap", "10",
                 "--seed", "3", "--points", "200", "--out", str(out)]) == 0
    capsys.readouterr()
    frame = pd.read_csv(checkpoints)
    children = np.random.default_rng(3).spawn(2)  # what --by gives each group
    for group, child in zip(["a", "b"], children):
        library = envelope_fit(frame[frame["half"] == group], n_points=200, n_resamples=10,
                               rng=child)
        loaded = load_envelope(out, group=group)
        pd.testing.assert_frame_equal(loaded.envelope, library.envelope)
        pd.testing.assert_frame_equal(loaded.predict_optimal(BUDGETS),
                                      library.predict_optimal(BUDGETS))
    with pytest.raises(InputError, match=r"holds 2 Approach 1 \(envelope\) analyses, one per "
                                         r"value of 'half' \(`scalinglaws envelope --by half`\); "
                                         r"read one with load_envelope\(path, group=\.\.\.\), "
                                         r"group one of 'a', 'b'"):
        load_envelope(out)
    with pytest.raises(InputError, match=r"no group 'c' among the 2 analyses"):
        load_envelope(out, group="c")


# ------------------------------------------------------------------ what is refused
def _refused(doc, message, source="m.json"):
    with pytest.raises(InputError, match="^" + source.replace(".", r"\.") + ": " + message):
        envelope_from_json(json.dumps(doc), source=source)


def _edited(doc, change):
    doc = json.loads(json.dumps(doc))
    change(doc)
    return doc


def _flip_used(doc):
    first = doc["envelope"]["used"].index(True)
    doc["envelope"]["used"][first] = False


def _unused_covered_point(doc):
    return doc["envelope"]["used"].index(False, doc["envelope"]["used"].index(True))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(a=d["a"] + 0.1), r"field a must be regression.N.exponent and its slope "
                                         r"params\[1\]"),
    (lambda d: d.update(N_coef=d["N_coef"] * 2), r"field N_coef must be regression.N.coef"),
    (lambda d: d["envelope"]["C"].pop(), r"field envelope.C must have 1500 values "
                                         r"\(options.n_points\), got 1499"),
    (lambda d: d["envelope"]["C"].reverse(), r"field envelope.C must increase"),
    (_flip_used, r"field n_points_used must be the \d+ used points of envelope, got \d+"),
    (lambda d: d["regression"]["D"].update(n=2), r"field regression.D.n must be the \d+ used "
                                                  r"envelope points, got 2"),
    (lambda d: d.update(n_sizes=d["n_runs"] + 1), r"field n_sizes must be at most n_runs"),
    (lambda d: d["N_line_bootstrap"].pop(), r"field N_line_bootstrap must have 30 rows, got 29"),
    (lambda d: d.update(a_bootstrap=None), r"field a_bootstrap is missing: "
                                           r"options.n_resamples is 30"),
    (lambda d: d["a_bootstrap"].__setitem__(0, 9.0), r"field a_bootstrap must be the slopes of "
                                                     r"N_line_bootstrap"),
    (lambda d: d.update(n_draws=7), r"field n_draws must be options.n_resamples \(30\), got 7"),
    (lambda d: d.update(surprise=1), r"field surprise is not a known field"),
    (lambda d: d.pop("kind"), r"field kind is missing"),
    (lambda d: d.update(schema_version=3), r"schema_version 3 is not supported"),
    (lambda d: d.update(flop_model="flops"), r"field flop_model must be one of 'C = k N D', "
                                             r"'runs', got 'flops'"),
    (lambda d: d["options"].update(n_points=5), r"field options.n_points must be >= 10"),
])
def test_a_bad_field_is_refused_naming_the_file_and_the_field(doc, change, message):
    _refused(_edited(doc, change), message)


def test_a_table_s_own_flops_load_as_no_k_in_either_version(analyses):
    """Version 2 writes null and the range of C/(N D) when C is the table's own column
    (the "logged" analysis: C = 6 N D (1 + (1e7/N)^(1/3)), one ratio per run); version 1
    wrote the runs' unused k, 6.0, and loads as no k; a document contradicting itself is
    refused."""
    logged = analyses["logged"]
    doc = json.loads(logged.to_json())
    sizes = logged.envelope.dropna(subset=["N"])["N"]
    ratios = 6 * (1 + (1e7 / sizes) ** (1 / 3))  # by hand, per size attaining a point
    assert doc["flops_per_token"] is None
    assert doc["flops_per_token_range"] == pytest.approx([ratios.min(), ratios.max()],
                                                         rel=1e-9)
    assert envelope_from_dict(doc).flops_per_token is None
    old = _edited(doc, lambda d: (d.update(schema_version=1, flops_per_token=6.0),
                                  d.pop("flops_per_token_range")))
    loaded = envelope_from_dict(old)
    assert loaded.flops_per_token is None and loaded.to_dict() == logged.to_dict()
    _refused(_edited(doc, lambda d: d.update(flops_per_token=6.0)),
             r"field flops_per_token must be null with flop_model 'runs'")
    _refused(_edited(doc, lambda d: d.pop("flops_per_token_range")),
             r"field flops_per_token_range is missing")
    _refused(_edited(doc, lambda d: d.update(flops_per_token_range=[6.0, 7.0])),
             r"field flops_per_token_range must be the lowest and highest C/\(N D\)")
    plain = json.loads(analyses["plain"].to_json())
    assert plain["flops_per_token"] == 6.0 and "flops_per_token_range" not in plain
    _refused(_edited(plain, lambda d: d.update(flops_per_token=None)),
             r"field flops_per_token must be k of C = k N D")
    _refused(_edited(plain, lambda d: d.update(flops_per_token_range=[6.0, 6.0])),
             r"field flops_per_token_range is for flop_model 'runs'")


def test_a_used_point_needs_its_size_tokens_loss_and_run(doc):
    used = doc["envelope"]["used"].index(True)
    for column in ("N", "D", "loss", "run"):
        edited = _edited(doc, lambda d: d["envelope"][column].__setitem__(used, None))
        _refused(edited, rf"field envelope.{column}\[{used}\] must be given at a used point")
    edited = _edited(doc, lambda d: d["envelope"]["N"].__setitem__(used, -1.0))
    _refused(edited, rf"field envelope.N\[{used}\] must be > 0 at a used point, got -1.0")
    edited = _edited(doc, lambda d: d["envelope"]["n_covering"].__setitem__(used, 99))
    runs = len(SIZES) * len(DEFAULT_HORIZONS)  # one run per size and horizon
    _refused(edited, rf"field envelope.n_covering\[{used}\] = 99 exceeds the {runs} runs "
                     r"\(n_runs\)")


def test_a_point_no_run_attains_has_no_tokens_loss_or_run(doc):
    point = _unused_covered_point(doc)
    edited = _edited(doc, lambda d: d["envelope"]["N"].__setitem__(point, None))
    _refused(edited, rf"field envelope.D\[{point}\] must be null where envelope.N is "
                     r"\(no run attains the envelope there\)")


def test_another_kind_of_document_is_named_with_its_loader(doc, analyses, tmp_path):
    iso = json.loads(sl.isoflop_fit(sl.generate_sweep(rng=0), budget="budget").to_json())
    _refused(iso, r"this is a scalinglaws IsoFLOP analysis file \(kind 'scalinglaws.isoflop'\), "
                  r"not an Approach 1 \(envelope\) analysis; .*read an IsoFLOP analysis with "
                  r"scalinglaws.load_isoflop")
    path = tmp_path / "envelope.json"
    analyses["plain"].save(path)
    hint = r"read an Approach 1 \(envelope\) analysis with scalinglaws.load_envelope"
    with pytest.raises(InputError, match=r"Approach 1 \(envelope\) analysis file .*" + hint):
        sl.load(path)
    with pytest.raises(InputError, match=r"Approach 1 \(envelope\) analysis file .*" + hint):
        load_isoflop(path)


def test_text_that_is_not_json_numbers_is_refused(doc):
    text = json.dumps(doc).replace('"a": ', '"a": NaN, "x": ', 1)
    with pytest.raises(InputError, match=r"^m.json: .*NaN"):
        envelope_from_json(text, source="m.json")
    with pytest.raises(InputError, match=r"^m.json: expected a JSON object, got list"):
        envelope_from_dict([doc], source="m.json")
