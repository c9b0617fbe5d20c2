"""`predict` and `optimal` on forms whose inputs are not just N and D (outputs/cli/fitting.py).

`predict` takes every input a built-in form needs (--U for data_constrained, --S-min for
kaplan_ns, --task-loss for the task forms); `optimal` allocates a data-constrained fit's
budgets under a limit of unique tokens (--U). Expected values are published ones or the
law's formula written out by hand here, never the package's own output.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from scalinglaws import FitResult
from scalinglaws.laws.published import KAPLAN_2020_NS
from scalinglaws.outputs.cli import main

# huggingface/datablations README "Parametric Fit" / utils/parametric_fit.ipynb outputs
# (the same values tests/laws/test_datablations.py checks the law against)
README_PREDICTIONS = [((6.34e9, 242e9, 25e9), 2.2256440889984477),
                      ((8.67e9, 178e9, 25e9), 2.2269634075087867)]
# the datablations reference sheet, section 5: a grid search at C = 1e22, U = 25e9
SHEET_OPTIMUM = {"C": 1e22, "U": 25e9, "N": 7022364735.879969, "D": 237336955477.55075,
                 "epochs": 9.49347821910203}


def _json(capsys):
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def paper_fit(tmp_path_factory):
    """Muennighoff et al.'s published data-constrained law as a saved fit."""
    from scalinglaws.laws.datablations import MUENNIGHOFF_2023

    out = tmp_path_factory.mktemp("dc") / "dc_fit.json"
    FitResult.from_params("data_constrained", dict(MUENNIGHOFF_2023["params"])).save(out)
    return out


def test_predict_takes_unique_tokens_for_a_data_constrained_fit(paper_fit, capsys):
    # before: "form 'data_constrained' needs --U", then "unrecognized arguments: --U"
    (n1, d1, u1), loss1 = README_PREDICTIONS[0]
    (n2, d2, u2), loss2 = README_PREDICTIONS[1]
    assert main(["predict", str(paper_fit), "--N", str(n1), str(n2), "--D", str(d1), str(d2),
                 "--U", "25B", "--json"]) == 0
    rows = _json(capsys)["rows"]
    assert [r["U"] for r in rows] == [u1, u2]
    # the notebook's float64 outputs: the law is the same arithmetic, so to 1e-15 (README)
    assert rows[0]["loss"] == pytest.approx(loss1, rel=1e-15)
    assert rows[1]["loss"] == pytest.approx(loss2, rel=1e-15)


def test_predict_names_the_missing_and_the_unused_input_flags(paper_fit, capsys):
    assert main(["predict", str(paper_fit), "--N", "7e9", "--D", "2.4e11"]) == 2
    err = capsys.readouterr().err
    assert "--U" in err and "N, D, U" in err
    assert main(["predict", str(paper_fit), "--N", "7e9", "--D", "2.4e11", "--U", "25e9",
                 "--S-min", "1e5"]) == 2
    assert "not --S-min" in capsys.readouterr().err
    assert main(["predict", str(paper_fit), "--N", "7e9", "8e9", "9e9", "--D", "2.4e11",
                 "--U", "1e9", "2e9"]) == 2
    assert "--U has 2 values but --N has 3" in capsys.readouterr().err


def test_the_users_data_constrained_fit_is_usable_from_the_command_line(tmp_path, capsys):
    # the reported sequence: fit --form data_constrained --fix ... --out, then predict --U
    from scalinglaws.laws.datablations import MUENNIGHOFF_2023, DataConstrained

    p = dict(MUENNIGHOFF_2023["params"])
    n = np.repeat([1e8, 3e8, 1e9, 3e9], 6)
    d = np.tile([1e9, 3e9, 1e10, 3e10, 1e11, 3e11], 4)
    u = np.resize([1e9, 1e10, 1e11], n.size)
    loss = DataConstrained().predict(p, N=n, D=d, U=u)  # noise-free: the fit recovers p
    lines = ["N,D,U,loss"] + [f"{a:.17g},{b:.17g},{c:.17g},{e:.17g}" for a, b, c, e in zip(n, d, u, loss)]
    (tmp_path / "dc.csv").write_text("\n".join(lines) + "\n")
    fix = ",".join(f"{k}={p[k]!r}" for k in ("E", "A", "B", "alpha", "beta"))
    assert main(["fit", str(tmp_path / "dc.csv"), "--form", "data_constrained", "--fix", fix,
                 "--out", str(tmp_path / "dc_fit.json")]) == 0
    capsys.readouterr()
    (n1, d1, u1), loss1 = README_PREDICTIONS[0]
    assert main(["predict", str(tmp_path / "dc_fit.json"), "--N", str(n1), "--D", str(d1),
                 "--U", str(u1), "--json"]) == 0
    # R*_D, R*_N recovered from noise-free runs: the notebook's value to 1e-6
    assert _json(capsys)["rows"][0]["loss"] == pytest.approx(loss1, rel=1e-6)


def test_predict_takes_minimum_steps_for_kaplan_ns(tmp_path, capsys):
    out = tmp_path / "ns.json"
    FitResult.from_params("kaplan_ns", dict(KAPLAN_2020_NS)).save(out)
    assert main(["predict", str(out), "--N", "1e9", "1e8", "--S-min", "1e5", "--json"]) == 0
    rows = _json(capsys)["rows"]
    for row, n in zip(rows, (1e9, 1e8)):  # Kaplan et al. 2020 Eq. 1.6, written out
        law = ((KAPLAN_2020_NS["N_c"] / n) ** KAPLAN_2020_NS["alpha_N"]
               + (KAPLAN_2020_NS["S_c"] / 1e5) ** KAPLAN_2020_NS["alpha_S"])
        assert row["S_min"] == 1e5 and row["loss"] == pytest.approx(law, rel=1e-12)
    assert main(["predict", str(out), "--N", "1e9"]) == 2
    assert "give --S-min" in capsys.readouterr().err


def test_predict_takes_a_task_loss_even_zero(tmp_path, capsys):
    params = {"a": -0.75, "x0": 0.6, "k": 5.0, "b": 1.0}
    out = tmp_path / "task.json"
    FitResult.from_params("task_sigmoid", params).save(out)
    assert main(["predict", str(out), "--task-loss", "0", "0.6", "2", "--json"]) == 0
    rows = _json(capsys)["rows"]
    for row, x in zip(rows, (0.0, 0.6, 2.0)):  # Bhagia et al. 2024 Eq. 2, written out
        expected = params["a"] / (1 + math.exp(-params["k"] * (x - params["x0"]))) + params["b"]
        assert row["loss"] == pytest.approx(expected, rel=1e-12)
    assert main(["predict", str(out), "--task-loss", "-1"]) == 2
    assert "--task-loss" in capsys.readouterr().err


def test_predict_help_lists_every_input_flag_with_its_units(capsys):
    assert main(["predict", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for flag in ("--U", "--S-min", "--task-loss"):
        assert flag in text
    assert "unique tokens" in text and "minimum optimisation steps" in text


def test_optimal_allocates_a_data_constrained_fit_under_unique_tokens(paper_fit, capsys):
    # before: "form 'data_constrained' has inputs (N, D, U); allocating compute ... needs a
    # law in both N and D", with no command answering data_constrained_optimal
    assert main(["optimal", str(paper_fit), "--C", "1e22", "--U", "25B", "--json"]) == 0
    doc = _json(capsys)
    row = doc["rows"][0]
    # no draws, no intervals: nothing said of them, as optimal of a fit without a bootstrap
    assert doc["question"] == "data_constrained_optimal" and "interval" not in doc
    # the sheet's 1,000-point grid search: 5e-3 as in tests/laws/test_datablations.py
    assert row["N"] == pytest.approx(SHEET_OPTIMUM["N"], rel=5e-3)
    assert row["D"] == pytest.approx(SHEET_OPTIMUM["D"], rel=5e-3)
    assert row["epochs"] == pytest.approx(SHEET_OPTIMUM["epochs"], rel=5e-3)
    assert 6 * row["N"] * row["D"] == pytest.approx(1e22, rel=1e-12)
    assert row["U"] == 25e9 and row["at_search_edge"] is False


def test_optimal_of_a_data_constrained_fit_asks_for_unique_tokens(paper_fit, chinchilla_fit,
                                                                 capsys):
    assert main(["optimal", str(paper_fit), "--C", "1e22"]) == 2
    assert "give --U" in capsys.readouterr().err
    assert main(["optimal", str(chinchilla_fit), "--C", "1e22", "--U", "25B"]) == 2
    assert "--U (unique tokens) is for a data_constrained fit" in capsys.readouterr().err


@pytest.fixture()
def chinchilla_fit(tmp_path):
    from scalinglaws.laws.published import HOFFMANN_2022_ROUNDED

    out = tmp_path / "chinchilla.json"
    FitResult.from_params("chinchilla", dict(HOFFMANN_2022_ROUNDED)).save(out)
    return out


def test_generate_writes_tsv_by_the_name_and_refuses_other_formats(tmp_path, capsys):
    # before: CSV text under every name: runs.tsv comma-separated, runs.parquet not Parquet
    import pandas as pd

    assert main(["generate", "--out", str(tmp_path / "runs.tsv")]) == 0
    header = (tmp_path / "runs.tsv").read_text().splitlines()[0]
    assert header == "N\tD\tC\tloss\tbudget"
    assert len(pd.read_csv(tmp_path / "runs.tsv", sep="\t")) == 108
    capsys.readouterr()
    assert main(["generate", "--out", str(tmp_path / "runs.parquet")]) == 2
    assert ("generate writes the runs as CSV or TSV, not parquet; end the name with .csv or "
            ".tsv") in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.tsv"]


def test_predict_takes_compute_with_one_of_n_and_d(tmp_path, capsys):
    # before: "--C" was refused for a law of N and D; Python's predict(N=, C=) ignored C
    out = tmp_path / "hoffmann.json"
    FitResult.from_params("chinchilla", dict(E=1.69, A=406.4, B=410.7, alpha=0.34,
                                             beta=0.28)).save(out)
    assert main(["predict", str(out), "--N", "70B", "--C", "5.88e23", "--json"]) == 0
    row, = _json(capsys)["rows"]
    # Chinchilla: D = 5.88e23 / (6 * 70e9) = 1.4e12; Hoffmann's coefficients give 1.9366
    # (4 printed digits, Form.predict's doctest)
    assert row["D"] == pytest.approx(1.4e12, rel=1e-14)
    assert row["loss"] == pytest.approx(1.9366, abs=5e-5)
    assert main(["predict", str(out), "--N", "70B", "--D", "1.4T", "--C", "5.88e23"]) == 2
    assert "not --C; --C stands for the one of --N and --D not given" in capsys.readouterr().err


# ----------------------------------------------- fitting forms whose inputs go beyond N, D, C, U
# Before: `fit nds.csv --form kaplan_ns` said "unknown input 'S_min'; the canonical inputs are
# [...]" (no file), --columns S_min=... "not one of N, D, C, loss, U", and a task form could
# not be fitted from any table. The truth is the generating law, written out here.
def _kaplan_ns_table(path, column="S_min"):
    n = np.repeat(np.geomspace(1e7, 1e9, 5), 6)
    s = np.tile(np.geomspace(1e3, 3e5, 6), 5)
    p = KAPLAN_2020_NS
    loss = (p["N_c"] / n) ** p["alpha_N"] + (p["S_c"] / s) ** p["alpha_S"]  # Eq. 1.6
    path.write_text(f"N,{column},loss\n" + "".join(f"{a:.17g},{b:.17g},{c:.17g}\n"
                                                   for a, b, c in zip(n, s, loss)))
    return path


@pytest.mark.parametrize("column, extra", [("S_min", []), ("s-min", []),
                                           ("steps", ["--columns", "S_min=steps"])])
def test_fit_reads_minimum_steps_for_kaplan_ns(tmp_path, capsys, column, extra):
    table = _kaplan_ns_table(tmp_path / "nds.csv", column)
    out = tmp_path / "ns.json"
    assert main(["fit", str(table), "--form", "kaplan_ns", "--out", str(out), *extra]) == 0
    capsys.readouterr()
    params = json.loads(out.read_text())["params"]
    for name, value in KAPLAN_2020_NS.items():  # exact data: Table 3's constants back
        assert params[name] == pytest.approx(value, rel=1e-4)


def test_fit_names_the_file_when_the_minimum_steps_column_is_missing_or_bad(tmp_path, capsys):
    table = _kaplan_ns_table(tmp_path / "nds.csv", "steps")
    assert main(["fit", str(table), "--form", "kaplan_ns"]) == 2
    err = capsys.readouterr().err
    assert f"runs from {table} have no 'S_min' column" in err
    assert "steps (extra)" in err and "the columns option (S_min=<column>)" in err
    lines = table.read_text().splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[1], "lots", 1)
    table.write_text("\n".join(lines) + "\n")
    assert main(["fit", str(table), "--form", "kaplan_ns", "--columns", "S_min=steps"]) == 2
    assert (f"{table}: row 2 (line 4), column 'steps' (S_min, an input of the law): value "
            f"'lots' is not a number") in capsys.readouterr().err


def test_fit_reads_the_task_loss_for_a_task_form(tmp_path, capsys):
    truth = {"a": -0.7, "x0": 1.4, "k": 4.0, "b": 0.95}
    x = np.linspace(0.5, 2.5, 30)
    acc = truth["a"] / (1 + np.exp(-truth["k"] * (x - truth["x0"]))) + truth["b"]  # Eq. 2
    table = tmp_path / "tl.csv"
    table.write_text("task_loss,accuracy\n"
                     + "".join(f"{a:.17g},{b:.17g}\n" for a, b in zip(x, acc)))
    out = tmp_path / "task.json"
    assert main(["fit", str(table), "--form", "task_sigmoid", "--columns", "loss=accuracy",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    params = json.loads(out.read_text())["params"]
    assert params == pytest.approx(truth, rel=1e-5)


# ----------------------------------------------- what an interval is: the result's own method
# Before: the footer always read "bootstrap percentile", while --json said "(fixed-parameter
# bias excluded)" or "widened to the fit without the tie (delta method)"; predict printed no
# note on a fixed parameter, optimal did.
SWEEP = "datasets/synthetic_chinchilla_sweep.csv"


@pytest.fixture(scope="module")
def restricted_fits(tmp_path_factory):
    import os

    import pandas as pd

    folder = tmp_path_factory.mktemp("restricted")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    pd.read_csv(os.path.join(root, SWEEP))[["N", "D", "loss"]].to_csv(folder / "nd.csv",
                                                                    index=False)
    nd = str(folder / "nd.csv")
    assert main(["fit", nd, "--fix", "E=1.69", "--bootstrap", "30", "--out",
                 str(folder / "fixE.json")]) == 0
    assert main(["fit", nd, "--tie", "beta=alpha", "--uncertainty", "--bootstrap", "30",
                 "--out", str(folder / "tied.json")]) == 0
    return folder


@pytest.mark.parametrize("command, flags", [("predict", ["--N", "7B", "--D", "140B"]),
                                            ("optimal", ["--C", "1e22"])])
def test_the_footer_says_the_intervals_method_and_the_fixed_parameter(restricted_fits, capsys,
                                                                     command, flags):
    fit = str(restricted_fits / "fixE.json")
    capsys.readouterr()
    assert main([command, fit, *flags, "--json"]) == 0
    method = _json(capsys)["method"]
    assert method == "bootstrap percentile (fixed-parameter bias excluded)"
    assert main([command, fit, *flags]) == 0
    out = capsys.readouterr().out
    assert f"confidence intervals: 95% two-sided ({method}, over 30 draws)" in out
    assert ("note: the intervals hold E fixed at 1.69 as exact (every bootstrap refit keeps "
            "it); a fit without it") in out


def test_a_calibrated_tied_law_footer_says_its_widening(restricted_fits, capsys):
    fit = str(restricted_fits / "tied.json")
    capsys.readouterr()
    assert main(["optimal", fit, "--C", "1e22", "--json"]) == 0
    method = _json(capsys)["method"]
    assert method == "bootstrap percentile, widened to the fit without the tie (delta method)"
    assert main(["optimal", fit, "--C", "1e22"]) == 0
    out = capsys.readouterr().out
    assert f"confidence intervals: 95% two-sided ({method}, over 30 draws)" in out
    assert "note: the fit holds beta = alpha" in out and "widened to the fit without it" in out
    # predict of the law: both kinds, each with its own method (the JSON's is the prediction
    # interval's, the law's default kind)
    assert main(["predict", fit, "--N", "7B", "--D", "140B", "--json"]) == 0
    predicted = _json(capsys)["method"]
    assert main(["predict", fit, "--N", "7B", "--D", "140B"]) == 0
    out = capsys.readouterr().out
    assert f"prediction intervals: 95% two-sided ({predicted}: " in out
    assert "confidence intervals: 95% two-sided (bootstrap percentile, over 30 draws)" in out


# ----------------------------------------------- fit --out over a fit that holds more
def test_fit_out_replaces_a_bootstrapped_or_calibrated_fit_only_with_force(restricted_fits,
                                                                          tmp_path, capsys):
    # the README's --out row: a fit with its bootstrap is replaced only with --force (before:
    # a plain fit replaced it silently, and with it minutes of resampling)
    import shutil

    nd = str(restricted_fits / "nd.csv")
    law = tmp_path / "law.json"
    shutil.copy(restricted_fits / "fixE.json", law)
    before = law.read_bytes()
    capsys.readouterr()
    assert main(["fit", nd, "--out", str(law)]) == 2
    assert capsys.readouterr().err == (
        f"scalinglaws: error: --out {str(law)!r} holds a fit with its bootstrap (30 "
        "resamples), which this fit, without them, would replace; choose another name or pass "
        "--force to replace it\n")
    assert law.read_bytes() == before
    shutil.copy(restricted_fits / "tied.json", law)
    assert main(["fit", nd, "--out", str(law), "--bootstrap", "30"]) == 2
    assert "holds a fit with its calibration (fit --uncertainty)" in capsys.readouterr().err
    # the same work again replaces its own; --force replaces anything
    assert main(["fit", nd, "--tie", "beta=alpha", "--uncertainty", "--bootstrap", "30",
                 "--out", str(law)]) == 0
    assert main(["fit", nd, "--out", str(law), "--force"]) == 0
    assert json.loads(law.read_text())["bootstrap"] is None
    assert main(["fit", nd, "--out", str(law)]) == 0  # a plain fit over a plain fit
