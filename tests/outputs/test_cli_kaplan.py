"""The `scalinglaws kaplan` subcommands (allocate, overfit, noise)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from scalinglaws import InputError
from scalinglaws.outputs.cli import kaplan as command


def _run(argv):
    parser = argparse.ArgumentParser(prog="scalinglaws")
    command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_allocate_prints_table6(capsys):
    assert _run(["kaplan", "allocate", "--C", "8.64e19", "8.64e21", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert rows[0]["N"] == pytest.approx(1.3e9) and rows[0]["S_min"] == pytest.approx(5.4e3)
    assert rows[1]["N"] == pytest.approx(1.3e9 * 100 ** 0.73)
    assert _run(["kaplan", "allocate", "--C", "1e21"]) == 0
    assert "Table 6" in capsys.readouterr().out


def test_overfit_rule_and_penalty(capsys):
    assert _run(["kaplan", "overfit", "--N", "1e9", "8e9", "--D", "2.3e10", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    first, second = doc["rows"]
    # Eq. 4.3 by hand at Table 2's constants for the penalty; the rule's D sits on 0.02
    assert first["delta L (Eq. 4.3)"] == pytest.approx(
        (1 + (1e9 / 6.4e13) ** (0.076 / 0.103) * 1.8e13 / 2.3e10) ** 0.103 - 1, abs=1e-10)  # JSON: 10 decimals
    assert second["D for delta L = 0.02"] / first["D for delta L = 0.02"] == pytest.approx(
        8 ** (0.076 / 0.103), rel=1e-9)
    assert "5e3 N^0.74" in doc["notes"][0]
    with pytest.raises(InputError, match="--D has 2 values"):
        _run(["kaplan", "overfit", "--N", "1e9", "2e9", "3e9", "--D", "1e10", "2e10"])
    with pytest.raises(SystemExit):
        _run(["kaplan", "overfit", "--N", "-1"])


def test_noise_from_a_log(tmp_path, capsys):
    rng = np.random.default_rng(0)
    gradient, variances = 0.1 * rng.standard_normal(300), rng.uniform(0.5, 1.5, 300)
    noise = rng.standard_normal((500, 4, 300)) * np.sqrt(variances / 32)
    local = gradient + noise
    log = pd.DataFrame({"step": np.arange(500), "g2_local": (local[:, 0] ** 2).sum(-1),
                        "g2_global": (local.mean(1) ** 2).sum(-1)})
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    assert _run(["kaplan", "noise", str(path), "--small-batch", "32", "--big-batch", "128",
                 "--small-column", "g2_local", "--big-column", "g2_global", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    truth = variances.sum() / (gradient @ gradient)
    low, high = result["confidence_interval"]
    assert low < truth < high and result["n_steps"] == 500
    with pytest.raises(InputError, match="no column 'norm_sq_small'"):
        _run(["kaplan", "noise", str(path), "--small-batch", "32", "--big-batch", "128"])


def test_the_form_is_registered_by_the_command_module():
    from scalinglaws.laws.forms import available_forms

    _run(["kaplan", "allocate", "--C", "1e21"])
    assert "kaplan_ns" in available_forms()
