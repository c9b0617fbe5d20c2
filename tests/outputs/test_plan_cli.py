"""`scalinglaws plan`: the sweep plan from the command line."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.laws import flops as F
from scalinglaws.laws import published as pub
from scalinglaws.outputs.cli import main

BASE = ["plan", "--target-compute", "1e24", "--sweep-budget", "1e21", "--max-draws", "30"]


def _eq4(params, compute):
    """ln N_opt of Hoffmann et al. 2022 Eq 4 under C = 6ND, written out here."""
    s = params["alpha"] + params["beta"]
    return (math.log(params["alpha"] * params["A"] / (params["beta"] * params["B"])) / s
            + params["beta"] / s * math.log(compute / 6))


@pytest.fixture(scope="module")
def fit_file(tmp_path_factory):
    runs = sl.generate_sweep(noise=0.01, rng=2)
    result = sl.fit(runs)
    folder = tmp_path_factory.mktemp("plan")
    with_draws = folder / "fit.json"
    result.with_bootstrap(sl.bootstrap(result, runs, 60, rng=0)).save(with_draws)
    bare = folder / "bare.json"
    result.save(bare)
    return with_draws, bare


def _json(capsys, argv):
    assert main(argv + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_plan_prints_three_designs(capsys):
    assert main(BASE) == 0
    out = capsys.readouterr().out
    assert "Sweep plan: ln N_opt at C = 1e+24 FLOP" in out
    for name in ("standard", "planned", "active"):
        assert name in out


def test_json_is_reproducible_and_matches_the_prior(capsys):
    first = _json(capsys, BASE)
    assert first == _json(capsys, BASE)  # --seed 0 by default: the same JSON
    assert [row["design"] for row in first["comparison"]] == ["standard", "planned", "active"]
    assert first["comparison"][0]["compute"] == pytest.approx(1e21, rel=1e-12)
    # the prior's centre: Hoffmann's unrounded law at 1e24 by Eq 4
    assert first["prior"]["target"] == pytest.approx(_eq4(pub.HOFFMANN_2022_TEX, 1e24), abs=1e-9)
    epoch = _json(capsys, BASE + ["--prior", "epoch"])
    assert epoch["prior"]["target"] == pytest.approx(_eq4(pub.BESIROGLU_2024_TABLE1, 1e24),
                                                     abs=1e-9)
    assert epoch["comparison"][2]["predicted_sd"] < epoch["comparison"][0]["predicted_sd"]


def test_prior_from_a_fit_file(capsys, fit_file):
    with_draws, bare = fit_file
    doc = _json(capsys, BASE + ["--prior", str(with_draws), "--scatter", "0.01"])
    assert doc["prior"]["fresh"] is False and "bootstrap draws" in doc["prior"]["source"]
    fresh = _json(capsys, BASE + ["--prior", str(with_draws), "--scatter", "0.01", "--fresh"])
    assert fresh["prior"]["fresh"] is True
    assert main(BASE + ["--prior", str(bare)]) == 2
    assert "no bootstrap draws" in capsys.readouterr().err
    assert main(BASE + ["--prior", str(with_draws)]) == 2  # a loaded fit keeps no residuals
    assert "or pass --scatter SD (the sd of log loss" in capsys.readouterr().err
    assert main(BASE + ["--prior", "chinchilla"]) == 2
    assert "neither a published prior" in capsys.readouterr().err
    # --out may not replace the fit it reads, checked before any work
    assert main(BASE + ["--prior", str(with_draws), "--out", str(with_draws)]) == 2
    assert "also an input" in capsys.readouterr().err


def test_loss_and_exponent_targets(capsys):
    # --target loss needs no --target-compute (before: required, then ignored: 1e22 and
    # 1e25 gave the same plan); given, it must be the model's 6 N D = 5.88e23 as written
    loss = ["plan", "--sweep-budget", "1e21", "--max-draws", "30", "--target", "loss",
            "--N", "70B", "--D", "1.4T"]
    doc = _json(capsys, loss)
    assert doc["target"] == {"kind": "loss", "C": None, "N": 7e10, "D": 1.4e12,
                             "flops_per_token": 6.0}
    assert doc["options"]["target_compute"] == pytest.approx(6 * 7e10 * 1.4e12, rel=1e-12)
    for agreeing in ("5.88e23", "5.9e23", "6e23"):
        assert _json(capsys, loss + ["--target-compute", agreeing])["target"] == doc["target"]
    for other in ("1e24", "5.8e23", "1e22"):
        assert main(loss + ["--target-compute", other]) == 2
        err = capsys.readouterr().err
        assert f"--target-compute {float(other):.4g} FLOP disagrees with k N D = 6 x 7e+10 x " \
               "1.4e+12 = 5.88e+23 FLOP" in err and "leave --target-compute out" in err
    assert main(["plan", "--sweep-budget", "1e21"]) == 2
    assert "--target N_opt needs --target-compute FLOP" in capsys.readouterr().err
    doc = _json(capsys, BASE + ["--target", "exponent"])
    p = pub.HOFFMANN_2022_TEX
    assert doc["prior"]["target"] == pytest.approx(p["beta"] / (p["alpha"] + p["beta"]))
    assert main(BASE + ["--target", "loss", "--N", "7e10"]) == 2
    assert "--D required" in capsys.readouterr().err
    assert main(BASE + ["--N", "7e10"]) == 2
    assert "go with --target loss" in capsys.readouterr().err
    assert main(BASE + ["--target", "loss", "--N", "1e9", "2e9", "--D", "1e10"]) == 2


def test_outputs_json_csv_and_figure(tmp_path, capsys):
    plan_json, runs_csv, figure = tmp_path / "plan.json", tmp_path / "runs.csv", tmp_path / "p.png"
    assert main(BASE + ["--out", str(plan_json), "--figure", str(figure)]) == 0
    doc = json.loads(plan_json.read_text())
    assert doc["active"]["n_runs"] == len(doc["active"]["runs"])
    assert figure.read_bytes()[:4] == b"\x89PNG"
    assert main(BASE + ["--out", str(runs_csv)]) == 0
    table = pd.read_csv(runs_csv)
    assert set(table["design"]) == {"active", "planned"}
    assert len(table) == doc["active"]["n_runs"] + doc["planned"]["n_runs"]
    # a figure over a table is another kind of file: refused before any work
    assert main(BASE + ["--figure", str(runs_csv)]) == 2
    assert "--figure" in capsys.readouterr().err


def test_shapes_table_for_a_launcher(tmp_path, capsys):
    out = tmp_path / "shapes.csv"
    assert main(BASE + ["--shapes", "--throughput", "4e14", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "exact training FLOP of the shapes" in text
    table = pd.read_csv(out).dropna(subset=["n_layer"])
    assert len(table) > 100
    assert table["n_layer"].dtype.kind == "i" or (table["n_layer"] % 1 == 0).all()
    for row in table.head(25).itertuples():
        assert row.N == F.hoffmann_params(row.d_model, row.d_ff, row.d_head, row.n_heads,
                                          row.n_layer, 32000)
        assert row.C == pytest.approx(row.flops_per_token * row.D, rel=1e-12)
        assert row.accelerator_hours == pytest.approx(row.C / 4e14 / 3600, rel=1e-12)
        assert row.D == row.steps * row.batch_size
    doc = tmp_path / "plan.json"  # the same as JSON: cells without a shape are null
    assert main(BASE + ["--shapes", "--out", str(doc)]) == 0
    shapes = json.loads(doc.read_text())["shapes"]
    assert len(shapes) == len(pd.read_csv(out)) and any(r["n_layer"] is None for r in shapes)


@pytest.mark.parametrize("extra, message", [
    (["--sweep-budget", "-1"], "--sweep-budget"),
    (["--max-draws", "0"], "--max-draws"),
    (["--confidence-level", "1.5"], "--confidence-level"),
    (["--accounting", "gpt"], "--accounting"),
])
def test_bad_flags(capsys, extra, message):
    assert main(BASE + extra) == 2
    assert message in capsys.readouterr().err


def test_the_document_records_its_seed(capsys):
    # before: --seed changed the plan's numbers but the document held no seed
    doc = _json(capsys, BASE + ["--seed", "4"])
    assert doc["options"]["seed"] == 4
    prior = sl.published_prior("hoffmann", scatter=0.01, rng=4)
    library = sl.plan_sweep(prior, target_compute=1e24, sweep_budget=1e21, max_draws=30, rng=4)
    assert doc["comparison"] == json.loads(json.dumps(library.to_dict()))["comparison"]


def test_the_prior_block_records_the_seed_of_its_draws(capsys, fit_file):
    # the prior's draws (and so its target interval) come from a seed: a published prior
    # draws with --seed; a fit's are its bootstrap's, drawn with the bootstrap's seed
    doc = _json(capsys, BASE + ["--seed", "3"])
    assert doc["prior"]["seed"] == 3 and doc["prior"]["n_draws"] == 1000
    assert doc["prior"]["target_interval"] != _json(capsys, BASE)["prior"]["target_interval"]
    with_draws, _ = fit_file
    doc = _json(capsys, BASE + ["--prior", str(with_draws), "--scatter", "0.01", "--seed", "3"])
    assert doc["prior"]["seed"] == 0 and doc["prior"]["n_draws"] == 60  # sl.bootstrap(rng=0)


def test_a_tiny_sweep_budget_warns_naming_the_flag(capsys):
    # Hoffmann et al.'s runs trained on 5 to 500 billion tokens; a 1e16 FLOP sweep's
    # largest run trains on far fewer: the plan extrapolates the law downward
    argv = ["plan", "--target-compute", "1e24", "--sweep-budget", "1e16", "--max-draws", "20"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "warning: --sweep-budget 1e+16: every run of the designs has" in err
    assert "the plan extrapolates the law downward" in err
    assert main(BASE) == 0 and "warning" not in capsys.readouterr().err


def test_a_fit_file_without_scatter_is_told_the_command_that_writes_one(capsys, tmp_path):
    """Review s35: the README said --prior takes a fit file with a bootstrap (`fit RUNS
    --bootstrap 200 --out fit.json`), which then stopped with "the run-to-run scatter of a
    new run is unknown ... pass --scatter"; the message now gives the command that writes
    a file the planner takes, and that command's file plans."""
    runs = tmp_path / "runs.csv"
    sl.generate_sweep(noise=0.01, rng=2).frame.to_csv(runs, index=False)
    boot, law = tmp_path / "fitb.json", tmp_path / "law.json"
    assert main(["fit", str(runs), "--bootstrap", "20", "--out", str(boot)]) == 0
    capsys.readouterr()
    assert main(BASE + ["--prior", str(boot)]) == 2
    err = capsys.readouterr().err
    assert (f"write it with `scalinglaws fit RUNS --uncertainty --bootstrap 200 --out {boot}`, "
            f"or pass --scatter SD") in err
    assert main(["fit", str(runs), "--uncertainty", "--bootstrap", "20", "--out", str(law)]) == 0
    capsys.readouterr()
    doc = _json(capsys, BASE + ["--prior", str(law)])
    assert "bootstrap draws" in doc["prior"]["source"]
