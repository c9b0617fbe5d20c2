"""Public datasets by name: a path the user gives, a checked download, or a safe conversion.

The project ships none of these files (they belong to other groups). Each loader takes
``path=`` to a local copy; where the file has a stable public source, ``download=True``
fetches it once into the cache (``$SCALINGLAWS_CACHE`` or ``~/.cache/scalinglaws``),
verifies its SHA-256 before use, and gives up after an overall deadline (a connection
that trickles bytes does not hang the command).

Two groups publish no table, and their files are converted here without running them:

* **Porian et al. (2024)** publish pandas pickles (``data/summary_df*.pickle.xz`` in
  ``formll/resolving-scaling-law-discrepancies``). Loading a pickle runs whatever the file
  names, so :func:`convert_porian2024` never calls ``pickle.load``: a restricted unpickler
  (the "restricting globals" recipe of the :mod:`pickle` documentation) admits only the
  two dozen pandas and numpy functions and classes that rebuild a DataFrame of numbers
  and refuses any other name in the file with an :class:`~scalinglaws.InputError`.
* **Muennighoff et al. (2023)** keep the losses as dict literals in a notebook
  (``utils/parametric_fit.ipynb`` in ``huggingface/datablations``).
  :func:`convert_muennighoff2023` reads the notebook as JSON and the dicts with
  :func:`ast.literal_eval`, which evaluates literals only.

Pass the downloaded files (or their folder) as the path: the loaders convert them into the
cache once. Or convert explicitly::

    python -m scalinglaws.data.public convert porian2024 FOLDER_WITH_PICKLES --out porian2024_isoflop.csv
    python -m scalinglaws.data.public convert muennighoff2023 parametric_fit.ipynb --out datablations_c4_runs.csv

A converted table is compared with a fingerprint of the table this package's tests use;
a difference is announced (other commits of the authors' files may hold other numbers).

This module fetches and loads; the table of datasets is :mod:`.public_catalog`, the
converters :mod:`.public_convert` (their names are importable from here).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

from .._exceptions import InputError, ScalingLawsWarning
from .._text import counted
# the table of datasets and the safe converters have their own modules; re-exported here,
# where users import them
from .public_catalog import DATASETS, PublicDataset
from .public_convert import convert_muennighoff2023, convert_porian2024, table_fingerprint
from .runs import Runs, load_runs

__all__ = ["PublicDataset", "DATASETS", "cache_dir", "fetch", "epoch_chinchilla", "porian2024",
           "muennighoff2023", "convert_porian2024", "convert_muennighoff2023",
           "table_fingerprint", "DOWNLOAD_DEADLINE"]

#: seconds a whole download may take before it is abandoned
DOWNLOAD_DEADLINE = 300.0
_SOCKET_TIMEOUT = 30.0
_BLOCK = 1 << 16


def cache_dir() -> Path:
    """Folder where downloads and conversions are kept."""
    return Path(os.environ.get("SCALINGLAWS_CACHE", Path.home() / ".cache" / "scalinglaws"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, folder: Path, name: str, deadline: float) -> Path:
    """Download ``url`` into a temporary file in ``folder`` within ``deadline`` seconds."""
    start = time.monotonic()
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=min(_SOCKET_TIMEOUT, deadline)) as response:
                # read1 returns what has arrived, so a trickle cannot hold a read past the
                # deadline (read(n) would wait for n bytes)
                read = getattr(response, "read1", response.read)
                while block := read(_BLOCK):
                    tmp.write(block)
                    if time.monotonic() - start > deadline:
                        raise TimeoutError(f"not finished after {deadline:g} s")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            tmp.close()
            os.unlink(tmp.name)
            raise InputError(f"could not download dataset {name} from {url} ({exc}); "
                             f"pass its path instead (`path=` in Python, `--data PATH` to "
                             f"`scalinglaws reproduce`): {DATASETS[name].how_to_get}") from None
    return Path(tmp.name)


def fetch(name: str, path=None, *, download: bool = True,
          deadline: float = DOWNLOAD_DEADLINE) -> Path:
    """Local path of public dataset ``name``: ``path`` if given, else the cache, else a download.

    A given ``path`` may be the file, a folder holding it, or the authors' raw files (or
    their folder) for a dataset that is converted (see the module notes): the converted
    table is then kept in the cache. Downloaded files are checked against their SHA-256
    before they enter the cache; a download is abandoned after ``deadline`` seconds.
    """
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    info = DATASETS[name]
    if path is not None:
        return _local(info, Path(path))
    cached = cache_dir() / info.filename
    if cached.is_file() and (info.sha256 is None or _sha256(cached) == info.sha256):
        return cached
    if info.url is None:
        raise InputError(f"dataset {name} has no downloadable table; pass its path: "
                         f"{info.how_to_get}")
    if not download:
        raise InputError(f"dataset {name} is not in the cache ({cached}); pass its path "
                         "(`path=`, or `--data PATH` to `scalinglaws reproduce`) or allow the "
                         "download")
    if not (isinstance(deadline, (int, float)) and deadline > 0):
        raise InputError(f"`deadline` must be a positive number of seconds, got {deadline!r}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = _download(info.url, cached.parent, name, float(deadline))
    if info.sha256 and _sha256(tmp) != info.sha256:
        os.unlink(tmp)
        raise InputError(f"downloaded dataset {name} does not match its SHA-256 checksum; "
                         "not used")
    os.replace(tmp, cached)
    return cached


def _local(info: PublicDataset, path: Path) -> Path:
    """The table for a path the user gave: the table itself, or converted raw files."""
    raw = []
    if path.is_dir():
        if (path / info.filename).is_file():
            return path / info.filename
        raw = sorted(path.glob(info.raw_pattern)) if info.raw_pattern else []
    elif path.is_file():
        if info.raw_pattern and path.match(info.raw_pattern):
            raw = [path]
        else:
            return path
    if not raw:
        raise InputError(f"{path}: no such file (dataset {info.name}: {info.how_to_get})")
    digest = hashlib.sha256("".join(_sha256(p) for p in raw).encode()).hexdigest()[:16]
    cached = cache_dir() / "converted" / f"{Path(info.filename).stem}-{digest}.csv"
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        convert = {"porian2024": convert_porian2024,
                   "muennighoff2023": convert_muennighoff2023}[info.name]
        convert(raw if info.name == "porian2024" else raw[0], out=cached)
    return cached


def epoch_chinchilla(path=None, *, download: bool = True, exclude_top_loss: int = 5) -> Runs:
    """Epoch AI's digitised Chinchilla runs, by default without the 5 highest-loss runs
    (as the replication does: 240 runs). D is derived as C / (6 N)."""
    return load_runs(fetch("epoch_chinchilla", path, download=download)).exclude_top_loss(
        exclude_top_loss)


def porian2024(path) -> Runs:
    """Porian et al. (2024) IsoFLOP table (columns setting, N, D, C, loss).

    ``path``: the CSV, its folder, or the authors' ``summary_df*.pickle.xz`` files (or their
    folder), which are converted safely (:func:`convert_porian2024`).
    """
    if path is None:
        raise InputError(f"dataset porian2024 needs a path: {DATASETS['porian2024'].how_to_get}")
    return load_runs(fetch("porian2024", path),
                     columns={"N": "N", "D": "D", "C": "C", "loss": "loss"})


def muennighoff2023(path, *, fit_set_only: bool = False) -> Runs:
    """Muennighoff et al. (2023) repeated-data runs (N, D, U, loss).

    ``fit_set_only`` keeps the 182 runs the paper fitted on. Runs whose loss the authors
    recorded as 0 (unfinished: 9 in the full table, none in the fit set) are left out with
    a :class:`~scalinglaws.ScalingLawsWarning` that names them. ``path``: the CSV, its
    folder, or the authors' ``parametric_fit.ipynb`` (read as data,
    :func:`convert_muennighoff2023`).
    """
    import numpy as np
    import pandas as pd

    if path is None:
        raise InputError("dataset muennighoff2023 needs a path: "
                         f"{DATASETS['muennighoff2023'].how_to_get}")
    source = fetch("muennighoff2023", path)
    table = pd.read_csv(source)
    if fit_set_only:
        if "in_paper_fit_set" not in table.columns:
            raise InputError(f"{source}: no in_paper_fit_set column, needed by fit_set_only")
        table = table[table["in_paper_fit_set"].astype(str).str.lower().isin(["true", "1"])]
    if "loss" not in table.columns:
        raise InputError(f"{source}: no loss column")
    missing = ~np.isfinite(pd.to_numeric(table["loss"], errors="coerce").to_numpy(float))
    if missing.any():
        names = table.loc[missing, "run_name"].tolist() if "run_name" in table.columns else \
            [f"row {i}" for i in np.flatnonzero(missing)]
        warnings.warn(f"{source}: {counted(int(missing.sum()), 'run')} with no loss (unfinished; "
                      "the "
                      f"authors recorded 0) and are left out: {', '.join(map(str, names))}",
                      ScalingLawsWarning, stacklevel=2)
        table = table[~missing]
    return load_runs(table.reset_index(drop=True),
                     columns={"N": "N", "D": "D", "U": "U", "C": "C", "loss": "loss"})


def main(argv=None) -> int:
    """``python -m scalinglaws.data.public convert NAME SOURCE --out FILE``."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m scalinglaws.data.public",
        description="Convert the authors' files of a public dataset to a CSV, without running "
                    "them (Porian et al.'s pickles through a restricted unpickler, the "
                    "datablations notebook through a literal parser). Prints each input's "
                    "SHA-256.")
    sub = parser.add_subparsers(dest="command", required=True)
    convert = sub.add_parser("convert", help="convert the authors' files to a CSV")
    convert.add_argument("name", choices=["porian2024", "muennighoff2023"])
    convert.add_argument("source", nargs="+", help="the authors' file(s), or their folder")
    convert.add_argument("--out", required=True, help="CSV to write")
    convert.add_argument("--force", action="store_true",
                         help="replace an existing file at --out (never a source)")
    args = parser.parse_args(argv)
    try:
        from .._files import check_output_path

        sources = [Path(s) for s in args.source]
        check_output_path(args.out, inputs=sources, kind="table", force=args.force)
        for source in sources:
            files = sorted(source.glob(DATASETS[args.name].raw_pattern)) if source.is_dir() \
                else [source]
            for file in files:
                if file.is_file():
                    print(f"{_sha256(file)}  {file}")
        with warnings.catch_warnings():
            warnings.simplefilter("always", ScalingLawsWarning)
            if args.name == "porian2024":
                frame = convert_porian2024(sources if len(sources) > 1 else sources[0],
                                           args.out, force=args.force)
            else:
                frame = convert_muennighoff2023(sources[0], args.out, force=args.force)
    except InputError as exc:
        print(f"scalinglaws: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(frame)} rows to {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
