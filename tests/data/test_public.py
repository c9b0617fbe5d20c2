"""Public datasets: paths, checked downloads with a deadline, safe conversion of the authors' files."""

from __future__ import annotations

import dataclasses
import http.server
import json
import lzma
import pickle
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglaws import InputError, ScalingLawsWarning
from scalinglaws.data import public as ds
from scalinglaws.data import public_convert as convert


@pytest.fixture
def local_source(monkeypatch, tmp_path, epoch_csv):
    """Point the Epoch dataset's URL at the shared copy (file://) and use an empty cache."""
    monkeypatch.setenv("SCALINGLAWS_CACHE", str(tmp_path / "cache"))
    info = dataclasses.replace(ds.DATASETS["epoch_chinchilla"], url=epoch_csv.as_uri())
    monkeypatch.setitem(ds.DATASETS, "epoch_chinchilla", info)
    return info


def test_path_file_or_folder(epoch_csv):
    assert ds.fetch("epoch_chinchilla", epoch_csv) == epoch_csv
    assert ds.fetch("epoch_chinchilla", epoch_csv.parent) == epoch_csv
    runs = ds.epoch_chinchilla(epoch_csv)
    assert len(runs) == 240


def test_download_is_checked_and_cached(local_source, tmp_path):
    path = ds.fetch("epoch_chinchilla")
    assert path == tmp_path / "cache" / "svg_extracted_data.csv"
    assert ds._sha256(path) == local_source.sha256
    assert ds.fetch("epoch_chinchilla", download=False) == path  # served from the cache


def test_checksum_mismatch_is_refused(local_source, monkeypatch, tmp_path):
    bad = dataclasses.replace(local_source, sha256="0" * 64)
    monkeypatch.setitem(ds.DATASETS, "epoch_chinchilla", bad)
    with pytest.raises(InputError, match="checksum"):
        ds.fetch("epoch_chinchilla")
    assert not (tmp_path / "cache" / "svg_extracted_data.csv").exists()


def test_unreachable_source_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("SCALINGLAWS_CACHE", str(tmp_path / "cache"))
    info = dataclasses.replace(ds.DATASETS["epoch_chinchilla"],
                               url=(tmp_path / "nowhere.csv").as_uri())
    monkeypatch.setitem(ds.DATASETS, "epoch_chinchilla", info)
    with pytest.raises(InputError, match=r"pass its path instead \(`path=` in Python, "
                                         r"`--data PATH` to `scalinglaws reproduce`\)"):
        ds.fetch("epoch_chinchilla")
    with pytest.raises(InputError, match="not in the cache"):
        ds.fetch("epoch_chinchilla", download=False)


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Announces 10 kB, then sends a byte every 20 ms (a download that never ends in time)."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "10000")
        self.end_headers()
        try:
            for _ in range(10000):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.02)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


def test_a_trickling_download_stops_at_the_deadline(monkeypatch, tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("SCALINGLAWS_CACHE", str(tmp_path / "cache"))
        info = dataclasses.replace(ds.DATASETS["epoch_chinchilla"],
                                   url=f"http://127.0.0.1:{server.server_port}/data.csv")
        monkeypatch.setitem(ds.DATASETS, "epoch_chinchilla", info)
        start = time.monotonic()
        with pytest.raises(InputError, match="not finished after 0.5 s"):
            ds.fetch("epoch_chinchilla", deadline=0.5)
        assert time.monotonic() - start < 5  # the whole file would take 200 s
        assert list((tmp_path / "cache").iterdir()) == []  # no partial file left
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(InputError, match="deadline"):
        ds.fetch("epoch_chinchilla", deadline=0)


def test_datasets_without_a_download_need_a_path(tmp_path, monkeypatch):
    monkeypatch.setenv("SCALINGLAWS_CACHE", str(tmp_path / "cache"))
    with pytest.raises(InputError, match="no downloadable table"):
        ds.fetch("porian2024")
    with pytest.raises(InputError, match="no such file"):
        ds.fetch("porian2024", tmp_path / "missing.csv")
    with pytest.raises(InputError, match="unknown dataset"):
        ds.fetch("imagenet")
    with pytest.raises(InputError, match="summary_df"):
        ds.porian2024(None)


def test_shared_public_tables_load(shared_dir):
    porian = ds.porian2024(shared_dir / "datasets" / "porian2024")
    assert len(porian) == 1745 and "setting" in porian.columns
    runs = ds.muennighoff2023(shared_dir / "datasets" / "muennighoff2023_datablations",
                              fit_set_only=True)
    assert len(runs) == 182 and runs.has("U")


def test_muennighoff_names_the_runs_it_leaves_out(shared_dir):
    folder = shared_dir / "datasets" / "muennighoff2023_datablations"
    with pytest.warns(ScalingLawsWarning, match="9 runs with no loss") as record:
        runs = ds.muennighoff2023(folder)
    assert len(runs) == 308
    message = str(record[0].message)
    for name in ("3b926b400m", "3b926b100m", "1b566b400m", "220m200b1b5", "220m250b1b5",
                 "220m900b1b5", "574m200b1b5", "574m250b1b5", "2b266b1b5"):
        assert name in message


# --------------------------------------------------------------------------- datablations
def _notebook(tmp_path, raw, cell1=None):
    def cell(dicts):
        source = "### DATA POINTS ###\n" + "\n".join(f"{k} = {v!r}" for k, v in dicts.items())
        return {"cell_type": "code", "source": (source + "\nprint(1)\n").splitlines(True),
                "metadata": {}, "outputs": []}

    cells = [{"cell_type": "markdown", "source": ["#### Data loading"], "metadata": {}},
             cell1 or cell(raw["cell1"])]
    cells += [{"cell_type": "code", "source": ["%matplotlib inline\n"], "metadata": {},
               "outputs": []} for _ in range(23)]
    cells.append(cell(raw["cell25"]))
    path = tmp_path / "parametric_fit.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 0, "metadata": {}, "cells": cells}))
    return path


@pytest.fixture
def raw_dicts(shared_dir):
    folder = shared_dir / "datasets" / "muennighoff2023_datablations"
    return json.loads((folder / "raw_parametric_fit_notebook_dicts.json").read_text())


def test_datablations_notebook_converts_to_the_reference_table(shared_dir, raw_dicts, tmp_path):
    """The notebook's dicts (saved verbatim in the shared folder) rebuild the 317-run table:
    every name parsed into N, D, U, the 9 unfinished runs flagged, the 182-run fit set."""
    notebook = _notebook(tmp_path, raw_dicts)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScalingLawsWarning)  # the fingerprint matches
        table = ds.convert_muennighoff2023(notebook, out=tmp_path / "runs.csv")
    reference = pd.read_csv(shared_dir / "datasets" / "muennighoff2023_datablations"
                            / "datablations_c4_runs.csv")
    assert list(table.run_name) == list(reference.run_name)
    for column in ("N", "D", "U", "C", "epochs", "R_D", "loss"):
        np.testing.assert_allclose(table[column], reference[column], rtol=1e-7, equal_nan=True)
    for column in ("base_name", "variant", "loss_missing", "in_paper_fit_set"):
        assert list(table[column]) == list(reference[column]), column
    assert table.in_paper_fit_set.sum() == 182 and table.loss_missing.sum() == 9
    # the loader takes the notebook itself and converts it into the cache
    runs = ds.muennighoff2023(notebook, fit_set_only=True)
    assert len(runs) == 182


def test_datablations_notebook_code_is_never_run(raw_dicts, tmp_path):
    marker = tmp_path / "ran"
    evil = {"cell_type": "code", "metadata": {}, "outputs": [], "source": [
        f"NAMES_TO_VAL_LOSSES = {{'x': __import__('pathlib').Path({str(marker)!r}).touch()}}\n"]}
    notebook = _notebook(tmp_path, raw_dicts, cell1=evil)
    with pytest.raises(InputError, match="not a plain literal"):
        ds.convert_muennighoff2023(notebook)
    assert not marker.exists()


def test_datablations_run_names():
    params = {"2b8": 2.81e9, "1b5": 1.5173e9, "14m": 1.41e7, "4b2": 4.2465e9}
    tokens = {"1b25": 1.25, "7b5": 7.5}
    assert convert._parse_run("2b855b11bc4seed1", params, tokens) == ("2b8", 55e9, 11e9, "c4seed1")
    assert convert._parse_run("2b84b84b8", params, tokens) == ("2b8", 4.8e9, 4.8e9, "")
    assert convert._parse_run("14m7b5100m", params, tokens) == ("14m", 7.5e9, 1e8, "")
    assert convert._parse_run("2b855b1b25", params, tokens) == ("2b8", 55e9, 1.25e9, "")
    assert convert._parse_run("4b284b12bc4opt2", params, tokens) == ("4b2", 84e9, 12e9, "c4opt2")
    with pytest.raises(InputError, match="cannot read the run name"):
        convert._parse_run("9q9", params, tokens)


# --------------------------------------------------------------------------- Porian pickles
def _object_index(values):
    return pd.Index(list(values), dtype=object)


def _summary_pickles(table: pd.DataFrame, folder):
    """Pickles shaped like Porian et al.'s summary_df files (pandas 2 layout: object strings),
    one row per setting with a per-budget 'data' table holding orig_n / orig_t / orig_loss."""
    keys = ["dataset", "hparams", "warmup", "decay", "param_count", "loss_type"]
    for source, part in table.groupby("source_file", sort=False):
        rows = []
        for setting, group in part.groupby("setting", sort=False):
            budgets = []
            for flops, budget in group.groupby("C"):
                budgets.append({"flops": flops, "orig_n": pd.Series(budget.N.to_numpy()),
                                "orig_t": pd.Series(budget.D.to_numpy()),
                                "orig_loss": pd.Series(budget.loss.to_numpy()),
                                "n_interp": np.geomspace(budget.N.min(), budget.N.max(), 5),
                                "n_stars": [np.float64(budget.N.median())]})
            budgets.append({"flops": 5.12e19, "orig_n": None, "orig_t": None, "orig_loss": None,
                            "n_interp": None, "n_stars": None})  # a budget with too few models
            data = pd.DataFrame(budgets)
            data.columns = _object_index(data.columns)
            first = group.iloc[0]
            rows.append({**{k: first[k] for k in keys[:-1]}, "val": first["loss_type"],
                         "data": data, "fit_results": {"basic": {"n_exponent": 0.5}},
                         "max_loss": float(group.loss.max())})
        summary = pd.DataFrame(rows)
        summary.columns = _object_index(summary.columns)
        for column in ("dataset", "hparams", "warmup", "decay", "param_count", "val"):
            summary[column] = summary[column].astype(object)
        with lzma.open(folder / source, "wb") as handle:
            pickle.dump(summary, handle, protocol=5)


def test_porian_pickles_convert_to_the_reference_table(shared_dir, tmp_path, monkeypatch):
    reference = pd.read_csv(shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv")
    folder = tmp_path / "pickles"
    folder.mkdir()
    _summary_pickles(reference, folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScalingLawsWarning)  # the fingerprint matches
        table = ds.convert_porian2024(folder, out=tmp_path / "porian.csv")
    assert len(table) == len(reference) == 1745
    assert ds.table_fingerprint(table, ["setting", "N", "D", "C", "loss"]) == \
        ds.DATASETS["porian2024"].content_sha256
    assert set(table.source_file) == set(reference.source_file)
    # the loader takes the folder of pickles and converts it into the cache once
    monkeypatch.setenv("SCALINGLAWS_CACHE", str(tmp_path / "cache"))
    runs = ds.porian2024(folder)
    assert len(runs) == 1745
    assert len(list((tmp_path / "cache" / "converted").iterdir())) == 1


def test_a_changed_table_is_announced(shared_dir, tmp_path):
    reference = pd.read_csv(shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv")
    reference.loc[0, "loss"] += 0.01
    _summary_pickles(reference[reference.source_file == "summary_df_att.pickle.xz"], tmp_path)
    with pytest.warns(ScalingLawsWarning, match="differs from the one"):
        ds.convert_porian2024(tmp_path / "summary_df_att.pickle.xz", out=tmp_path / "p.csv")


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "summary_df.pickle.xz"
    with lzma.open(path, "wb") as handle:
        pickle.dump({"data": _Payload(marker)}, handle)
    with pytest.raises(InputError, match="refusing to load io.open"):
        ds.convert_porian2024(path)
    assert not marker.exists()
    # an os.system gadget names its module
    with lzma.open(path, "wb") as handle:
        handle.write(b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.")
    with pytest.raises(InputError, match="refusing to load os.system"):
        ds.convert_porian2024(path)
    assert not marker.exists()


def test_a_pickle_of_something_else_is_refused(tmp_path):
    path = tmp_path / "summary_df.pickle.xz"
    with lzma.open(path, "wb") as handle:
        pickle.dump([1, 2, 3], handle)
    with pytest.raises(InputError, match="not one of Porian"):
        ds.convert_porian2024(path)
    path.write_bytes(b"not xz at all")
    with pytest.raises(InputError, match="not a readable pandas pickle"):
        ds.convert_porian2024(path)


def test_command_line_converter(shared_dir, raw_dicts, tmp_path, capsys):
    notebook = _notebook(tmp_path, raw_dicts)
    out = tmp_path / "runs.csv"
    assert ds.main(["convert", "muennighoff2023", str(notebook), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert ds._sha256(notebook) in printed and "wrote 317 rows" in printed
    assert len(pd.read_csv(out)) == 317
    assert ds.main(["convert", "muennighoff2023", str(notebook), "--out", str(notebook)]) == 2
    assert "also an input" in capsys.readouterr().err
    # converting again over the table it wrote asks for --force (a CSV cannot say who wrote
    # it), which the converter takes; the Python function checks the path the same way
    assert ds.main(["convert", "muennighoff2023", str(notebook), "--out", str(out)]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert ds.main(["convert", "muennighoff2023", str(notebook), "--out", str(out),
                    "--force"]) == 0
    with pytest.raises(ds.InputError, match="also an input"):
        ds.convert_muennighoff2023(notebook, notebook, force=True)
