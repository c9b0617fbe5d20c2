"""Public datasets by name: a path the user gives, or a download with a checksum and a cache.

The project ships none of these files (they belong to other groups). Each
loader takes ``path=`` to a local copy; where the file has a stable public
source, ``download=True`` fetches it once into the cache
(``$SCALINGLAWS_CACHE`` or ``~/.cache/scalinglaws``) and verifies its SHA-256
before use.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .._exceptions import InputError
from .runs import Runs, load_runs

__all__ = ["PublicDataset", "DATASETS", "cache_dir", "fetch", "epoch_chinchilla", "porian2024",
           "muennighoff2023"]


@dataclass(frozen=True)
class PublicDataset:
    """Where a public dataset comes from and how to check it."""

    name: str
    filename: str
    description: str
    url: str | None = None
    sha256: str | None = None
    how_to_get: str = ""


DATASETS = {
    "epoch_chinchilla": PublicDataset(
        name="epoch_chinchilla", filename="svg_extracted_data.csv",
        description="245 Chinchilla runs digitised by Epoch AI from Hoffmann et al. (2022) Fig. 4 "
                    "(Besiroglu et al. 2024, arXiv 2404.10102)",
        url="https://raw.githubusercontent.com/epoch-research/analyzing-chinchilla/"
            "92258837425e1b5f2851d624287f0120583a3d0e/data/svg_extracted_data.csv",
        sha256="193478df4e90f040016431996c45682659306840ecdadf83cfb9cd5ca0aa1b30",
        how_to_get="repository epoch-research/analyzing-chinchilla, file data/svg_extracted_data.csv"),
    "porian2024": PublicDataset(
        name="porian2024", filename="porian2024_isoflop.csv",
        description="IsoFLOP sweeps of Porian et al. (2024, arXiv 2406.19146), exported to CSV "
                    "from the pickles in formll/resolving-scaling-law-discrepancies",
        how_to_get="the authors publish pandas pickles (data/summary_df*.pickle.xz in "
                   "formll/resolving-scaling-law-discrepancies); give the path of a CSV export "
                   "with columns setting, N, D, C, loss"),
    "muennighoff2023": PublicDataset(
        name="muennighoff2023", filename="datablations_c4_runs.csv",
        description="Repeated-data runs of Muennighoff et al. (2023, arXiv 2305.16264), parsed "
                    "from utils/parametric_fit.ipynb in huggingface/datablations",
        how_to_get="the losses live in a notebook of huggingface/datablations; give the path "
                   "of a CSV with columns N, D, U, loss (and in_paper_fit_set)"),
}


def cache_dir() -> Path:
    """Folder where downloads are kept."""
    return Path(os.environ.get("SCALINGLAWS_CACHE", Path.home() / ".cache" / "scalinglaws"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(name: str, path=None, *, download: bool = True) -> Path:
    """Local path of public dataset ``name``: ``path`` if given, else the cache, else a download.

    A given ``path`` may be the file or a folder holding it. Downloaded files
    are checked against their SHA-256 before they enter the cache.
    """
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    info = DATASETS[name]
    if path is not None:
        path = Path(path)
        if path.is_dir():
            path = path / info.filename
        if not path.is_file():
            raise InputError(f"{path}: no such file (dataset {name}: {info.how_to_get})")
        return path
    cached = cache_dir() / info.filename
    if cached.is_file() and (info.sha256 is None or _sha256(cached) == info.sha256):
        return cached
    if info.url is None:
        raise InputError(f"dataset {name} has no downloadable public file; pass its path "
                         f"(--data PATH): {info.how_to_get}")
    if not download:
        raise InputError(f"dataset {name} is not in the cache ({cached}); pass its path or "
                         "allow the download")
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=cached.parent, delete=False) as tmp:
        try:
            with urllib.request.urlopen(info.url, timeout=60) as response:
                shutil.copyfileobj(response, tmp)
        except (urllib.error.URLError, OSError) as exc:
            os.unlink(tmp.name)
            raise InputError(f"could not download dataset {name} from {info.url} ({exc}); "
                             f"pass its path instead: {info.how_to_get}") from None
    if info.sha256 and _sha256(Path(tmp.name)) != info.sha256:
        os.unlink(tmp.name)
        raise InputError(f"downloaded dataset {name} does not match its SHA-256 checksum; "
                         "not used")
    os.replace(tmp.name, cached)
    return cached


def epoch_chinchilla(path=None, *, download: bool = True, exclude_top_loss: int = 5) -> Runs:
    """Epoch AI's digitised Chinchilla runs, by default without the 5 highest-loss runs
    (as the replication does: 240 runs). D is derived as C / (6 N)."""
    return load_runs(fetch("epoch_chinchilla", path, download=download)).exclude_top_loss(
        exclude_top_loss)


def porian2024(path) -> Runs:
    """Porian et al. (2024) IsoFLOP table (columns setting, N, D, C, loss; the user's copy)."""
    return load_runs(fetch("porian2024", path),
                     columns={"N": "N", "D": "D", "C": "C", "loss": "loss"})


def muennighoff2023(path, *, fit_set_only: bool = False) -> Runs:
    """Muennighoff et al. (2023) repeated-data runs (N, D, U, loss); unfinished runs are
    omitted with a warning. ``fit_set_only`` keeps the 182 runs the paper fitted on."""
    import warnings

    from .._exceptions import ScalingLawsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingLawsWarning)
        runs = load_runs(fetch("muennighoff2023", path), columns={"N": "N", "D": "D", "U": "U",
                                                                  "C": "C", "loss": "loss"},
                         nan_policy="omit")
    if fit_set_only:
        runs = runs.select(runs.frame["in_paper_fit_set"].astype(bool).to_numpy())
    return runs
