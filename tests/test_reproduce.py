import json

import pytest

from scalinglaws.cli import main
from scalinglaws.reproduce import reproduce_hoffmann


@pytest.fixture(scope="module")
def hoffmann(epoch_csv):
    return reproduce_hoffmann(epoch_csv, n_resamples=100, rng=0)


def test_hoffmann_reproduction_tables(hoffmann):
    coefficients = hoffmann.tables["coefficients"].set_index("parameter")
    assert coefficients.loc["E", "this fit"] == pytest.approx(1.8172, rel=0.005)
    objectives = hoffmann.tables["objective of each set"].set_index("coefficients").iloc[:, 0]
    assert objectives["this fit"] == min(objectives)
    assert objectives["Hoffmann 2022 (printed)"] == pytest.approx(0.00412, abs=5e-6)
    allocation = hoffmann.tables["allocation"]
    gopher = allocation[allocation["compute (FLOP)"] == 5.76e23].set_index("coefficients")
    # reference sheet §2.1: 40.4B (TeX) and 32.2B (printed) at the Gopher budget
    assert gopher.loc["Hoffmann 2022 (TeX)", "N_opt"] == pytest.approx(4.04e10, rel=0.005)
    assert gopher.loc["Hoffmann 2022 (printed)", "N_opt"] == pytest.approx(3.22e10, rel=0.005)
    exponents = hoffmann.tables["compute-optimal exponents"].set_index("coefficients")
    assert exponents.loc["this fit", "a 95% low"] < 0.5 < exponents.loc["this fit", "a 95% high"]
    table3 = hoffmann.tables["Hoffmann Table 3 vs this fit"]
    assert len(table3) == 9 and (table3["tokens/param (this fit)"].between(10, 30)).all()
    assert "Epoch" in str(hoffmann)


def test_cli_reproduce_hoffmann(epoch_csv, tmp_path, capsys):
    out = tmp_path / "hoffmann.json"
    assert main(["reproduce", "hoffmann", "--data", str(epoch_csv), "--bootstrap", "20",
                 "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["fit"]["n_runs"] == 240 and json.loads(out.read_text())["bootstrap"]
