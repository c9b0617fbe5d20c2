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
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

from .._exceptions import InputError, ScalingLawsWarning
from .runs import Runs, load_runs

__all__ = ["PublicDataset", "DATASETS", "cache_dir", "fetch", "epoch_chinchilla", "porian2024",
           "muennighoff2023", "convert_porian2024", "convert_muennighoff2023",
           "table_fingerprint", "DOWNLOAD_DEADLINE"]

#: seconds a whole download may take before it is abandoned
DOWNLOAD_DEADLINE = 300.0
_SOCKET_TIMEOUT = 30.0
_BLOCK = 1 << 16


@dataclass(frozen=True)
class PublicDataset:
    """Where a public dataset comes from and how to check it.

    ``url``/``sha256``: a file downloaded as is. ``sources``: the authors' files a table is
    converted from (``raw_pattern`` finds them in a folder). ``content_sha256``: the
    :func:`table_fingerprint` of the converted table the package's tests use.
    """

    name: str
    filename: str
    description: str
    url: str | None = None
    sha256: str | None = None
    how_to_get: str = ""
    raw_pattern: str | None = None
    content_sha256: str | None = None


_PORIAN_REPO = ("https://github.com/formll/resolving-scaling-law-discrepancies/raw/"
                "0dc60d91b8a525858a3067fc9e4a46ff5374cc6f/data/")
_DATABLATIONS = ("https://github.com/huggingface/datablations/raw/"
                 "13701315b163f1c54642b94ad237b2699187c3ee/utils/parametric_fit.ipynb")

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
        description="IsoFLOP sweeps of Porian et al. (2024, arXiv 2406.19146), converted from "
                    "the authors' pandas pickles without unpickling arbitrary objects",
        how_to_get="download summary_df.pickle.xz, summary_df_att.pickle.xz, "
                   "summary_df_kaplan_tuned_hparams.pickle.xz and summary_df_owt2.pickle.xz from "
                   f"{_PORIAN_REPO} into one folder and pass that folder (it is converted "
                   "safely), or pass a CSV with columns setting, N, D, C, loss",
        raw_pattern="summary_df*.pickle.xz",
        content_sha256="929c09e307da8f34329b169cbd26dd6e20ad8442dfc2a2718c6153b92d3aac48"),
    "muennighoff2023": PublicDataset(
        name="muennighoff2023", filename="datablations_c4_runs.csv",
        description="Repeated-data runs of Muennighoff et al. (2023, arXiv 2305.16264), read "
                    "from the dict literals of utils/parametric_fit.ipynb in huggingface/datablations",
        how_to_get=f"download {_DATABLATIONS} and pass it (or its folder; it is read as data, "
                   "never run), or pass a CSV with columns N, D, U, loss (and in_paper_fit_set)",
        raw_pattern="parametric_fit.ipynb",
        content_sha256="75c7477acfe10669876e59651d475be775b6e697c2fa5565b5785ef487f83718"),
}


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
                             f"pass its path instead: {DATASETS[name].how_to_get}") from None
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
        raise InputError(f"dataset {name} is not in the cache ({cached}); pass its path or "
                         "allow the download")
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
        warnings.warn(f"{source}: {int(missing.sum())} runs have no loss (unfinished; the "
                      f"authors recorded 0) and are left out: {', '.join(map(str, names))}",
                      ScalingLawsWarning, stacklevel=2)
        table = table[~missing]
    return load_runs(table.reset_index(drop=True),
                     columns={"N": "N", "D": "D", "U": "U", "C": "C", "loss": "loss"})


# --------------------------------------------------------------------------- conversions
def table_fingerprint(frame, columns) -> str:
    """SHA-256 of ``columns`` of ``frame``, rows sorted, numbers to 8 significant figures.

    Used to recognise a converted table whatever its row order and number formatting.
    """
    import numpy as np

    lines = []
    for row in frame[list(columns)].itertuples(index=False):
        cells = []
        for value in row:
            if isinstance(value, (float, np.floating)):
                cells.append("" if not np.isfinite(value) else f"{float(value):.8g}")
            else:
                cells.append(str(value))
        lines.append(",".join(cells))
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def _check_fingerprint(name: str, frame, columns, out) -> None:
    expected = DATASETS[name].content_sha256
    if expected and table_fingerprint(frame, columns) != expected:
        warnings.warn(f"{out}: the converted {name} table differs from the one this package's "
                      "tests and README use (another commit of the authors' files?); results "
                      "may differ from the documented ones", ScalingLawsWarning, stacklevel=3)


def _write_table(frame, out, inputs=(), force: bool = False) -> None:
    """Write ``frame`` to ``out`` atomically: never over one of ``inputs``, and over an
    existing table or another kind of file only with ``force``."""
    if out is None:
        return
    from .._files import atomic_write, check_output_path

    target = check_output_path(out, inputs=inputs, kind="table", force=force,
                               argument="`out`")
    atomic_write(target, frame.to_csv(index=False, float_format="%.8g"))


#: (module, name) pairs a Porian pickle may name: what pandas and numpy need to rebuild
#: DataFrames, Series, indexes and arrays of numbers and strings, and nothing else
_PICKLE_ALLOWED = frozenset({
    ("pandas", "DataFrame"), ("pandas", "Series"), ("pandas", "Index"), ("pandas", "RangeIndex"),
    ("pandas.core.frame", "DataFrame"), ("pandas.core.series", "Series"),
    ("pandas.core.internals.managers", "BlockManager"),
    ("pandas.core.internals.managers", "SingleBlockManager"),
    ("pandas._libs.internals", "_unpickle_block"), ("pandas.core.internals.blocks", "new_block"),
    ("pandas.core.indexes.base", "_new_Index"), ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.range", "RangeIndex"), ("pandas.core.indexes.numeric", "Int64Index"),
    ("pandas.core.indexes.numeric", "UInt64Index"),
    ("pandas.core.indexes.numeric", "Float64Index"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),
    ("builtins", "slice"),
})


def _restricted_unpickler(handle, source: str):
    import pickle

    import numpy as np

    try:  # pandas' own unpickler maps classes old pandas versions pickled under other names
        from pandas.compat.pickle_compat import Unpickler as base
    except ImportError:  # pragma: no cover - pandas moved it
        base = pickle._Unpickler
    numpy_2 = int(np.__version__.split(".")[0]) >= 2

    class RestrictedUnpickler(base):
        def find_class(self, module, name):
            # numpy 1 pickles name numpy.core, which numpy 2 renamed numpy._core
            canonical = ("numpy._core" + module[len("numpy.core"):]
                         if module.startswith("numpy.core.") else module)
            if (canonical, name) not in _PICKLE_ALLOWED:
                raise InputError(f"{source}: refusing to load {module}.{name} from a pickle: "
                                 "only pandas and numpy data classes are admitted")
            return super().find_class(canonical if numpy_2 else module, name)

        def persistent_load(self, pid):
            raise InputError(f"{source}: refusing a persistent reference in a pickle")

    return RestrictedUnpickler(handle)


def _load_pickle(path: Path):
    import lzma
    import pickle

    opener = lzma.open if path.suffix == ".xz" else open
    try:
        with opener(path, "rb") as handle:
            return _restricted_unpickler(handle, str(path)).load()
    except InputError:
        raise
    except (OSError, EOFError, lzma.LZMAError, pickle.UnpicklingError, ValueError, TypeError,
            AttributeError, KeyError, IndexError) as exc:
        raise InputError(f"{path}: not a readable pandas pickle ({type(exc).__name__}: "
                         f"{exc})") from None


_SETTING_KEYS = ("dataset", "hparams", "warmup", "decay", "param_count", "val")


def _porian_rows(summary, source: str) -> list:
    import numpy as np
    import pandas as pd

    if not isinstance(summary, pd.DataFrame) or not set(_SETTING_KEYS + ("data",)) <= set(
            summary.columns):
        raise InputError(f"{source}: not one of Porian et al.'s summary tables (it needs "
                         f"columns {', '.join(_SETTING_KEYS)}, data)")
    rows = []
    for _, row in summary.iterrows():
        setting = "/".join(str(row[k]) for k in _SETTING_KEYS)
        data = row["data"]
        if not isinstance(data, pd.DataFrame) or not {"flops", "orig_n", "orig_t",
                                                       "orig_loss"} <= set(data.columns):
            raise InputError(f"{source}: setting {setting} has no budget table with flops, "
                             "orig_n, orig_t, orig_loss")
        for _, budget in data.iterrows():
            sizes, tokens, losses = (budget[k] for k in ("orig_n", "orig_t", "orig_loss"))
            if sizes is None or (np.ndim(sizes) == 0 and pd.isna(sizes)):
                continue  # fewer than three models at this budget
            sizes, tokens, losses = (np.asarray(v, dtype=float) for v in (sizes, tokens, losses))
            for n, d, loss in zip(sizes, tokens, losses):
                rows.append({"setting": setting, **{k: str(row[k]) for k in _SETTING_KEYS[:5]},
                             "loss_type": str(row["val"]), "N": n, "D": d,
                             "C": float(budget["flops"]), "loss": loss,
                             "source_file": Path(source).name})
    return rows


def convert_porian2024(sources, out=None, *, force: bool = False):
    """Porian et al.'s summary pickles to the IsoFLOP table, without running the pickles.

    Parameters
    ----------
    sources : path or sequence of paths
        The ``summary_df*.pickle.xz`` files (or a folder holding them).
    out : path, optional
        CSV to write (atomically; never over a source, nor over an existing table unless
        ``force``).
    force : bool
        Replace an existing file at ``out``.

    Returns
    -------
    DataFrame
        One row per (setting, budget, model size): ``setting`` (``dataset/hparams/warmup/
        decay/param_count/loss_type``), its parts, ``N``, ``D``, ``C``, ``loss``,
        ``source_file``; the models the authors used at each budget (``orig_n``, ``orig_t``,
        ``orig_loss`` of their analysis), with ``D = C / (6 N)``.
    """
    import pandas as pd

    if isinstance(sources, (str, os.PathLike)):
        sources = Path(sources)
        sources = sorted(sources.glob("summary_df*.pickle.xz")) if sources.is_dir() else [sources]
    sources = [Path(s) for s in sources]
    if not sources:
        raise InputError("no summary_df*.pickle.xz files to convert: "
                         f"{DATASETS['porian2024'].how_to_get}")
    order = {"summary_df.pickle.xz": 0, "summary_df_att.pickle.xz": 1,
             "summary_df_kaplan_tuned_hparams.pickle.xz": 2, "summary_df_owt2.pickle.xz": 3}
    rows = []
    for source in sorted(sources, key=lambda p: (order.get(p.name, 9), p.name)):
        rows += _porian_rows(_load_pickle(source), str(source))
    frame = pd.DataFrame(rows)
    frame = frame.drop_duplicates(["setting", "C", "N"], keep="first").reset_index(drop=True)
    _check_fingerprint("porian2024", frame, ["setting", "N", "D", "C", "loss"], out)
    _write_table(frame, out, sources, force)
    return frame


def _notebook_dicts(cell, source: str, index: int) -> dict:
    """The dict literals assigned at the top level of a notebook code cell (never run)."""
    import ast

    text = "".join(cell.get("source", [])) if isinstance(cell.get("source"), list) \
        else str(cell.get("source", ""))
    # IPython magics and shell lines are not Python; they never hold the data
    text = "\n".join(line for line in text.splitlines()
                     if not line.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise InputError(f"{source}: cell {index} is not Python ({exc.msg})") from None
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name) and isinstance(node.value, ast.Dict):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                raise InputError(f"{source}: {node.targets[0].id} in cell {index} is not a "
                                 "plain literal; refusing to evaluate it") from None
    return found


_TOKEN = r"(?:\d{1,3}m|\d+b\d*)"  # millions are written below 1000m
_VARIANT = r"(?:c4v2seed\d+|c4seed\d+|seed\d+|c4opt\d*|opt|dedup)?"


def _tokens(text: str, named: dict) -> float:
    if text in named:
        return float(named[text]) * 1e9
    if text.endswith("m"):
        return float(text[:-1]) * 1e6
    whole, _, decimals = text.partition("b")
    return float(f"{whole}.{decimals}" if decimals else whole) * 1e9


def _parse_run(name: str, params: dict, tokens: dict):
    """(params key, D, U, variant) of a datablations run name ``{N}{D}{U}{variant}``.

    Names concatenate the three sizes, so several splits can read; a split must give
    D >= U and write millions below 1000m (``7b5100m`` is 7.5B tokens of 100M unique, not
    7B of 5,100M), and of those the one with the largest U is taken (``2b855b11b`` is 55B
    tokens of 11B unique, not 55.1B of 1B).
    """
    import re

    choices = []
    for key in sorted(params, key=len, reverse=True):
        if not name.startswith(key):
            continue
        rest = name[len(key):]
        for split in range(1, len(rest)):
            head, tail = rest[:split], rest[split:]
            if not re.fullmatch(_TOKEN, head):
                continue
            match = re.fullmatch(rf"({_TOKEN})({_VARIANT})", tail)
            if match is None:
                continue
            total, unique = _tokens(head, tokens), _tokens(match.group(1), tokens)
            if total >= unique:
                choices.append((unique, key, total, match.group(2)))
    if not choices:
        raise InputError(f"cannot read the run name {name!r} as parameters, tokens, unique "
                         "tokens and a variant")
    unique, key, total, variant = max(choices, key=lambda c: (c[0], len(c[1])))
    return key, total, unique, variant


def convert_muennighoff2023(notebook, out=None, *, force: bool = False):
    """The datablations runs from ``utils/parametric_fit.ipynb``, read as data.

    Cell 1 of the notebook (commit 13701315) holds ``NAMES_TO_VAL_LOSSES`` (317 run names
    to final validation loss; 0 for unfinished runs), ``PARAMS_MAP`` and ``TOKENS_MAP``;
    cell 25 holds the outlier-removed subset the paper's law was fitted on. The fit set is
    the cell-25 runs with a loss, without the deduplication-comparison runs: 182 runs.

    Returns
    -------
    DataFrame
        ``run_name``, ``base_name``, ``variant``, ``N``, ``D``, ``U``, ``C`` (6ND),
        ``epochs`` (D/U), ``R_D`` (repetitions beyond the first epoch), ``loss`` (NaN for
        the unfinished runs), ``loss_missing``, ``in_paper_fit_set``.
    """
    import json

    import numpy as np
    import pandas as pd

    path = Path(notebook)
    if path.is_dir():
        path = path / "parametric_fit.ipynb"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        cells = document["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a readable notebook ({exc})") from None
    if not isinstance(cells, list) or len(cells) <= 25:
        raise InputError(f"{path}: has {len(cells) if isinstance(cells, list) else 0} cells; "
                         "expected the datablations notebook (cells 1 and 25 hold the runs)")
    everything = _notebook_dicts(cells[1], str(path), 1)
    fit_set = _notebook_dicts(cells[25], str(path), 25)
    needed = ("NAMES_TO_VAL_LOSSES", "PARAMS_MAP", "TOKENS_MAP")
    if any(k not in everything for k in needed) or "NAMES_TO_VAL_LOSSES" not in fit_set:
        raise InputError(f"{path}: cells 1 and 25 do not define {', '.join(needed)}; expected "
                         "the notebook at commit 13701315 of huggingface/datablations")
    params, tokens = everything["PARAMS_MAP"], everything["TOKENS_MAP"]
    in_fit = {k for k, v in fit_set["NAMES_TO_VAL_LOSSES"].items() if v}
    rows = []
    for name, loss in everything["NAMES_TO_VAL_LOSSES"].items():
        key, total, unique, variant = _parse_run(name, params, tokens)
        n = float(params[key])
        rows.append({"run_name": name, "base_name": name[:len(name) - len(variant)],
                     "variant": variant or "main", "N": n, "D": total, "U": unique,
                     "C": 6.0 * n * total, "epochs": total / unique,
                     "R_D": max(total / unique - 1.0, 0.0),
                     "loss": float(loss) if loss else np.nan, "loss_missing": not loss,
                     "in_paper_fit_set": bool(loss) and name in in_fit and variant != "dedup"})
    frame = pd.DataFrame(rows)
    _check_fingerprint("muennighoff2023", frame,
                       ["run_name", "N", "D", "U", "loss", "in_paper_fit_set"], out)
    _write_table(frame, out, [notebook], force)
    return frame


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
