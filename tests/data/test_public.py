import dataclasses

import pytest

from scalinglaws import InputError
from scalinglaws import datasets as ds


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
    with pytest.raises(InputError, match="pass its path"):
        ds.fetch("epoch_chinchilla")
    with pytest.raises(InputError, match="not in the cache"):
        ds.fetch("epoch_chinchilla", download=False)


def test_datasets_without_a_download_need_a_path(tmp_path):
    with pytest.raises(InputError, match="no downloadable public file"):
        ds.fetch("porian2024")
    with pytest.raises(InputError, match="no such file"):
        ds.fetch("porian2024", tmp_path / "missing.csv")
    with pytest.raises(InputError, match="unknown dataset"):
        ds.fetch("imagenet")


def test_shared_public_tables_load(shared_dir):
    porian = ds.porian2024(shared_dir / "datasets" / "porian2024")
    assert len(porian) == 1745 and "setting" in porian.columns
    runs = ds.muennighoff2023(shared_dir / "datasets" / "muennighoff2023_datablations",
                              fit_set_only=True)
    assert len(runs) == 182 and runs.has("U")
