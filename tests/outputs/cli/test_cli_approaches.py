"""`scalinglaws isoflop` and `scalinglaws envelope` (scalinglaws.outputs.cli.approaches)
against the Python API for the same seed: ``--by`` draws each group's resamples as
``isoflop_fit(groups=...)`` does, and the document records the seed; `envelope` gives
``envelope_fit``'s numbers and ``predict_optimal``'s table, and names its flags in errors."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.isoflop import envelope_fit
from scalinglaws.outputs.cli import main
from scalinglaws.outputs.io.isoflop import isoflop_from_dict, load_isoflop

DATA = Path(__file__).resolve().parents[3] / "datasets" / "synthetic_chinchilla_sweep.csv"


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    """The bundled sweep with a column ``half`` splitting every budget's runs in two
    groups that each still bracket the minimum."""
    frame = pd.read_csv(DATA)
    frame["half"] = ["a", "b"] * (len(frame) // 2) + ["a"] * (len(frame) % 2)
    path = tmp_path_factory.mktemp("isoflop") / "halves.csv"
    frame.to_csv(path, index=False)
    return path


def test_by_gives_the_grouped_python_api_s_numbers_for_the_same_seed(halves, tmp_path, capsys):
    # before: every group was fitted with rng=--seed, so the groups shared one random stream
    # and group a's bootstrap interval of a differed from isoflop_fit(groups=...)'s
    out = tmp_path / "by.json"
    assert main(["isoflop", str(halves), "--by", "half", "--bootstrap", "50", "--seed", "3",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    library = sl.isoflop_fit(sl.load_runs(halves), groups="half", n_resamples=50, rng=3)
    doc = json.loads(out.read_text())
    assert [g["group"] for g in doc["groups"]] == list(library.results)
    for group in library.results:
        mine = load_isoflop(out, group=group)
        theirs = library[group]
        assert mine.a_bootstrap_interval == theirs.a_bootstrap_interval
        assert mine.b_bootstrap_interval == theirs.b_bootstrap_interval
        assert list(mine.a_bootstrap) == list(theirs.a_bootstrap)
        assert mine.options["seed"] == theirs.options["seed"] == 3
    # the two groups draw different streams (they shared one before)
    a, b = (library[g].log_N_opt_draws for g in ("a", "b"))
    assert (a != b).any()


def test_the_document_records_the_seed_and_older_documents_load(tmp_path, capsys):
    # before: isoflop --bootstrap 50 --seed 1 differed by seed but held no seed
    assert main(["isoflop", str(DATA), "--bootstrap", "20", "--seed", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["options"]["seed"] == 1
    library = sl.isoflop_fit(sl.load_runs(DATA), n_resamples=20, rng=1)
    assert doc["a_bootstrap"] == list(library.a_bootstrap)
    # a Generator is no seed: None; and a document written before the field loads
    import numpy as np

    assert sl.isoflop_fit(DATA, n_resamples=20, rng=np.random.default_rng(1)).options[
        "seed"] is None
    doc.pop("kind")
    del doc["options"]["seed"]
    assert isoflop_from_dict({"kind": "scalinglaws.isoflop", **doc}).a == doc["a"]


# ------------------------------------------------------------------ envelope (Approach 1)
@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Training curves from a known law (the package's generator): one row per checkpoint,
    runs named in run_id, and a column ``half`` putting every other run in group b."""
    from scalinglaws.laws.synthetic import synthetic_training_curves

    frame = synthetic_training_curves(rng=0).to_frame()
    frame["half"] = ["a" if run % 2 == 0 else "b" for run in frame["run_id"]]
    path = tmp_path_factory.mktemp("envelope") / "checkpoints.csv"
    frame.to_csv(path, index=False)
    return path


def test_envelope_gives_the_python_api_s_numbers_for_the_same_seed(checkpoints, tmp_path,
                                                                    capsys):
    out = tmp_path / "envelope.json"
    assert main(["envelope", str(checkpoints), "--bootstrap", "30", "--seed", "5",
                 "--C", "1e22", "1e24", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    library = envelope_fit(sl.load_runs(checkpoints), n_resamples=30, rng=5)
    doc = json.loads(out.read_text())
    assert doc["kind"] == "scalinglaws.envelope"
    for name in ("a", "b", "N_coef", "D_coef", "a_interval", "n_points_used", "n_runs"):
        assert doc[name] == pytest.approx(library.to_dict()[name], rel=1e-12), name
    assert doc["a_bootstrap"] == library.to_dict()["a_bootstrap"]
    assert tuple(doc["a_bootstrap_interval"]) == library.a_bootstrap_interval
    assert doc["options"]["seed"] == library.options["seed"] == 5
    # the allocation at --C: predict_optimal's rows, intervals and their kind
    table = library.predict_optimal([1e22, 1e24])
    assert doc["optimal"] == table.to_dict(orient="records")
    assert (doc["interval"], doc["method"], doc["n_draws"]) == (
        "confidence", table.attrs["method"], 30)
    assert "bootstrap" in doc["method"]
    assert doc["flops_per_token"] == 6.0
    for row in doc["optimal"]:  # C = k N_opt D_opt at the k the document states
        assert row["C"] == pytest.approx(doc["flops_per_token"] * row["N"] * row["D"], rel=1e-9)
    # the readable output: the library's summary, then the fitted lines
    assert library.summary() in printed
    assert f"N_opt = {library.N_coef:.4g} * C^{library.a:.4f}" in printed
    # another seed, other resamples
    assert main(["envelope", str(checkpoints), "--bootstrap", "30", "--seed", "6", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["a_bootstrap"] != doc["a_bootstrap"]


def test_envelope_on_the_table_s_own_flops_states_no_k(checkpoints, tmp_path, capsys):
    # before: on a table whose FLOP column is not 6 N D (the OLMo ladder's, about 7-10 N D)
    # the command printed "C = 6 N D" and the document held "flops_per_token": 6.0 beside
    # "flop_model": "runs", though no k entered the envelope
    frame = pd.read_csv(checkpoints)
    assert "C" in frame.columns
    per_token = np.where(frame["N"] < frame["N"].median(), 10.0, 7.25)  # FLOPs/(N D)
    frame["C"] = per_token * frame["N"] * frame["D"]
    path = tmp_path / "own_flops.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "own.json"
    assert main(["envelope", str(path), "--points", "300", "--C", "1e22", "--out",
                 str(out)]) == 0
    printed = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["flop_model"] == "runs"
    assert doc["flops_per_token"] is None
    low, high = doc["flops_per_token_range"]
    assert (low, high) == pytest.approx((7.25, 10.0), rel=1e-9)  # the ratios put in the table
    # the library says the same, and reads the file back (it refused the null before)
    from scalinglaws import load_envelope

    loaded = load_envelope(out)
    assert loaded.flops_per_token is None and loaded.flops_per_token_range == (low, high)
    attrs = loaded.predict_optimal(1e22).attrs
    assert (attrs["flops_per_token"], attrs["flops_per_token_range"]) == (None, [low, high])
    assert "C = 6 N D" not in printed
    assert (f"C the table's own FLOP column, not k N D: C/(N D) {low:.3g}-{high:.3g} along "
            "the envelope" in printed)
    # C = k N D (the generator's, k = 6): the document and the lines say that k
    assert main(["envelope", str(checkpoints), "--points", "300", "--json"]) == 0
    printed = capsys.readouterr().out
    doc = json.loads(printed)
    assert (doc["flop_model"], doc["flops_per_token"]) == ("C = k N D", 6.0)
    assert "flops_per_token_range" not in doc
    assert main(["envelope", str(checkpoints), "--points", "300"]) == 0
    assert "C = 6 N D)" in capsys.readouterr().out


def test_envelope_json_is_the_out_document_and_csv_is_the_table(checkpoints, tmp_path, capsys):
    out = tmp_path / "envelope.json"
    argv = ["envelope", str(checkpoints), "--points", "200", "--budgets", "1e23"]
    assert main(argv + ["--json", "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(out.read_text())
    library = envelope_fit(sl.load_runs(checkpoints), n_points=200, rng=0)
    table = tmp_path / "optimal.csv"
    assert main(argv + ["--out", str(table)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(table), pd.DataFrame(library.predict_optimal(1e23)))
    # without --C a table is the envelope, and without --bootstrap the intervals are t
    assert main(["envelope", str(checkpoints), "--points", "200", "--out",
                 str(tmp_path / "envelope.csv")]) == 0
    assert "t interval" in json.loads(out.read_text())["method"]
    written = pd.read_csv(tmp_path / "envelope.csv")
    assert list(written["N"]) == list(library.envelope["N"].astype(float))
    assert written["C"].tolist() == pytest.approx(library.envelope["C"].tolist(), rel=1e-15)
    capsys.readouterr()


def test_envelope_by_draws_each_group_from_a_child_of_the_seed(checkpoints, tmp_path, capsys):
    assert main(["envelope", str(checkpoints), "--by", "half", "--bootstrap", "20",
                 "--seed", "3", "--points", "300", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["kind"], doc["by"]) == ("scalinglaws.envelope", "half")
    frame = pd.read_csv(checkpoints)
    children = np.random.default_rng(3).spawn(2)
    for group, child in zip(doc["groups"], children):
        subset = frame[frame["half"] == group["group"]]
        theirs = envelope_fit(subset, n_resamples=20, rng=child, n_points=300)
        assert group["a_bootstrap"] == theirs.to_dict()["a_bootstrap"]  # (NaN as null)
        assert group["a"] == theirs.a
        assert group["options"]["seed"] == 3


def test_envelope_help_says_the_units_and_the_rows(capsys):
    assert main(["envelope", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for words in ("N = parameters", "D = training tokens", "compute in FLOP",
                  "checkpoint of a training run", "run_id", "--run-column", "--bootstrap",
                  "--C FLOP"):
        assert words in text, words


@pytest.mark.parametrize("change, argv, words", [
    (lambda f: f.drop(columns="run_id"), [], ["--run-column 'run_id'", "no such column"]),
    (lambda f: f, ["--run-column", "runs"], ["--run-column 'runs'", "no such column"]),
    # a run whose size changes after its 20th checkpoint
    (lambda f: f.assign(N=f["N"].where((f["run_id"] != 3) | (f["step"] <= 20), 2 * f["N"])),
     [], ["--run-column", "run 3 has several sizes N", "'run_id'"]),
    (lambda f: f, ["--run-column", "step"], ["--run-column", "several sizes N", "'step'"]),
    (lambda f: f, ["--points", "3"], ["--points must be an integer >= 10"]),
], ids=["no run_id", "no such column", "N changes", "wrong column", "few points"])
def test_envelope_bad_input_is_one_line_naming_the_flag(change, argv, words, checkpoints,
                                                        tmp_path, capsys):
    path = tmp_path / "runs.csv"
    change(pd.read_csv(checkpoints)).to_csv(path, index=False)
    assert main(["envelope", str(path), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scalinglaws: error:"), lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "run_column`" not in lines[0] and "n_points" not in lines[0]


def test_a_budget_with_too_few_runs_reads_the_same_in_the_warning_and_the_table(tmp_path,
                                                                               capsys):
    # before: the warning said "--min-points is 5" (translated), the table "`min_points` is 5"
    frame = pd.read_csv(DATA)
    first = frame["budget"] == frame["budget"].min()
    path = tmp_path / "short.csv"
    frame[~first | (first & (frame.index % 3 == 0))].to_csv(path, index=False)  # 4 of 12
    assert main(["isoflop", str(path), "--budget", "budget"]) == 0
    captured = capsys.readouterr()
    reason = ("too_few_points: 4 runs (4 distinct sizes); a budget needs 5 runs and 3 distinct "
              "sizes (min_points= in Python, --min-points on the command line)")
    assert reason in captured.out and f"({reason})" in captured.err


def test_isoflop_C_gives_predict_optimal_at_those_budgets(halves, tmp_path, capsys):
    """`isoflop --C`, as `envelope --C`: after the analysis, N_opt and D_opt at each budget
    with predict_optimal's intervals, printed as `optimal` prints them and under
    ``optimal`` in the document (with ``interval``, ``method`` and ``n_draws``), which
    loads back and gives `optimal` the same rows. Before, isoflop had no --C."""
    from scalinglaws.outputs.cli._tables import format_table

    out = tmp_path / "iso.json"
    assert main(["isoflop", str(DATA), "--bootstrap", "30", "--C", "1e22", "1e23",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    library = sl.isoflop_fit(sl.load_runs(DATA), n_resamples=30, rng=0)
    table = library.predict_optimal([1e22, 1e23])
    doc = json.loads(out.read_text())
    assert doc["optimal"] == table.to_dict(orient="records")
    assert (doc["interval"], doc["method"], doc["n_draws"]) == (
        "confidence", table.attrs["method"], 30)
    assert library.summary() in printed
    assert "compute-optimal allocation at --C" in printed and format_table(table) in printed
    assert "confidence intervals: 95% two-sided (bootstrap percentile" in printed
    # the document is still the analysis: it loads, and `optimal` on it gives those rows
    loaded = load_isoflop(out)
    assert loaded.to_dict() == {key: value for key, value in doc.items()
                                if key not in ("interval", "method", "n_draws", "optimal")}
    assert main(["optimal", str(out), "--C", "1e22", "1e23", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == doc["optimal"]
    # a t interval (no resamples) has no draws behind it; --by: each group its own rows
    assert main(["isoflop", str(halves), "--by", "half", "--C", "1e22", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for group in doc["groups"]:
        theirs = isoflop_from_dict({"kind": doc["kind"], **{
            k: v for k, v in group.items() if k != "group"}}).predict_optimal(1e22)
        assert group["optimal"] == theirs.to_dict(orient="records")
        assert (group["method"], group["n_draws"]) == (theirs.attrs["method"], 0)
    # without --C the document is the analysis' own, as before
    assert main(["isoflop", str(DATA), "--json"]) == 0
    assert not {"optimal", "interval", "method", "n_draws"} & set(
        json.loads(capsys.readouterr().out))


def test_a_document_s_n_draws_is_at_most_its_resamples(tmp_path, capsys):
    out = tmp_path / "iso.json"
    assert main(["isoflop", str(DATA), "--bootstrap", "20", "--C", "1e22", "--out",
                 str(out)]) == 0
    capsys.readouterr()
    doc = json.loads(out.read_text())
    doc["n_draws"] = 21
    out.write_text(json.dumps(doc))
    with pytest.raises(sl.InputError, match=r"field n_draws must be at most options.n_resamples "
                                            r"\(20\), got 21"):
        load_isoflop(out)


def test_envelope_refuses_one_resample_as_fit_does(checkpoints, capsys):
    # it printed a zero-width "95% bootstrap percentile" interval that excluded the estimate
    assert main(["envelope", str(checkpoints), "--bootstrap", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("scalinglaws: error: --bootstrap must be 0 (no resampling) or an integer "
                   ">= 2, got 1"), err
