"""`scalinglaws isoflop` (scalinglaws.outputs.cli.approaches): the document it prints is the
one `--out` writes and loads back with `load_isoflop` (one group of a `--by` file by name);
runs of continuous compute need `--budget bin`, and the error that says so names flags that
run; the warnings of a grouped analysis are one line each, naming the group. The command
against the Python API for the same seed is in test_cli_approaches.py."""

import json
import math

import pytest

from scalinglaws.outputs.cli import main

from cli_json import DEFAULT_DATA, _json


def test_isoflop_command(capsys, shared_dir, tmp_path):
    import scalinglaws as sl
    from scalinglaws import InputError

    out = tmp_path / "iso.json"
    assert main(["isoflop", str(DEFAULT_DATA), "--json", "--out", str(out)]) == 0
    doc = _json(capsys)
    # the sweep's true law has a = beta/(alpha+beta) = 0.3658/0.7136 = 0.5126 (laws.synthetic)
    assert doc["a_interval"][0] < 0.3658 / (0.3478 + 0.3658) < doc["a_interval"][1]
    assert json.loads(out.read_text()) == {"kind": "scalinglaws.isoflop", **doc}
    # the file is IsoFLOPResult.save's document: it loads back with the numbers printed
    from scalinglaws.outputs.io.isoflop import load_isoflop

    assert load_isoflop(out).to_dict() == json.loads(out.read_text())
    porian = shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv"
    grouped = tmp_path / "by_setting.json"
    argv = ["isoflop", str(porian), "--by", "setting", "--curve", "akima"]
    assert main([*argv, "--json", "--out", str(grouped)]) == 0
    docs = _json(capsys)
    assert docs == json.loads(grouped.read_text())
    # one document named inside (a bare list carried no kind: a re-run asked for --force)
    assert list(docs)[:5] == ["kind", "schema_version", "package_version", "by", "groups"]
    assert docs["by"] == "setting" and docs["schema_version"] == 2  # IsoFLOPResult's
    assert docs["kind"] == "scalinglaws.isoflop"
    assert len(docs["groups"]) == 15 and all("group" in d for d in docs["groups"])
    assert main([*argv, "--out", str(grouped)]) == 0  # the same command replaces its own file
    capsys.readouterr()
    # load_isoflop reads one group of it, and says how when no group is named
    first = docs["groups"][0]
    loaded = load_isoflop(grouped, group=first["group"])
    assert {"group": first["group"], **loaded.to_dict()} == first
    with pytest.raises(InputError, match=r"by_setting.json: holds 15 IsoFLOP analyses, one "
                                         r"per value of 'setting' .*group="):
        load_isoflop(grouped)
    with pytest.raises(InputError, match=r"no group 'nope' among the 15 analyses .* one of 'owt2/"):
        load_isoflop(grouped, group="nope")
    # and it is not read as a table of runs
    with pytest.raises(InputError, match=r"scalinglaws IsoFLOP analysis file \(kind "
                                         r"'scalinglaws.isoflop'\), not a table of runs"):
        sl.load_runs(grouped)
    # Akima profiles have no residuals to resample: --seed-noise (it had no flag here)
    assert main(["isoflop", str(DEFAULT_DATA), "--curve", "akima", "--bootstrap", "20",
                 "--seed-noise", "0.005", "--json"]) == 0
    doc = _json(capsys)
    assert doc["options"]["seed_noise"] == 0.005 and len(doc["a_bootstrap"]) == 20


def test_isoflop_on_continuous_compute(epoch_csv, capsys):
    """Epoch's runs have a compute value each: the CLI needs --budget bin (issue 17 item 2)."""
    assert main(["isoflop", str(epoch_csv)]) == 2
    assert "--budget bin" in capsys.readouterr().err
    assert main(["isoflop", str(epoch_csv), "--budget", "bin", "--n-bins", "8", "--json"]) == 0
    doc = _json(capsys)
    assert doc["n_budgets_used"] + doc["n_budgets_excluded"] == 8
    # Epoch's refit of the same runs (Approach 3) gives a = 0.51 (Besiroglu et al. 2024)
    assert doc["a_interval"][0] < 0.51 < doc["a_interval"][1]
    assert main(["isoflop", str(epoch_csv), "--bin-width-dex", "0.5", "--json"]) == 0
    assert math.isfinite(_json(capsys)["a"])


def test_warnings_are_one_line_and_name_the_group(shared_dir, capsys):
    porian = shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv"
    assert main(["isoflop", str(porian), "--by", "setting", "--curve", "akima"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err and all(line.startswith("scalinglaws: warning: setting=") for line in err), err
    assert not any(".py:" in line for line in err)  # no source paths or lines


def test_the_isoflop_advice_on_continuous_compute_is_a_command_that_runs(tmp_path, capsys):
    """Every run at its own compute: isoflop refuses, naming the flags that group the runs;
    the command with them runs (the error mixed budget='bin' with flags)."""
    import re

    import numpy as np
    import pandas as pd

    frame = pd.read_csv(DEFAULT_DATA)
    frame["C"] *= np.exp(np.random.default_rng(0).normal(0.0, 0.05, len(frame)))
    continuous = tmp_path / "continuous.csv"
    frame.drop(columns="budget").to_csv(continuous, index=False)
    assert main(["isoflop", str(continuous)]) == 2
    err = capsys.readouterr().err
    advice = re.search(r"pass (--budget \w+) with (--[a-z-]+) or (--[a-z-]+)", err)
    assert advice, err
    budget, width, bins = advice.groups()
    assert (width, bins) == ("--bin-width-dex", "--n-bins")
    assert main(["isoflop", str(continuous), *budget.split(), bins, "9", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["options"]["budget"].startswith("9 log10(C) bins")


def test_isoflop_on_flops_that_are_not_6nd_states_no_k(tmp_path, capsys):
    """Before: a table whose C is not 6 N D (here C = 8 N D for one recipe) gave a document
    with "flops_per_token": 6.0 beside "flop_model": "runs", though D* was C/(8 N*); now
    that group's k is null with flops_per_token_range, the --by header is version 2, and
    the printed summary says what C/(N_opt D_opt) was."""
    import pandas as pd

    from scalinglaws.outputs.io.isoflop import load_isoflop

    frame = pd.read_csv(DEFAULT_DATA)
    assert ((frame["C"] / (frame["N"] * frame["D"]) - 6).abs() < 1e-6).all()  # 6 N D
    eight = frame.assign(D=frame["C"] / (8 * frame["N"]))  # the same budgets at C = 8 N D
    path = tmp_path / "recipes.csv"
    pd.concat([frame.assign(recipe="six"), eight.assign(recipe="eight")]).to_csv(path,
                                                                                   index=False)
    out = tmp_path / "by_recipe.json"
    assert main(["isoflop", str(path), "--by", "recipe", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == 2
    groups = {g["group"]: g for g in doc["groups"]}
    assert (groups["six"]["flop_model"], groups["six"]["flops_per_token"]) == (
        "flops_per_token", 6.0)
    assert "flops_per_token_range" not in groups["six"]
    assert (groups["eight"]["flop_model"], groups["eight"]["flops_per_token"]) == ("runs", None)
    assert groups["eight"]["flops_per_token_range"] == pytest.approx([8.0, 8.0], rel=1e-9)
    loaded = load_isoflop(out, group="eight")
    assert loaded.flops_per_token is None
    assert loaded.flops_per_token_range == pytest.approx((8.0, 8.0), rel=1e-9)
    assert load_isoflop(out, group="six").flops_per_token == 6.0
    assert "C/(N_opt D_opt) 8 at every used budget (no one k: flop_model 'runs')" in printed


def test_one_resample_is_refused_as_fit_refuses_it(capsys):
    # it printed a zero-width "95% bootstrap percentile" interval that left out the estimate
    assert main(["isoflop", str(DEFAULT_DATA), "--budget", "budget", "--bootstrap", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("scalinglaws: error: --bootstrap must be 0 (no resampling) or an integer "
                   ">= 2, got 1"), err


def test_few_resamples_are_warned_about_on_the_command_line(capsys):
    assert main(["isoflop", str(DEFAULT_DATA), "--budget", "budget", "--bootstrap", "10"]) == 0
    err = capsys.readouterr().err
    assert ("scalinglaws: warning: isoflop_fit: 10 draws are too few for a 95% percentile "
            "interval") in err, err
