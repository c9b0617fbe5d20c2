"""Safe conversion of the authors' files of two public datasets, never running them.

* **Porian et al. (2024)** publish pandas pickles. Loading a pickle runs whatever the file
  names, so :func:`convert_porian2024` never calls ``pickle.load``: a restricted unpickler
  (the "restricting globals" recipe of the :mod:`pickle` documentation) admits only the
  pandas and numpy names in :data:`_PICKLE_ALLOWED` and refuses any other with an
  :class:`~scalinglaws.InputError`.
* **Muennighoff et al. (2023)** keep the losses as dict literals in a notebook:
  :func:`convert_muennighoff2023` reads it as JSON and the dicts with
  :func:`ast.literal_eval`, which evaluates literals only.

A converted table is compared with :func:`table_fingerprint` of the table the package's
tests use; a difference is announced. The loaders and the command line
(``python -m scalinglaws.data.public convert ...``) are in :mod:`scalinglaws.data.public`,
which re-exports the converters.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

from .._exceptions import InputError, ScalingLawsWarning
from .public_catalog import DATASETS

__all__ = ["convert_muennighoff2023", "convert_porian2024", "table_fingerprint"]


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
