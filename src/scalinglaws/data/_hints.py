"""Messages for input that does not fit: which column was meant, and what a file is.

* :func:`close_columns` finds the columns that probably hold a canonical quantity under
  another name (``N (params)``, ``num_tokens``, ``params_M``, ``loss (nats)``), ignoring
  case, spacing, units in brackets and a trailing unit word;
* :func:`missing_column_message` says a required column is absent, lists the source's
  headers with how each was read (:func:`headers_read_as`), suggests the close ones and shows the mapping in Python and on the command line
  (and, when the suggested header names a scale such as ``params (M)``, that the values
  must be multiplied first);
* :func:`refuse_document` refuses a JSON document the package wrote (a fit, a comparison)
  given where a table of runs is expected, and :func:`json_shape_message` says what shape
  a JSON table must have when an object could not be read as one.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import warnings
from collections.abc import Mapping
from typing import Any

from .._exceptions import InputError, ScalingLawsWarning, user_stacklevel
from .._files import parse_json
from .._text import named_list
from ._plausibility import NAMED_LIKE, loss_name_units, scale_advice
from .cells import has_unit_suffix
from .columns import ALIASES, MEANING, _holds_numbers, _listing, headers_read_as, normalise
from .readers import read_data

__all__ = ["close_columns", "how_to_map", "missing_column_message", "loss_hint",
           "warn_unused_lookalikes",
           "read_explained", "refuse_document", "json_shape_message", "EXPECTED_JSON"]

#: The JSON shapes a table of runs may take.
EXPECTED_JSON = ('a list of records ([{"N": 7e7, "D": 1.4e9, "loss": 3.9}, ...]), an object '
                 'of equal-length columns ({"N": [...], "D": [...], "loss": [...]}), or '
                 'pandas\' split orient ({"columns": [...], "data": [[...], ...]})')
_BRACKETS = re.compile(r"[(\[{][^)\]}]*[)\]}]")
# A unit word at the end of a header: params_M, tokens (B), num_params_millions.
_UNIT_WORDS = {"k", "m", "b", "g", "t", "mn", "bn", "thousands", "millions", "billions",
               "trillions", "nats", "flop", "flops", "count", "total", "num"}
_CUTOFF = 0.8


def _variants(column: Any) -> set:
    """A header as it may name a quantity: whole, without its bracketed units, the
    bracketed text alone, and without unit words at either end."""
    text = str(column)
    found = {normalise(text), normalise(_BRACKETS.sub(" ", text))}
    found |= {normalise(inner) for inner in re.findall(r"[(\[{]([^)\]}]*)[)\]}]", text)}
    for variant in list(found):
        words = variant.split()
        while words and words[-1] in _UNIT_WORDS:
            words = words[:-1]
        while words and words[0] in _UNIT_WORDS:
            words = words[1:]
        found.add(" ".join(words))
    return {variant for variant in found if variant}


#: Headers that may well hold a quantity but are too vague to read as it unasked ("size" is
#: a model's or a data set's): a hint suggests them (the whole header, not a word of it),
#: the loader does not map them.
_LOOKALIKES = {"N": ("size", "model size"), "D": ("dataset size", "data size", "data")}


def _score(column: Any, name: str) -> float:
    """How well ``column`` matches the recognised names of canonical ``name`` (0 to 1), or
    its :data:`_LOOKALIKES`."""
    best = 0.0
    for variant in _variants(column):
        if variant in _LOOKALIKES.get(name, ()):  # whole headers only ("batch size" is none)
            best = max(best, _CUTOFF)
        for alias in ALIASES[name]:
            if variant == alias:
                return 1.0
            ratio = difflib.SequenceMatcher(None, variant, alias).ratio()
            # An alias of 4+ letters contained as whole words ("non embedding params").
            if len(alias) >= 4 and re.search(rf"(?:^| ){re.escape(alias)}(?:$| )", variant):
                ratio = max(ratio, _CUTOFF)
            best = max(best, ratio)
    return best


def close_columns(name: str, available: list) -> list:
    """Up to three of ``available`` that probably hold canonical ``name``, best first."""
    scored = [(_score(column, name), position, column)
              for position, column in enumerate(available)]
    return [column for score, _, column in sorted(scored, key=lambda item: (-item[0], item[1]))
            if score >= _CUTOFF][:3]


def how_to_map(name: str, column: Any = None) -> str:
    """``the columns option (N='N (params)')``: the mapping of ``column`` to canonical
    ``name`` in the plain words every message uses, the same in Python
    (``columns={"N": "N (params)"}``) and on the command line (``--columns``); the column
    is quoted as the shell needs it; without a column, ``<column>`` stands for it."""
    shown = "<column>" if column is None else shlex.quote(str(column))
    return f"the columns option ({name}={shown})"


def missing_column_message(name: str, source: str, columns: list, how_to_get: str,
                           table=None, *, headers=()) -> str:
    """``runs from SOURCE have no NAME column``, the source's ``headers`` with how each
    was read (``(header, how)`` pairs; without them, the ``columns`` present), the close
    ones among the columns not holding a canonical quantity, and how to map one (with the
    units of its header, unless ``table``, the cells, shows suffixes such as ``70M``)."""
    close = close_columns(name, [column for column in columns if column not in ALIASES])
    recognised = ", ".join(alias.replace(" ", "_") for alias in ALIASES[name])
    listing = (headers_read_as(source, headers) if headers
               else f"Columns: {_listing(columns)}.")
    message = (f"runs from {source} have no {name!r} column ({MEANING[name]}); {how_to_get}. "
               f"{listing}")
    if close:
        message += f" Did you mean {' or '.join(repr(str(column)) for column in close)}?"
    message = (f"{message} Recognised names for {name}: {recognised} (any case); or say which "
               f"column holds it with {how_to_map(name, close[0] if close else None)}")
    suffixed = (table is not None and close and close[0] in getattr(table, "columns", ())
                and has_unit_suffix(table[close[0]]))
    advice = scale_advice(close[0], name, bool(suffixed)) if close else ""
    return f"{message}. Mind the units of {str(close[0])!r}: {advice}" if advice else message


def loss_hint(table, columns: Mapping | None) -> str:
    """Advice for a table without a recognised loss column (neither mapped in ``columns``
    nor named by an alias): the columns that may hold it (``loss (nats)``, ``val_ppl``) and
    how to map them, or records nested under a key; "" when a loss column is there."""
    available = list(table.columns)
    if "loss" in (columns or {}) or any(normalise(c) in ALIASES["loss"] for c in available):
        return ""
    nested = [column for column in available if table[column].dtype == object
              and table[column].map(lambda cell: isinstance(cell, Mapping)).all()]
    if nested:
        return (f"the runs seem to be nested under {str(nested[0])!r}; give the table itself: "
                f"{EXPECTED_JSON}")
    named = [column for column in available if loss_name_units(column)]
    close = close_columns("loss", [column for column in available if column not in named])
    hints = [f"to use {str(column)!r}, set {how_to_map('loss', column)}" for column in close]
    hints += [f"{str(column)!r} looks like {NAMED_LIKE[loss_name_units(column)]}: set "
              f"{how_to_map('loss', column)}, and say what it holds with loss_units "
              f"(--loss-units on the command line): 'nats', 'bits' or 'perplexity'"
              for column in named[:2]]
    return "; ".join(hints)


# A header with one of these words holds no count of parameters or tokens, though it
# names one (tokens_per_param, flops_per_token, data_repeats, epochs, GPT-3 Table D.1's
# frac_params_active).
_NOT_A_COUNT = {"per", "ratio", "repeats", "repeat", "epochs", "epoch", "fraction", "frac",
                "share", "pct", "percent", "proportion"}
# Words that say which split a loss is on (train/loss, eval_lm_loss, val/loss)...
_SPLITS = {"train", "training", "eval", "evaluation", "val", "valid", "validation", "test",
           "dev", "heldout"}
# ... and words of a column that describes losses rather than holding them (val_loss_std).
_LOSS_SUMMARIES = {"std", "sd", "stderr", "se", "err", "error", "var", "variance", "ci", "low",
                   "high", "lower", "upper", "min", "max", "count", "delta", "diff"}


def _words(column: Any) -> list:
    return re.sub(r"[\s_\-/.:()\[\]{}]+", " ", str(column).lower()).split()


# A count of parameters that is one part of a model's (its embeddings alone), unless the
# header says it leaves them out (non_embedding_params, params_excl_embeddings).
_PARTS = {"embedding", "embeddings", "embed", "emb", "vocab", "head", "heads", "layer",
          "attention", "attn", "mlp", "ffn"}
_LEAVES_OUT = {"non", "no", "excl", "excluding", "without", "ex", "nonembedding",
               "nonembed"}


def _part_of_count(column: Any) -> bool:
    """Whether a header names the parameters of one part of a model (``embedding_params``,
    ``attn_params``) rather than of the whole (``nonembedding_params`` names the whole
    without its embeddings: a model's N in Kaplan et al.)."""
    words = set(_words(column))
    return bool(words & _PARTS) and not words & _LEAVES_OUT


def warn_unused_lookalikes(table, mapping: Mapping, derived: tuple, columns: Mapping | None,
                           source: str) -> None:
    """Warn (:class:`~scalinglaws.ScalingLawsWarning`) when a number column the loader
    left unused probably holds what it used otherwise: N or D derived from C = k·N·D while
    a column such as ``nonembedding_params`` or ``N (params)`` looks like it (the search
    of :func:`close_columns` that a missing column gets), N read from a recognised header
    (``params``) beside another count of parameters (``nonembedding_params``: one
    warning naming both and the mapping to switch), or a loss column whose name says
    no split (``loss``) next to one that names a split (``eval/lm_loss``). A quantity the
    ``columns`` option names (or declares absent) is the user's choice: no warning."""
    explicit = columns or {}
    used = set(mapping.values())
    unused = [column for column in table.columns if column not in used
              and _holds_numbers(table[column])]
    if not unused:
        return
    given = " and ".join(repr(str(mapping[other])) for other in ("N", "D", "C")
                         if other in mapping)
    for name in ("N", "D"):
        if name in explicit:
            continue
        close = close_columns(name, [column for column in unused
                                     if not _NOT_A_COUNT & set(_words(column))])
        if name == "N" and name not in derived and name in mapping:
            # N read from one recognised header beside another count of parameters
            # (params and nonembedding_params, total_params and active_params): both are
            # N, and the laws differ. Not for D: a tokens column has look-alikes that are
            # no count of a run's tokens (batch_size_tokens, tokens_per_step).
            close = [column for column in close if not _part_of_count(column)]
            if close:
                shown = " and ".join(repr(str(column)) for column in close)
                warnings.warn(
                    f"{source}: N (parameters) is read from column {str(mapping['N'])!r}, "
                    f"while column{'s' * (len(close) > 1)} {shown}, which look"
                    f"{'s' * (len(close) == 1)} like N too, {'is' if len(close) == 1 else 'are'}"
                    f" left unused (total and non-embedding parameter counts give different "
                    f"laws). To fit {str(close[0])!r}, set {how_to_map('N', close[0])}; to "
                    f"keep {str(mapping['N'])!r} and silence this, set "
                    f"{how_to_map('N', mapping['N'])}", ScalingLawsWarning,
                    stacklevel=user_stacklevel())
            continue
        if name not in derived:
            continue
        if close:
            one = len(close) == 1
            shown = " and ".join(repr(str(column)) for column in close)
            warnings.warn(
                f"{source}: {name} ({MEANING[name]}) is derived from C = k·N·D using {given}, "
                f"while column{'' if one else 's'} {shown}, which look{'s' if one else ''} "
                f"like {name}, {'is' if one else 'are'} left unused. If it holds {name}, "
                f"set {how_to_map(name, close[0])}; to derive {name} anyway, say the table has "
                f"no {name} column ({name}=None in the columns option, --columns {name}= on "
                f"the command line)", ScalingLawsWarning, stacklevel=user_stacklevel())
    if "loss" in explicit or _SPLITS & set(_words(mapping["loss"])):
        return
    others = [column for column in unused if "loss" in _words(column)
              and _SPLITS & set(_words(column)) and not _LOSS_SUMMARIES & set(_words(column))]
    if others:
        shown = named_list([repr(str(column)) for column in others], 3)
        warnings.warn(
            f"{source}: the loss fitted is column {str(mapping['loss'])!r}, whose name does not "
            f"say whether it is a training or a validation loss, while {shown} also "
            f"hold{'s' * (len(others) == 1)} losses. If {str(others[0])!r} is the one to fit, "
            f"set {how_to_map('loss', others[0])}; to keep {str(mapping['loss'])!r}, set "
            f"{how_to_map('loss', mapping['loss'])}", ScalingLawsWarning,
            stacklevel=user_stacklevel())


# ----------------------------------------------------------------------------- documents


def read_explained(data: Any, *, format: str | None, sep: str | None):
    """:func:`~.readers.read_data`, refusing a scalinglaws document first and explaining a
    JSON object (or dict) that is not a table of columns."""
    refuse_document(data)
    try:
        return read_data(data, format=format, sep=sep)
    except InputError:
        is_json = (isinstance(data, (str, os.PathLike))
                   and str(format or os.path.splitext(data)[1]).lower().lstrip(".") == "json")
        shape = (json_shape_message(data, os.fspath(data) if is_json else "<dict>")
                 if is_json or isinstance(data, Mapping) else None)
        if shape is None:
            raise
        raise InputError(shape) from None



_KIND = re.compile(rb'"kind"\s*:\s*"(scalinglaws\.[A-Za-z_.]+)"')


def _path_of(data: Any) -> str | None:
    if isinstance(data, (str, os.PathLike)) and os.path.isfile(data):
        return os.fspath(data)
    return None


def document_name(kind: str) -> str:
    """What a scalinglaws JSON document of top-level ``kind`` is, for messages."""
    return {"scalinglaws.fit": "fit", "scalinglaws.curve_fit": "learning-curve fit",
            "scalinglaws.grouped_fit": "grouped fit", "scalinglaws.tasks": "task predictions",
            "scalinglaws.comparison": "comparison",
            "scalinglaws.isoflop": "IsoFLOP analysis",
            "scalinglaws.envelope": "Approach 1 (envelope) analysis",
            "scalinglaws.grouped_bootstrap": "grouped bootstrap"}.get(kind, "results")


def refuse_document(data: Any) -> None:
    """Raise :class:`InputError` when ``data`` is the path of a JSON document the package
    wrote (its top-level ``"kind"`` is ``"scalinglaws.<something>"``)."""
    path = _path_of(data)
    if path is None:
        return
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return  # the reader says why it cannot be read
    if not head.lstrip().startswith(b"{") or not _KIND.search(head):
        return
    try:
        with open(path, "rb") as handle:
            document = parse_json(handle.read(), path, finite=False)
    except (OSError, InputError):
        return
    kind = document.get("kind") if isinstance(document, dict) else None
    if not isinstance(kind, str) or not kind.startswith("scalinglaws."):
        return
    what = document_name(kind)
    raise InputError(
        f"{path}: this is a scalinglaws {what} file (kind {kind!r}), not a table of runs; "
        f"give the table of runs (CSV, TSV, JSON records, JSON lines or Parquet). A fit file "
        f"is read with scalinglaws.load, and on the command line it is the FIT argument of "
        f"commands such as `scalinglaws predict FIT`")


def json_shape_message(data: Any, source: str) -> str | None:
    """What is wrong with a JSON object (a file at path ``data``) or a dict of columns that
    could not be read as a table, and the shapes expected; None when it is not such."""
    path = _path_of(data)
    if path is not None:
        try:
            with open(path, "rb") as handle:
                data = parse_json(handle.read(), path, finite=False)
        except (OSError, InputError):
            return None
    if not isinstance(data, Mapping) or {"columns", "data"} <= set(data):
        return None
    problems, lengths = [], {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            problems.append(f"{str(key)!r} holds an object")
        elif isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
            problems.append(f"{str(key)!r} holds a single value")
        else:
            lengths[str(key)] = len(value)
    if len(set(lengths.values())) > 1:
        problems.append("the lists differ in length (" + named_list(
            [f"{key!r}: {length}" for key, length in lengths.items()], 5) + ")")
    if not problems:
        return None  # another problem: the reader's own message says it
    found = named_list(problems, 4, sep="; ")
    return (f"{source}: an object is read as a table of columns, each key holding a list of "
            f"values, all of one length, but here {found}. Expected {EXPECTED_JSON}")
