"""`scalinglaws isoflop` (scalinglaws.outputs.cli.approaches) against the Python API for the
same seed: ``--by`` draws each group's resamples as ``isoflop_fit(groups=...)`` does, and
the document records the seed."""

import json
from pathlib import Path

import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.outputs.cli import main
from scalinglaws.outputs.io.isoflop import isoflop_from_dict, load_isoflop

DATA = Path(__file__).resolve().parents[3] / "datasets" / "synthetic_chinchilla_sweep.csv"


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    """The bundled sweep with a column ``half`` splitting every budget's runs in two
    groups that each still bracket the minimum."""
    frame = pd.read_csv(DATA)
    frame["half"] = ["a", "b"] * (len(frame) // 2) + ["a"] * (len(frame) % 2)
    path = tmp_path_factory.mktemp("isoflop") / "halves.csv"
    frame.to_csv(path, index=False)
    return path


def test_by_gives_the_grouped_python_api_s_numbers_for_the_same_seed(halves, tmp_path, capsys):
    # before: every group was fitted with rng=--seed, so the groups shared one random stream
    # and group a's bootstrap interval of a differed from isoflop_fit(groups=...)'s
    out = tmp_path / "by.json"
    assert main(["isoflop", str(halves), "--by", "half", "--bootstrap", "50", "--seed", "3",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    library = sl.isoflop_fit(sl.load_runs(halves), groups="half", n_resamples=50, rng=3)
    doc = json.loads(out.read_text())
    assert [g["group"] for g in doc["groups"]] == list(library.results)
    for group in library.results:
        mine = load_isoflop(out, group=group)
        theirs = library[group]
        assert mine.a_bootstrap_interval == theirs.a_bootstrap_interval
        assert mine.b_bootstrap_interval == theirs.b_bootstrap_interval
        assert list(mine.a_bootstrap) == list(theirs.a_bootstrap)
        assert mine.options["seed"] == theirs.options["seed"] == 3
    # the two groups draw different streams (they shared one before)
    a, b = (library[g].log_N_opt_draws for g in ("a", "b"))
    assert (a != b).any()


def test_the_document_records_the_seed_and_older_documents_load(tmp_path, capsys):
    # before: isoflop --bootstrap 50 --seed 1 differed by seed but held no seed
    assert main(["isoflop", str(DATA), "--bootstrap", "20", "--seed", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["options"]["seed"] == 1
    library = sl.isoflop_fit(sl.load_runs(DATA), n_resamples=20, rng=1)
    assert doc["a_bootstrap"] == list(library.a_bootstrap)
    # a Generator is no seed: None; and a document written before the field loads
    import numpy as np

    assert sl.isoflop_fit(DATA, n_resamples=20, rng=np.random.default_rng(1)).options[
        "seed"] is None
    doc.pop("kind")
    del doc["options"]["seed"]
    assert isoflop_from_dict({"kind": "scalinglaws.isoflop", **doc}).a == doc["a"]
