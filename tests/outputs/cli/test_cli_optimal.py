"""`scalinglaws optimal` and `scalinglaws diagnose` on a saved fit
(scalinglaws.outputs.cli.fitting): the compute-optimal table's intervals, its FLOP
accounting and its width on a terminal; a law that ties beta = alpha says its intervals hold
the tie, and a calibrated one widens them to the fit without it; `diagnose` takes lists of
models as `predict` does."""

import pytest

from scalinglaws.outputs.cli import main

from cli_json import DEFAULT_DATA, _json


def test_optimal_of_a_tied_fit_says_its_intervals_hold_the_tie(boot_file, tmp_path, capsys):
    """A preset-extrapolate law ties beta = alpha, which makes N_opt grow as C^0.5 exactly
    in every bootstrap refit: its interval is conditional on that, and optimal says so
    (a reviewer took such an interval for the data's). A free fit has no note."""
    tied = tmp_path / "tied.json"
    assert main(["fit", str(DEFAULT_DATA), "--preset", "extrapolate", "--bootstrap", "30",
                 "--seed", "1", "--out", str(tied)]) == 0
    capsys.readouterr()
    assert main(["optimal", str(tied), "--C", "1e21"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().splitlines()[-1] == (
        "note: the intervals hold beta = alpha as exact (every bootstrap refit keeps it; "
        "with beta = alpha, N_opt and D_opt grow as C^0.5 exactly); a fit without it gives "
        "the data's own spread, and a calibrated law (fit --uncertainty) widens them to it")
    assert main(["optimal", str(boot_file), "--C", "1e21"]) == 0
    assert "note:" not in capsys.readouterr().out


def test_optimal_of_a_calibrated_tied_law_widens_its_intervals(tmp_path, capsys):
    """A calibrated preset-extrapolate law carries the fit without the tie: optimal's
    intervals reach its delta-method interval (analysis/restricted.py), and the table's
    JSON and the note say so."""
    tied, law = tmp_path / "tied.json", tmp_path / "law.json"
    for out, extra in ((tied, []), (law, ["--uncertainty"])):
        assert main(["fit", str(DEFAULT_DATA), "--preset", "extrapolate", "--bootstrap", "30",
                     "--seed", "1", *extra, "--out", str(out)]) == 0
    capsys.readouterr()
    rows = {}
    for name, path in (("tied", tied), ("law", law)):
        assert main(["optimal", str(path), "--C", "1e23", "--json"]) == 0
        doc = _json(capsys)
        rows[name] = doc["rows"][0]
        if name == "law":
            assert doc["interval"] == "confidence"
            assert doc["method"] == ("bootstrap percentile, widened to the fit without the "
                                     "tie (delta method)")
    assert rows["law"]["N"] == pytest.approx(rows["tied"]["N"], rel=1e-12)
    assert rows["law"]["N_low"] <= rows["tied"]["N_low"]
    assert rows["law"]["N_high"] >= rows["tied"]["N_high"]
    assert main(["optimal", str(law), "--C", "1e23"]) == 0
    assert capsys.readouterr().out.rstrip().splitlines()[-1].startswith(
        "note: the fit holds beta = alpha; with beta = alpha, N_opt and D_opt grow as C^0.5 "
        "exactly; the intervals are widened to the fit without it")


def test_optimal_and_diagnose_commands(boot_file, capsys):
    assert main(["optimal", str(boot_file), "--compute", "5.76e23", "1e24", "--json"]) == 0
    doc = _json(capsys)
    rows = doc["rows"]
    assert len(rows) == 2 and rows[0]["N_low"] < rows[0]["N"] < rows[0]["N_high"]
    # the kind and the method, as predict's document has them, and the FLOP accounting:
    # each row's C is k N_opt D_opt with the k the document states
    assert (doc["interval"], doc["method"], doc["n_draws"]) == ("confidence",
                                                                "bootstrap percentile", 30)
    assert doc["flops_per_token"] == 6.0
    for row in rows:
        assert row["C"] == pytest.approx(doc["flops_per_token"] * row["N"] * row["D"], rel=1e-9)
    assert main(["diagnose", str(boot_file), "--N", "175e9", "--D", "300e9"]) == 0
    assert "under-trained" in capsys.readouterr().out
    assert main(["predict", str(boot_file), "--N", "7e10", "--D", "1.4e12", "--json"]) == 0
    doc = _json(capsys)
    row = doc["rows"][0]
    assert row["confidence_low"] < row["loss"] < row["confidence_high"]
    assert doc["interval"] == "confidence" and doc["confidence_level"] == 0.95


def test_diagnose_takes_lists_like_predict(fit_file, capsys):
    assert main(["diagnose", str(fit_file), "--N", "7B", "175B", "--D", "300B", "--json"]) == 0
    docs = _json(capsys)
    header = ["kind", "schema_version", "package_version"]
    assert list(docs) == [*header, "models"] and docs["kind"] == "scalinglaws.diagnose"
    assert len(docs["models"]) == 2
    assert main(["diagnose", str(fit_file), "--N", "175B", "--D", "300B", "--json"]) == 0
    single = _json(capsys)  # one diagnosis is a document headed inside, as --out writes it
    assert single == {**{name: docs[name] for name in header}, **docs["models"][1]}


def test_optimal_table_fits_a_terminal(boot_file, capsys):
    assert main(["optimal", str(boot_file), "--C", "5.76e23", "1e24"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and max(map(len, lines)) <= 100, lines
    assert "[" in lines[1]  # intervals shown as value [low, high]
    assert lines[4] == "confidence intervals: 95% two-sided (bootstrap percentile, over 30 draws)"
