"""The `scalinglaws kaplan` subcommands (allocate, overfit, noise)."""

from __future__ import annotations

import argparse
import json
import re

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
    with pytest.raises(InputError, match=r"no column 'norm_sq_small' \(--small-column\); "
                                         "columns: 'step', 'g2_local', 'g2_global'"):
        _run(["kaplan", "noise", str(path), "--small-batch", "32", "--big-batch", "128"])


_NOISE = ["--small-batch", "16", "--big-batch", "128"]


@pytest.mark.parametrize("rows, where, what", [
    ("5.1,1.52\nabc,1.48\n5.0,1.50\n",
     r"row 1 \(line 3\), column 'norm_sq_small' \(--small-column\)",
     "value 'abc' is not a number"),
    ("5.1,1.52\n4.9,\n5.0,1.50\n", r"row 1 \(line 3\), column 'norm_sq_big' \(--big-column\)",
     "value is missing"),
    ("5.1,1.52\n4.9,1.48\n5.0,-1.5\n", r"row 2 \(line 4\), column 'norm_sq_big' \(--big-column\)",
     "value -1.5 is not positive"),
    ("5.1,1.52\n\n4.9,inf\n5.0,1.50\n", r"row 1 \(line 4\), column 'norm_sq_big' \(--big-column\)",
     "value inf is not finite"),
])
def test_noise_names_the_file_row_line_and_column_of_a_bad_cell(tmp_path, rows, where, what):
    # the package's reader (as load_runs): one InputError per table, file, row, line, column
    path = tmp_path / "log.csv"
    path.write_text("norm_sq_small,norm_sq_big\n" + rows)
    with pytest.raises(InputError, match=f"^{re.escape(str(path))}: {where}: {what}"):
        _run(["kaplan", "noise", str(path), *_NOISE])


def test_noise_counts_the_other_bad_cells(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("norm_sq_small,norm_sq_big\nx,1.5\n5,nan\n5,-1\n")
    with pytest.raises(InputError, match="line 2.*'x'.*; and 2 more bad cells in column "
                                         "'norm_sq_big'"):
        _run(["kaplan", "noise", str(path), *_NOISE])


def test_noise_reads_a_byte_order_mark_and_other_delimiters(tmp_path, capsys):
    rows = "5.1,1.52\n4.9,1.48\n5.0,1.50\n5.2,1.51\n"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + ("norm_sq_small,norm_sq_big\n" + rows).encode())
    semicolons = tmp_path / "semi.csv"
    semicolons.write_text(("norm_sq_small,norm_sq_big\n" + rows).replace(",", ";"))
    for path in (bom, semicolons):
        assert _run(["kaplan", "noise", str(path), *_NOISE, "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        # the README's 4 steps: tr(Sigma) / |G|^2 of the step means, by hand
        small, big = np.array([5.1, 4.9, 5.0, 5.2]), np.array([1.52, 1.48, 1.50, 1.51])
        g2 = (128 * big - 16 * small) / 112
        trace = (small - big) / (1 / 16 - 1 / 128)
        assert doc["b_simple"] == pytest.approx(trace.mean() / g2.mean(), rel=1e-12)
        assert doc["n_steps"] == 4 and doc["method"] == "Fieller"


def test_noise_names_its_flags(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("norm_sq_small,norm_sq_big\n5.1,1.52\n4.9,1.48\n5.0,1.50\n")
    with pytest.raises(InputError, match=r"^--small-batch \(128\) must be smaller than "
                                         r"--big-batch \(16\)$"):
        _run(["kaplan", "noise", str(path), "--small-batch", "128", "--big-batch", "16"])
    with pytest.raises(InputError, match=r"no column 'g2' \(--big-column\)"):
        _run(["kaplan", "noise", str(path), *_NOISE, "--big-column", "g2"])


def test_noise_omits_steps_missing_a_norm_when_asked(tmp_path, capsys):
    from scalinglaws import ScalingLawsWarning

    path = tmp_path / "log.csv"
    path.write_text("norm_sq_small,norm_sq_big\n5.1,1.52\n4.9,\n5.0,1.50\n5.2,1.51\n")
    with pytest.warns(ScalingLawsWarning, match=r"dropped 1 of 4 rows .* row 1 \(line 3\)"):
        assert _run(["kaplan", "noise", str(path), *_NOISE, "--nan-policy", "omit",
                     "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_steps"] == 3


def test_noise_with_a_negative_trace_estimate_prints_no_scale(tmp_path, capsys):
    # the reported log: it printed B_simple = -5.338 [-6.276, -4.4] and no warning
    from scalinglaws import ScalingLawsWarning

    path = tmp_path / "swamp.csv"
    path.write_text("norm_sq_small,norm_sq_big\n1.1,1.52\n1.0,1.5\n")
    with pytest.warns(ScalingLawsWarning, match=r"tr\(Sigma\) .* not positive"):
        assert _run(["kaplan", "noise", str(path), *_NOISE]) == 0
    out = capsys.readouterr().out
    assert out.startswith("B_simple undefined") and "-5.338" not in out


def test_the_form_is_registered_by_the_command_module():
    from scalinglaws.laws.forms import available_forms

    _run(["kaplan", "allocate", "--C", "1e21"])
    assert "kaplan_ns" in available_forms()


def test_kaplan_writes_its_result_with_out(tmp_path, capsys):
    # every result-producing command writes with --out (atomically, checked before any
    # work, never over an input, another kind or a user's table unless --force)
    from scalinglaws.outputs.cli import main

    table = tmp_path / "allocate.csv"
    assert main(["kaplan", "allocate", "--C", "8.64e19", "--out", str(table)]) == 0
    rows = pd.read_csv(table)
    # Table 6 at C_min = 1 PF-day: N = 1.3e9, S_min = 5.4e3 (Kaplan et al. 2020)
    assert rows["N"][0] == pytest.approx(1.3e9) and rows["S_min"][0] == pytest.approx(5.4e3)
    document = tmp_path / "overfit.json"
    assert main(["kaplan", "overfit", "--N", "1e9", "--out", str(document)]) == 0
    written = json.loads(document.read_text())
    assert written["kind"] == "scalinglaws.kaplan_overfit" and len(written["rows"]) == 1
    assert "5e3 N^0.74" in written["notes"][0]
    capsys.readouterr()
    # --json prints the document --out writes
    assert main(["kaplan", "overfit", "--N", "1e9", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == written

    log = tmp_path / "log.csv"
    log.write_text("norm_sq_small,norm_sq_big\n5.1,1.52\n4.9,1.48\n5.0,1.50\n5.2,1.51\n")
    original = log.read_text()
    noise = tmp_path / "noise.json"
    assert main(["kaplan", "noise", str(log), *_NOISE, "--out", str(noise)]) == 0
    written = json.loads(noise.read_text())
    assert written["kind"] == "scalinglaws.kaplan_noise" and written["n_steps"] == 4
    # the README's 4 steps by hand: tr(Sigma) / |G|^2 of the step means
    small, big = np.array([5.1, 4.9, 5.0, 5.2]), np.array([1.52, 1.48, 1.50, 1.51])
    assert written["b_simple"] == pytest.approx(
        ((small - big) / (1 / 16 - 1 / 128)).mean() / ((128 * big - 16 * small) / 112).mean())
    from scalinglaws.laws.gradient_noise import NoiseScale

    assert NoiseScale.from_dict(written).n_steps == 4  # the document reads back
    assert main(["kaplan", "noise", str(log), *_NOISE, "--out", str(noise)]) == 0  # its own
    capsys.readouterr()
    # never over the input, --force or not; a user's table only with --force
    for extra in ([], ["--force"]):
        assert main(["kaplan", "noise", str(log), *_NOISE, "--out", str(log), *extra]) == 2
        assert "input" in capsys.readouterr().err and log.read_text() == original
    sweep = tmp_path / "mine.csv"
    sweep.write_text("N,D,loss\n1,2,3\n")
    assert main(["kaplan", "allocate", "--C", "1e21", "--out", str(sweep)]) == 2
    assert "--force" in capsys.readouterr().err and sweep.read_text() == "N,D,loss\n1,2,3\n"
    assert main(["kaplan", "allocate", "--C", "1e21", "--out", str(sweep), "--force"]) == 0
    assert pd.read_csv(sweep)["C_min (FLOP)"][0] == 1e21
