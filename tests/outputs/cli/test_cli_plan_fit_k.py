"""``plan --prior FIT``: the target's C = k N D counts FLOP as the fit did
(scalinglaws.outputs.cli.plan; review s27 F2)."""

import json

import pandas as pd

import scalinglaws as sl
from scalinglaws.outputs.cli import main

BASE = ["plan", "--target-compute", "1e24", "--sweep-budget", "1e21", "--max-draws", "20",
        "--scatter", "0.01",
        "--json"]


def test_plan_takes_the_fits_k_unless_typed(tmp_path, capsys):
    runs = sl.generate_sweep(noise=0.01, rng=2)
    frame = runs.to_frame()
    table = pd.DataFrame({"N": frame.N, "C": 8 * frame.N * frame.D, "loss": frame.loss})
    runs8 = sl.load_runs(table, flops_per_token=8)
    law = sl.fit(runs8)
    path = tmp_path / "fit.json"
    law.with_bootstrap(sl.bootstrap(law, runs8, 30, rng=0)).save(path)
    assert main(BASE + ["--prior", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["target"]["flops_per_token"] == 8
    assert main(BASE + ["--prior", str(path), "--flops-per-token", "6"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["target"]["flops_per_token"] == 6
    assert "replaces the C = 8*N*D this fit was made with" in captured.err
