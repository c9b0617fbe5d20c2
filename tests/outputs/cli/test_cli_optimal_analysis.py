"""`scalinglaws optimal` on an IsoFLOP (Approach 2) or envelope (Approach 1) document
(scalinglaws.outputs.cli._optimal_analysis): N_opt and D_opt at --C are the analysis' own
``predict_optimal`` (``load_isoflop(path).predict_optimal(C)``, ``load_envelope``'s), in
the table, --json and --out shapes of `optimal` on a fit, with what their intervals are;
--group picks one analysis of an `isoflop --by` / `envelope --by` document; flags that
mean nothing for an analysis are refused naming the flag.

Before, `optimal iso.json --C 1e22` was refused ("not a fit") and only Python answered."""

import json
from pathlib import Path

import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.outputs.cli import main
from scalinglaws.outputs.io.envelope import load_envelope
from scalinglaws.outputs.io.isoflop import load_isoflop

from cli_json import DEFAULT_DATA, _json

BUDGETS = [1e22, 1e23]


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """An IsoFLOP document with resamples, one `isoflop --by half` document, an envelope
    document with resamples and one without, and an `envelope --by half` document."""
    from scalinglaws.laws.synthetic import synthetic_training_curves

    folder = tmp_path_factory.mktemp("analyses")
    sweep = pd.read_csv(DEFAULT_DATA)
    sweep["half"] = ["a", "b"] * (len(sweep) // 2) + ["a"] * (len(sweep) % 2)
    sweep.to_csv(folder / "halves.csv", index=False)
    curves = synthetic_training_curves(rng=0).to_frame()
    curves["half"] = ["a" if run % 2 == 0 else "b" for run in curves["run_id"]]
    curves.to_csv(folder / "checkpoints.csv", index=False)
    paths = {name: folder / f"{name}.json" for name in ("iso", "iso_by", "env", "env_t",
                                                        "env_by")}
    commands = {
        "iso": ["isoflop", str(DEFAULT_DATA), "--bootstrap", "30", "--seed", "2"],
        "iso_by": ["isoflop", str(folder / "halves.csv"), "--by", "half"],
        "env": ["envelope", str(folder / "checkpoints.csv"), "--points", "300",
                "--bootstrap", "20"],
        "env_t": ["envelope", str(folder / "checkpoints.csv"), "--points", "300"],
        "env_by": ["envelope", str(folder / "checkpoints.csv"), "--points", "300", "--by",
                   "half"],
    }
    for name, argv in commands.items():
        assert main([*argv, "--out", str(paths[name])]) == 0
    return paths


def _error(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scalinglaws: error: "), lines
    return lines[0]


@pytest.mark.parametrize("name, loader, approach", [
    ("iso", load_isoflop, "isoflop"), ("env", load_envelope, "envelope")])
def test_json_gives_the_python_api_s_numbers(name, loader, approach, documents, capsys):
    capsys.readouterr()
    path = documents[name]
    assert main(["optimal", str(path), "--C", *map(str, BUDGETS), "--json"]) == 0
    doc = _json(capsys)
    table = loader(path).predict_optimal(BUDGETS)
    # the header of every command's document, then what the intervals are
    assert list(doc)[:3] == ["kind", "schema_version", "package_version"]
    assert (doc["kind"], doc["schema_version"], doc["package_version"]) == (
        "scalinglaws.optimal", 1, sl.__version__)
    assert doc["rows"] == table.to_dict(orient="records")  # the very numbers
    for key in ("interval", "method", "confidence_level", "n_draws", "flops_per_token"):
        assert doc[key] == table.attrs[key], key
    assert doc["interval"] == "confidence" and "bootstrap percentile" in doc["method"]
    assert doc["approach"] == approach
    assert [row["C"] for row in doc["rows"]] == BUDGETS
    for row in doc["rows"]:  # C = k N_opt D_opt at the analysis' k
        assert row["C"] == pytest.approx(doc["flops_per_token"] * row["N"] * row["D"],
                                         rel=1e-9)


@pytest.mark.parametrize("name, loader, draws", [
    ("iso", load_isoflop, 30), ("env", load_envelope, 20)])
def test_table_and_csv_are_optimal_s_shapes(name, loader, draws, documents, tmp_path,
                                            capsys):
    capsys.readouterr()
    path = documents[name]
    assert main(["optimal", str(path), "--C", *map(str, BUDGETS)]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = loader(path).predict_optimal(BUDGETS)
    assert lines[0].split() == ["C", "N", "D", "tokens_per_parameter"]
    assert lines[1].lstrip().startswith("1e+22") and "[" in lines[1]
    # what the intervals are, in predict_optimal's words, wrapped to a terminal's width
    assert (f"confidence intervals: 95% two-sided ({table.attrs['method']}, over {draws} "
            "draws)") in " ".join(line.strip() for line in lines)
    assert max(map(len, lines)) <= 100, lines
    out = tmp_path / "optimal.csv"
    assert main(["optimal", str(path), "--C", *map(str, BUDGETS), "--out", str(out)]) == 0
    capsys.readouterr()
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.DataFrame(table))
    assert main(["optimal", str(path), "--C", *map(str, BUDGETS), "--out",
                 str(tmp_path / "optimal.json")]) == 0
    capsys.readouterr()
    assert json.loads((tmp_path / "optimal.json").read_text())["rows"] == table.to_dict(
        orient="records")


def test_an_envelope_without_resamples_says_its_t_intervals_are_too_narrow(documents,
                                                                            capsys):
    capsys.readouterr()
    assert main(["optimal", str(documents["env_t"]), "--C", "1e22"]) == 0
    out = capsys.readouterr().out
    table = load_envelope(documents["env_t"]).predict_optimal(1e22)
    assert "t interval" in table.attrs["method"]
    text = " ".join(line.strip() for line in out.splitlines())
    assert f"confidence intervals: 95% two-sided ({table.attrs['method']})" in text
    assert "far too narrow" in text and "--bootstrap" in text


@pytest.mark.parametrize("name, loader, command", [
    ("iso_by", load_isoflop, "isoflop"), ("env_by", load_envelope, "envelope")])
def test_group_picks_one_analysis_of_a_by_document(name, loader, command, documents,
                                                   capsys):
    capsys.readouterr()
    path = documents[name]
    assert main(["optimal", str(path), "--group-value", "b", "--C", "1e22", "--json"]) == 0
    doc = _json(capsys)
    table = loader(path, group="b").predict_optimal(1e22)
    assert doc["rows"] == table.to_dict(orient="records")
    assert (doc["by"], doc["group"]) == ("half", "b")
    assert doc["rows"] != loader(path, group="a").predict_optimal(1e22).to_dict(
        orient="records")
    # the readable table says which analysis it came from
    assert main(["optimal", str(path), "--group-value", "b", "--C", "1e22"]) == 0
    assert "half = b" in capsys.readouterr().out
    # without --group: the groups, and the flag that picks one (not Python's group=)
    assert main(["optimal", str(path), "--C", "1e22"]) == 2
    message = _error(capsys)
    assert f"one per value of 'half' (`scalinglaws {command} --by half`)" in message
    assert "--group-value VALUE" in message and "'a', 'b'" in message
    assert "group=" not in message
    assert main(["optimal", str(path), "--group-value", "c", "--C", "1e22"]) == 2
    message = _error(capsys)
    assert "--group-value 'c'" in message and "'a', 'b'" in message and "group=" not in message


def test_group_is_refused_where_there_is_no_group_to_pick(documents, fit_file, capsys):
    capsys.readouterr()
    assert main(["optimal", str(documents["iso"]), "--group-value", "a", "--C", "1e22"]) == 2
    message = _error(capsys)
    assert "--group-value 'a'" in message and "one IsoFLOP analysis" in message
    assert "group=" not in message
    assert main(["optimal", str(fit_file), "--group-value", "a", "--C", "1e22"]) == 2
    message = _error(capsys)
    assert "--group-value" in message and "a fit" in message and "--by" in message


@pytest.mark.parametrize("extra, words", [
    (["--U", "25B"], ["--U", "data_constrained", "IsoFLOP analysis"]),
    (["--flops-per-token", "8"], ["--flops-per-token", "IsoFLOP analysis",
                                  "isoflop --flops-per-token"]),
    (["--confidence-level", "0.8"], ["--confidence-level 0.8", "95%",
                                     "isoflop --confidence-level"]),
    (["--level", "0.8"], ["--confidence-level 0.8"]),
], ids=["U", "flops-per-token", "confidence-level", "level"])
def test_flags_without_meaning_for_an_analysis_are_refused(extra, words, documents, capsys):
    capsys.readouterr()
    assert main(["optimal", str(documents["iso"]), "--C", "1e22", *extra]) == 2
    message = _error(capsys)
    for word in words:
        assert word in message, (word, message)


def test_the_analysis_own_level_is_accepted_and_an_envelope_names_its_command(documents,
                                                                             capsys):
    capsys.readouterr()
    assert main(["optimal", str(documents["iso"]), "--C", "1e22", "--confidence-level",
                 "0.95"]) == 0
    capsys.readouterr()
    assert main(["optimal", str(documents["env"]), "--C", "1e22", "--flops-per-token",
                 "8"]) == 2
    message = _error(capsys)
    assert "envelope analysis" in message and "envelope --flops-per-token" in message


def test_another_document_is_refused_naming_what_optimal_reads(fit_file, tmp_path, capsys):
    diagnosis = tmp_path / "diagnosis.json"
    assert main(["diagnose", str(fit_file), "--N", "1B", "--D", "20B", "--out",
                 str(diagnosis)]) == 0
    capsys.readouterr()
    assert main(["optimal", str(diagnosis), "--C", "1e22"]) == 2
    message = _error(capsys)
    for words in ("'scalinglaws.diagnose'", "fit --out", "isoflop --out", "envelope --out"):
        assert words in message, (words, message)
