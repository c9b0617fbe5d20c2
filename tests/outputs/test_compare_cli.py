"""`scalinglaws compare`: the same numbers as the library, the shared flag vocabulary
(--group, alias --group-column), JSON and figure outputs, and errors in one line."""

import json

import pandas as pd
import pytest

from scalinglaws.analysis.compare import compare
from scalinglaws.laws.synthetic import DEFAULT_TRUTH, generate_sweep
from scalinglaws.outputs.cli import main

TRUTH = DEFAULT_TRUTH["chinchilla"]
KAPLAN = "rw/base/long/kaplan/kaplan/train"
TUNED = "rw/tuned/short/const/standard/val"


@pytest.fixture(scope="module")
def recipes(tmp_path_factory):
    """Two recipes, the second worth twice the compute (see tests/analysis/test_compare.py)."""
    gamma = TRUTH["alpha"] * TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])
    better = dict(TRUTH, A=TRUTH["A"] * 2 ** -gamma, B=TRUTH["B"] * 2 ** -gamma)
    frame = pd.concat([generate_sweep(params=TRUTH, rng=1).to_frame().assign(recipe="baseline"),
                       generate_sweep(params=better, rng=2).to_frame().assign(recipe="better")],
                      ignore_index=True)
    path = tmp_path_factory.mktemp("compare") / "recipes.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_json_is_the_librarys_comparison(recipes, capsys):
    path, frame = recipes
    args = ["compare", str(path), "--group-column", "recipe", "--reference", "baseline",
            "--budgets", "1e20", "1e22", "--shared", "E,alpha,beta", "--bootstrap", "30",
            "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    library = compare(frame, "baseline", groups="recipe", budgets=[1e20, 1e22],
                      shared=["E", "alpha", "beta"], n_resamples=30, rng=0)
    assert doc["multipliers"] == json.loads(library.to_json())["multipliers"]
    assert doc["multipliers"][0]["multiplier"] == pytest.approx(2.0, rel=0.05)
    assert doc["options"]["shared"] == ["E", "alpha", "beta"]


def test_group_flag_table_out_and_figure(recipes, tmp_path, capsys):
    path, _ = recipes
    out, figure = tmp_path / "comparison.json", tmp_path / "comparison.png"
    assert main(["compare", str(path), "--group", "recipe", "--bootstrap", "20", "--losses",
                 "2.2", "--out", str(out), "--figure", str(figure)]) == 0
    printed = capsys.readouterr().out
    assert "effective-compute multiplier" in printed and "loss = 2.2" in printed
    assert json.loads(out.read_text())["reference"] == "baseline"  # the first group
    assert figure.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("extra, message", [
    (["--group", "recipe", "--reference", "nope"],
     "--reference 'nope' is not a value of column 'recipe'; values: baseline, better"),
    ([], "--group COLUMN required"),
    (["--group", "recipe", "--bootstrap", "5"], "give at least 20 resamples"),
    (["--group", "nope"], "--group: no column 'nope'"),
    (["--group", "recipe", "--approach", "isoflop", "--curve", "akima", "--bootstrap", "10"],
     "give --seed-noise SD"),
    # one resample printed intervals [nan, nan] and p_adj = nan
    (["--group", "recipe", "--approach", "isoflop", "--curve", "parabola", "--bootstrap", "1"],
     "--bootstrap must be 0 (no resampling) or an integer >= 2, got 1"),
])
def test_errors_are_one_line(recipes, capsys, extra, message):
    path, _ = recipes
    assert main(["compare", str(path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scalinglaws: error:") and message in err and err.count("\n") == 1


def test_out_over_the_input_is_refused(recipes, capsys):
    path, _ = recipes
    assert main(["compare", str(path), "--group", "recipe", "--out", str(path)]) == 2
    assert "is also an input" in capsys.readouterr().err


def test_approach_two_on_porian_settings(shared_dir, tmp_path, capsys):
    frame = pd.read_csv(shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv")
    path = tmp_path / "two_settings.csv"
    frame[frame["setting"].isin([KAPLAN, TUNED])].drop(columns=["param_count"]).to_csv(
        path, index=False)
    figure = tmp_path / "isoflop.png"
    assert main(["compare", str(path), "--group", "setting", "--reference", TUNED,
                 "--approach", "isoflop", "--curve", "akima", "--seed-noise", "0.005",
                 "--bootstrap", "100",
                 "--json", "--figure", str(figure)]) == 0
    doc = json.loads(capsys.readouterr().out.split("\n" + str(figure))[0])
    row = next(r for r in doc["differences"] if r["quantity"] == "a")
    assert doc["approach"] == "isoflop" and row["group"] == KAPLAN
    assert row["difference_low"] > 0 and row["differs"]
    assert figure.read_bytes()[:4] == b"\x89PNG"


def test_curve_means_what_it_means_in_isoflop(recipes, capsys):
    """`--curve` had two defaults: parabola in `isoflop`, akima in `compare --approach
    isoflop`, which then refused to bootstrap without --seed-noise. One default now, and
    the comparison's analyses are `isoflop`'s for the same flags."""
    from scalinglaws.outputs.cli import build_parser

    def default(command):
        parser = next(a for a in build_parser()._actions if hasattr(a, "choices")
                      and isinstance(a.choices, dict) and command in a.choices).choices[command]
        action = next(a for a in parser._actions if "--curve" in a.option_strings)
        return action.default, action.help

    (iso, iso_help), (cmp, cmp_help) = default("isoflop"), default("compare")
    assert iso == cmp == "parabola"
    assert "default parabola" in iso_help and "default parabola" in cmp_help
    path, _ = recipes
    assert main(["compare", str(path), "--group", "recipe", "--approach", "isoflop",
                 "--bootstrap", "20", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["approach"] == "isoflop"
    assert json.dumps(doc).count('"curve": "parabola"') >= 1
    assert '"curve": "akima"' not in json.dumps(doc)


def test_a_multiplier_from_laws_that_misfit_says_why(shared_dir, tmp_path, capsys):
    """The audit's command, on two of Porian et al.'s settings: the multiplier 2.23e+04
    is not printed bare, and one warning names the groups whose laws misfit."""
    frame = pd.read_csv(shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv")
    two = frame[frame["setting"].isin([TUNED, "rw/base/short/kaplan/standard/val"])]
    path = tmp_path / "two.csv"
    two.to_csv(path, index=False)
    assert main(["compare", str(path), "--group", "setting", "--reference", TUNED,
                 "--bootstrap", "20"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    row = next(i for i, line in enumerate(lines) if "rw/base/short/kaplan/standard/val C =" in line)
    assert "2.23e+04 [" in lines[row]
    assert lines[row + 1].startswith("    why: 2.23e+04x: the group's law reaches 3.136")
    assert "observed at this budget: lowest loss 3.104" in captured.out.replace("\n         ", " ")
    misfit = [line for line in captured.err.splitlines() if "misfits the runs" in line]
    assert len(misfit) == 1 and "of 2 groups of column 'setting'" in misfit[0]
