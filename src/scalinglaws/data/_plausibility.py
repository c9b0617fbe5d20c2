"""Whether a table of runs is in the package's units and holds each run once.

:func:`load_runs <scalinglaws.data.runs.load_runs>` reads numbers; these checks ask whether
they are the numbers a fit needs. Units mistakes read cleanly and fit without a word
otherwise (parameters written in millions give A = 4.09 instead of 668), so each is
announced with a :class:`~scalinglaws.UnitsWarning` naming the file and column and saying
what to do. A warning, never an error: toy models and odd sweeps exist.

* the loss column is named like a perplexity or a loss in bits (the package fits nats per
  token): :func:`loss_name_units`; ``loss_units=`` converts on loading (:func:`to_nats`);
* a loss above any cross-entropy a language model reaches (:data:`MAX_PLAUSIBLE_LOSS`),
  or perplexities all below e (every loss under :data:`MIN_LARGEST_LOSS`: nats read as
  perplexities);
* a column of parameters, tokens or compute whose header names a scale (``params (M)``,
  ``tokens_B``, ``C (PF-days)``: :func:`header_scale`): the values are read as counts;
* parameters, tokens or compute whose largest value is too small for any sweep
  (:data:`MIN_LARGEST`; a derived column blames the columns it came from), or tokens per
  parameter outside every published sweep (:data:`TOKENS_PER_PARAMETER`): values in
  millions, billions or PF-days, or N and D swapped (most runs with fewer tokens than
  parameters); a few rows 1,000 times or more below (above) all others, typed in other
  units than the rest (:func:`_check_isolated_rows`).

:func:`repeated_rows` finds rows that repeat an earlier row in every column (a log
appended twice), which would count as extra runs (``duplicates=``). For training curves,
:func:`loss_tails` finds a run whose losses stop long before its rows do (it diverged).
"""

from __future__ import annotations

import math
import re
import shlex
import warnings
from collections.abc import Callable, Collection, Mapping

import numpy as np

from .._exceptions import InputError, ScalingLawsWarning, UnitsWarning, user_stacklevel
from .._text import counted, named_list

__all__ = ["LOSS_UNITS", "DUPLICATES", "MAX_PLAUSIBLE_LOSS", "MIN_LARGEST_LOSS", "MIN_LARGEST",
           "BESIDE_A_SCALED_COLUMN",
           "TOKENS_PER_PARAMETER", "NAMED_LIKE", "loss_name_units", "to_nats", "warn_units",
           "header_scale", "scale_advice", "UNIT_ADVICE", "ZERO_TOKENS", "untrained_advice",
           "warn_untrained", "repeated_rows", "TAIL_INTERVALS", "loss_tails"]

#: Values of ``loss_units``: what the loss column holds, converted to nats per token.
LOSS_UNITS = ("nats", "bits", "perplexity")
#: Values of ``duplicates``: what to do with rows that repeat an earlier row exactly.
DUPLICATES = ("warn", "keep", "drop", "raise")
#: Values of ``zero_tokens`` (load_runs, load_tasks; --zero-tokens): rows at D = 0, the
#: untrained step-0 checkpoint some logs hold, raise as any value that is not positive, or
#: are dropped with a warning (:func:`warn_untrained`)
ZERO_TOKENS = ("raise", "drop")

#: A loss above this many nats per token is not a language model's cross-entropy. A model
#: at initialisation predicts about uniformly, loss ≈ ln V, and training only lowers it;
#: the largest vocabularies in use have about 256k tokens (Gemma: 256,000, ln = 12.45).
#: Initial logits are not exactly uniform: OLMo-2 13B's step-0 checkpoint has 12.58 nats
#: with V = 100,278 (ln V = 11.52; ../shared olmo_ladder_checkpoints.csv), 1.06 above,
#: so 2 nats of margin. Perplexities above e^14.45 ≈ 1.9e6 escape this check; a
#: perplexity sweep (typically 5 to 100s) does not.
MAX_PLAUSIBLE_LOSS = math.log(256_000) + 2.0

#: A sweep whose every loss is below this many nats per token is in other units: with
#: ``loss_units="perplexity"``, a column of nats (1.8 to 2.7 for large models) reads as
#: perplexities below e. The lowest loss of any run in the public sweeps of ../shared
#: is 1.018 (OLMo ladder, dolma_stack code loss; the others' lowest are 1.80 to 2.75),
#: and every sweep's worst run is far above it (its smallest models, early checkpoints).
MIN_LARGEST_LOSS = 1.0

#: A sweep whose largest value is below these is written in other units (or is a toy:
#: hence a warning). N: Kaplan et al. (2020) go down to 768 non-embedding parameters,
#: but every language-model sweep reaches far beyond 1e4 (the public ones in ../shared:
#: 5e8 to 4e11); papers' tables give millions or billions (Hoffmann et al. Table A9,
#: Brown et al. Table D.1). D: 1e6 tokens is 500 steps of one 2048-token sequence
#: (Kaplan's smallest data set is 22M tokens; tables give billions). C: the compute of a
#: run at those two floors, 6·1e4·1e6; Kaplan et al. give compute in PF-days (8.64e19 FLOP).
MIN_LARGEST = {"N": 1e4, "D": 1e6, "C": 6e10}
#: ...and the floor of N (of D) in a table whose D (N) is below its own: one column written
#: in a scale says the table's author wrote in scales. N in millions passes the floor of
#: 1e4 once the largest model is above 10B (16,000 for Chinchilla's 16B), and the D/N check
#: that would see it waits for D's units, so N in millions beside D in billions was missed.
#: No sweep's largest model has under 1e6 parameters, nor its largest run under 1e9 tokens
#: (Kaplan et al.'s: 1.5e9 parameters, 2.3e10 tokens; ../shared's: 5e8+ and 1e10+).
BESIDE_A_SCALED_COLUMN = {"N": 1e6, "D": 1e9}
#: What a column of each quantity, or a value typed for one, is likely written in when it
#: is far too small (also the hint of a query far below a fit's runs: analysis._common)
UNIT_ADVICE = {
    "N": "parameters written in millions or billions (a 70M model as 70)",
    "D": "tokens written in millions or billions (1.4T tokens as 1400)",
    "C": "compute in PF-days (1 PF-day = 8.64e19 FLOP) or in units of 1e18 FLOP",
}

#: The median tokens per parameter D/N of a sweep lies in this range. Public sweeps have
#: medians 8 to 704 (../shared: Porian et al. 8.2, OLMo ladder checkpoints 17,
#: Muennighoff et al. 20, Epoch's Chinchilla 22, Luo et al. 46, Ruan et al.'s base models
#: 214; datasets/: Hoffmann et al. Table 3 21, GPT-3 Table D.1 704) and the most
#: overtrained sweeps reach 1e4 (Sardana et al. 2024): 100x above. Below, a median under 1
#: means most runs saw fewer tokens than they have parameters, which no public sweep does:
#: the largest share of runs with D < N is 21% of Porian et al.'s 1745 runs (44% in one
#: setting's one budget, 16 runs), 17% of datasets/synthetic_chinchilla_sweep.csv, 4.5% of
#: Epoch's Chinchilla, 3.3% of the OLMo ladder's 3850 checkpoints (early checkpoints
#: included; 10% of one run's), 0.6% of Muennighoff et al.'s and none of Luo et al.'s
#: curves. N and D swapped put the median at 1/20 (0.05), D in millions at 2e-5, N in
#: millions at 2e7.
TOKENS_PER_PARAMETER = (1.0, 1e5)

#: Words and brackets in a header that give the scale of its values: ``params (M)``,
#: ``tokens_B``, ``N [billions]``, ``C (PF-days)``, ``tokens (1e9)``. One letter counts only
#: at either end of a header of several words (``params_m``), never alone (``M``).
_SCALE_WORDS = {
    **dict.fromkeys(("k", "thousand", "thousands"), (1e3, "thousands")),
    **dict.fromkeys(("m", "mn", "mil", "million", "millions"), (1e6, "millions")),
    **dict.fromkeys(("b", "bn", "g", "billion", "billions"), (1e9, "billions")),
    **dict.fromkeys(("t", "tn", "trillion", "trillions"), (1e12, "trillions")),
}
_PF_DAYS = re.compile(r"(?:^|[^a-z])(pf|petaflop)[\s_\-/]*(?:s[\s_\-/]*)?days?(?:$|[^a-z])")
_POWER = re.compile(r"^(?:x\s*)?(?:1e\+?|10\^|10\*\*)(\d{1,2})$")
_NAMED_QUANTITY = {"N": "parameters", "D": "tokens", "C": "FLOP", "U": "unique tokens"}

_PERPLEXITY = re.compile(r"perplexit|(?:^|[^a-z])(ppl|ppx)(?:$|[^a-z])")
#: the logarithm of a perplexity is a loss already: ln(ppl) in nats, log2(ppl) in bits
_LOG_OF = re.compile(r"(?:^|[^a-z])(?:log|ln)(2)?\s?\(?\s?(?:perplexit|ppl|ppx)")
_PER_BYTE = re.compile(r"(?:^|[^a-z])(bpb|bpc|bits? per (?:byte|char))")
_BITS = re.compile(r"(?:^|[^a-z])(bits?|bpt|log2)(?:$|[^a-z])")
#: How a loss column named like each units reads, and the loss_units that converts it.
NAMED_LIKE = {"perplexity": "a perplexity", "bits": "a loss in bits",
               "bits per byte": "bits per byte (or character)"}
_SILENCE = ("if the values are right{}, they are used as given: in Python, silence this with "
            "warnings.filterwarnings('ignore', category=scalinglaws.UnitsWarning); on the "
            "command line it is a warning only")


def loss_name_units(column: object) -> str | None:
    """``"perplexity"``, ``"bits per byte"`` or ``"bits"`` when a loss column's name says
    so (``val_ppl``, ``Perplexity``, ``loss_bits``, ``bpb``), else None."""
    name = re.sub(r"[\s_\-/]+", " ", str(column).lower())
    logarithm = _LOG_OF.search(name)
    if logarithm:  # log_ppl, ln(perplexity): nats already; log2 of one: bits (log10 is
        return "bits" if logarithm.group(1) else None  # left to the perplexity warning)
    if _PERPLEXITY.search(name):
        return "perplexity"
    if _PER_BYTE.search(name):
        return "bits per byte"
    if _BITS.search(name):
        return "bits"
    return None


def header_scale(column: object) -> tuple[float, str] | None:
    """``(factor, words)`` when a column's header names the scale of its values
    (``"params (M)"`` → ``(1e6, "millions")``, ``"tokens_B"`` → ``(1e9, "billions")``,
    ``"C (PF-days)"`` → ``(8.64e19, "PF-days")``), else None."""
    text = str(column).strip().lower()
    if _PF_DAYS.search(text):
        return 8.64e19, "PF-days"
    for inner in re.findall(r"[(\[{]([^)\]}]*)[)\]}]", text):
        words = [word for word in re.split(r"[\s_]+", inner.strip()) if word not in ("in", "")]
        if len(words) == 1:
            power = _POWER.match(words[0])
            if power:
                return 10.0 ** int(power.group(1)), f"units of 1e{int(power.group(1))}"
            if words[0] in _SCALE_WORDS:
                return _SCALE_WORDS[words[0]]
    words = [word for word in re.split(r"[\s_\-/.:]+", re.sub(r"[(\[{][^)\]}]*[)\]}]", " ",
                                                              text)) if word]
    if len(words) >= 2:
        for word in (words[-1], words[0]):
            if word in _SCALE_WORDS and (len(word) > 1 or word != words[0]):
                return _SCALE_WORDS[word]
    return None


def scale_advice(column: object, name: str, suffixed: bool = False) -> str:
    """What to do about a column whose header names a scale, mapped to canonical ``name``
    (one of N, D, C, U); "" when its header names none, or when its cells carry unit
    suffixes (``suffixed``: ``22.36M`` under ``params_M`` is read as 2.236e7 already, and
    multiplying by 1e6 again would be wrong)."""
    scale = header_scale(column)
    if scale is None or name not in _NAMED_QUANTITY or suffixed:
        return ""
    factor, words = scale
    suffix = "" if words == "PF-days" else " (or write them with a suffix, as 70M or 1.4B)"
    return (f"its header says {words}, while {name} is read as a count of "
            f"{_NAMED_QUANTITY[name]}: multiply the values by "
            f"{re.sub(r'e[+]0*', 'e', f'{factor:g}')} before loading{suffix}, or if they "
            f"already are {_NAMED_QUANTITY[name]}, rename the column")


def to_nats(values: np.ndarray, units: str, source: str, column: str | Callable[[int], str],
            where: Callable[[int], str]) -> np.ndarray:
    """Loss values given in ``units`` (one of :data:`LOSS_UNITS`) as nats per token:
    bits × ln 2, ln(perplexity). A perplexity not above 1 (a loss not positive) raises,
    naming the file and, with ``where(row)``, the row, and the column (``column(row)`` when
    a row's column depends on the row, as in a reshaped W&B export); missing values stay
    missing."""
    if units == "bits":
        return values * math.log(2.0)
    if units == "perplexity":
        with np.errstate(invalid="ignore"):
            low = np.flatnonzero(values <= 1.0)
        if low.size:
            name = column(int(low[0])) if callable(column) else column
            raise InputError(
                f"{source}: {where(int(low[0]))}, column {name!r} (loss): perplexity "
                f"{values[low[0]]:.6g} is not above 1, so its loss ln(perplexity) is not "
                f"positive ({low.size} such row{'s' * (low.size > 1)}); does the column "
                f"hold perplexities, as loss_units says?")
        return np.log(values)
    return values


def _loss_name_advice(column: str, units: str) -> str:
    if units == "perplexity":
        return ("nats = ln(perplexity): pass loss_units='perplexity' to convert it, or "
                "loss_units='nats' if it already holds nats")
    if units == "bits":
        return ("nats = bits × ln 2 (0.693): pass loss_units='bits' to convert it, or "
                "loss_units='nats' if it already holds nats")
    return ("bits per byte (or character) are per byte, not per token: nats per token = "
            "bpb × ln 2 × the tokenizer's bytes per token, which only you know; convert it "
            "and map the new column, or set loss_units to 'bits' to fit nats per byte "
            "knowingly (the fit's E and every loss it prints are then per byte)")


def warn_units(frame, mapping: Mapping, derived: tuple, source: str,
               where: Callable[[int], str], *, loss_units: str | None,
               suffixed: Collection = ()) -> None:
    """Warn (:class:`UnitsWarning`) about every sign that ``frame``'s canonical columns
    are not parameters, tokens, FLOP and nats per token. ``mapping`` is canonical name →
    source column, ``derived`` the names computed from C = k·N·D, ``loss_units`` the
    caller's ``loss_units=`` (None when not given), ``where(i)`` labels row ``i``,
    ``suffixed`` names the columns whose cells carry unit suffixes (``70M``)."""
    def column_of(name: str) -> str:
        return (f"column {mapping[name]!r} ({name})" if name in mapping
                else f"{name} (derived from C = k·N·D)")

    def warn(text: str) -> None:
        warnings.warn(f"{source}: {text}", UnitsWarning, stacklevel=user_stacklevel())

    named = loss_name_units(mapping["loss"])
    if named is not None and loss_units is None:
        warn(f"{column_of('loss')} is named like {NAMED_LIKE[named]}, but losses are fitted "
             f"and reported in nats per token; {_loss_name_advice(mapping['loss'], named)}")
    loss = frame["loss"].to_numpy(dtype=np.float64)
    high = np.flatnonzero(loss > MAX_PLAUSIBLE_LOSS)
    if high.size and not (named == "perplexity" and loss_units is None):  # said just above
        worst = int(high[np.argmax(loss[high])])
        warn(f"{column_of('loss')} exceeds {MAX_PLAUSIBLE_LOSS:.2f} nats per token "
             f"in {high.size} of {len(loss)} rows (largest {loss[worst]:.4g}, at "
             f"{where(worst)}), more than a model's loss at initialisation, about "
             f"ln(vocabulary size) (ln 256,000 = 12.45). Is it a perplexity (set loss_units "
             f"to 'perplexity': nats = ln(perplexity)), or a sum over a sequence "
             f"rather than a mean per token? {_SILENCE[0].upper()}{_SILENCE[1:].format('')}")
    if loss_units == "perplexity" and loss.size and loss.max() < MIN_LARGEST_LOSS:
        worst = int(np.argmax(loss))
        warn(f"{column_of('loss')} read as perplexities (loss_units) puts every run below "
             f"{MIN_LARGEST_LOSS:g} nat per token (the largest perplexity is "
             f"{math.exp(loss[worst]):.4g}, at {where(worst)}, below e = 2.718), where no "
             f"published sweep's worst run is: does the column hold nats already? Then "
             f"drop loss_units, or set it to 'nats'; {_SILENCE.format('')}")
    flagged: set = set()
    # A header naming a scale (params (M)) says the unit outright; the value checks below
    # stay quiet for that column (one mistake, one warning).
    for name in _NAMED_QUANTITY:
        if name in mapping and name in frame.columns and name not in derived:
            advice = scale_advice(mapping[name], name, name in suffixed)
            if advice:
                flagged.add(name)
                values = frame[name].to_numpy(dtype=np.float64)
                warn(f"{column_of(name)}: {advice} (its values are used as given: the "
                     f"largest is {values.max():.4g} {_NAMED_QUANTITY[name]})")
    # Given columns first: a derived one inherits their units, and is checked only when
    # none of them was flagged.
    for name in sorted(MIN_LARGEST, key=lambda name: name in derived):
        floor = MIN_LARGEST[name]
        if name not in frame.columns or name in flagged or (name in derived and flagged):
            continue
        values = frame[name].to_numpy(dtype=np.float64)
        if values.max() < floor:
            flagged.add(name)
            largest = (f"every value of {column_of(name)} is below {_power(floor)} (largest "
                       f"{values.max():.4g}, at {where(int(np.argmax(values)))})")
            if name in derived:  # its inputs are in other units: name them, not it
                inputs = [other for other in ("N", "D", "C")
                          if other != name and other in frame.columns]
                shown = " or ".join(
                    f"{column_of(other)} (largest {frame[other].max():.4g})" for other in inputs)
                scales = "millions, billions or PF-days" if "C" in inputs else \
                    "millions or billions"
                warn(f"{largest}, so {' and '.join(inputs)} are not both in "
                     f"{' and '.join(_WHAT[other] for other in inputs)}: is {shown} written in "
                     f"{scales} (a 70M model as 70, 1.4T tokens as 1400)? Write N in "
                     f"parameters, D in tokens and C in FLOP, as numbers or with a suffix "
                     f"(70M, 1.4B, 2T); {_SILENCE.format(' (a toy sweep)')}")
                continue
            warn(f"{largest}: "
                 f"{UNIT_ADVICE[name]}? Write the values in {_WHAT[name]}, as numbers or "
                 f"with a suffix (70M, 1.4B, 2T); {_SILENCE.format(' (a toy sweep)')}")
    for name, other in (("N", "D"), ("D", "N")):  # the other column written in a scale
        floor = BESIDE_A_SCALED_COLUMN[name]
        if (other in flagged and other not in derived and name not in flagged
                and name in frame.columns and name not in derived
                and frame[name].max() < floor):
            flagged.add(name)
            values = frame[name].to_numpy(dtype=np.float64)
            warn(f"every value of {column_of(name)} is below {_power(floor)} (largest "
                 f"{values.max():.4g}, at {where(int(np.argmax(values)))}), and "
                 f"{column_of(other)} is written in other units: {UNIT_ADVICE[name]}, "
                 f"too? No sweep's largest {'model' if name == 'N' else 'run'} has under "
                 f"{_power(floor)} {_WHAT[name]}. Write the values in {_WHAT[name]}, as "
                 f"numbers or with a suffix (70M, 1.4B, 2T); {_SILENCE.format('')}")
    for name in ("N", "D", "C"):
        if name in frame.columns and name not in derived and name not in flagged:
            flagged |= _check_isolated_rows(frame, name, column_of, where, warn)
    if {"N", "D"} <= set(frame.columns) and not flagged:
        _check_tokens_per_parameter(frame, mapping, column_of, warn)


#: Decades between the rows at a column's end and the rest above which those rows are
#: taken for a unit slip (183 written for 183M): sweeps space their sizes by factors of
#: 1.3 to 10 (the public ones in ../shared: at most 0.5 decade between neighbouring
#: sizes, at either end), while a slip between units is a factor of 1,000 or more.
ISOLATED_DECADES = 3.0
#: The scales a few rows may be typed in (a unit slip), with their words
_SLIPS = ((1e3, "thousands"), (1e6, "millions"), (1e9, "billions"), (1e12, "trillions"))


def _slip_units(values: np.ndarray, rest: np.ndarray, below: bool) -> list:
    """The scales of :data:`_SLIPS` that bring every one of ``values`` (the isolated rows)
    among ``rest`` (within a factor 2 of its range): multiplied for rows ``below`` it,
    divided for rows above."""
    low, high = rest.min() / 2.0, rest.max() * 2.0
    return [(factor, word) for factor, word in _SLIPS
            if np.all((values * factor if below else values / factor) >= low)
            and np.all((values * factor if below else values / factor) <= high)]


def _check_isolated_rows(frame, name: str, column_of: Callable[[str], str],
                         where: Callable[[int], str], warn: Callable[[str], None]) -> set:
    """Warn when the rows at a column's low (or high) end lie more than
    :data:`ISOLATED_DECADES` from every other row's value, are fewer than those rows, and
    those hold at least three distinct values: a few rows written in other units (two rows
    of N in millions among counts), which the column-wide checks (the largest value, the
    median D/N) do not see. Every row beyond the gap nearest the other rows is named, so
    that two slips (78.5 and 211 among counts from 2.2e7) are one cluster, not a smallest
    value 0.4 decade from the next; the message says the scale (:data:`_SLIPS`) that
    brings them among the others. Returns ``{name}`` when it warned."""
    values = frame[name].to_numpy(dtype=np.float64)
    distinct = np.unique(values)
    if distinct.size < 4:
        return set()
    gaps = np.diff(np.log10(distinct))
    at_most = np.searchsorted(values, distinct, side="right", sorter=np.argsort(values))
    said = set()
    for below in (True, False):
        # a gap j lies between distinct[j] and distinct[j + 1]; the rows beyond it are the
        # isolated ones: fewer rows than the rest, which holds three distinct values
        beyond = at_most[:-1] if below else values.size - at_most[:-1]
        rest_distinct = (distinct.size - 1 - np.arange(gaps.size) if below
                         else np.arange(gaps.size) + 1)
        ok = np.flatnonzero((gaps > ISOLATED_DECADES) & (beyond < values.size - beyond)
                            & (rest_distinct >= 3))
        if not ok.size:
            continue
        j = int(ok[-1] if below else ok[0])  # the gap nearest the body of the column
        rows = np.flatnonzero(values <= distinct[j] if below else values >= distinct[j + 1])
        rest = values[values > distinct[j]] if below else values[values <= distinct[j]]
        if np.unique(values[rows]).size == 1:
            shown = f"{values[rows[0]]:.4g} at " + named_list(
                (where(int(i)) for i in rows), total=rows.size)
        else:
            items = [f"{values[i]:.4g} at {where(int(i))}" for i in rows[:6]]
            shown = (named_list(items, 5, total=rows.size) if rows.size > 5
                     else f"{', '.join(items[:-1])} and {items[-1]}")
        word = "below the smallest" if below else "above the largest"
        several = rows.size > 1
        units = _slip_units(values[rows], rest, below)
        if units:
            scales = " or ".join(words for _, words in units)
            factors = " or ".join(_power(factor) for factor, _ in units)
            how = "times" if below else "divided by"
            # below: these rows in millions among counts; above: in other units than the
            # rest (counts among values in millions, or a scale typed twice)
            guess = (f"{'are they' if several else 'is it'} written in "
                     f"{scales if below else 'other units than the other rows'} ({how} "
                     f"{factors} {'they lie' if several else 'it lies'} among the other rows' "
                     f"values, {rest.min():.4g} to {rest.max():.4g})?")
        else:
            guess = (f"{'are they' if several else 'is it'} written in other units (a 183M "
                     f"model as 183, 1.4T tokens as 1.4)?")
        gap = np.log10(rest.min() / values[rows].max()) if below else \
            np.log10(values[rows].min() / rest.max())
        warn(f"{column_of(name)} is {shown}, {10 ** gap:.3g} times {word} value of any "
             f"other row: {guess} Write {_WHAT[name]} as numbers or with a suffix (70M, "
             f"1.4B, 2T); {_SILENCE.format('')}")
        said = {name}
    return said


def _check_tokens_per_parameter(frame, mapping: Mapping, column_of: Callable[[str], str],
                                warn: Callable[[str], None]) -> None:
    """Warn when the median D/N is outside :data:`TOKENS_PER_PARAMETER`: N or D in other
    units, or (most runs with D < N) the two columns swapped."""
    ratios = frame["D"].to_numpy() / frame["N"].to_numpy()
    ratio = float(np.median(ratios))
    low, high_ratio = TOKENS_PER_PARAMETER
    if ratio > high_ratio:
        warn(f"the median tokens per parameter D/N is {ratio:.3g}, above the {high_ratio:g} "
             f"of every published sweep (Chinchilla-optimal is about 20): is "
             f"{column_of('N')} in millions or billions, or {column_of('D')} in other units? "
             f"Write N in parameters and D in tokens; {_SILENCE.format('')}")
    elif ratio < low:
        fewer = int(np.count_nonzero(ratios < 1.0))
        swap = ("the columns option (N=" + shlex.quote(str(mapping["D"])) + ", D="
                + shlex.quote(str(mapping["N"])) + ")") if {"N", "D"} <= set(mapping) else ""
        swapped = (f"are N and D swapped (if so, set {swap})" if swap
                   else "are N and D swapped")
        units = f"is {column_of('D')} in millions or billions"
        first, second = (units, swapped) if ratio < 1e-3 else (swapped, units)
        warn(f"{fewer} of {counted(len(ratios), 'run')} with fewer tokens than parameters "
             f"(median tokens per parameter D/N {ratio:.3g}); no public sweep has most of its "
             "runs there "
             f"(their medians are 8 to 704; Chinchilla-optimal is about 20): {first}, or "
             f"{second}? Write N in parameters and D in tokens; {_SILENCE.format('')}")


_WHAT = {"N": "parameters", "D": "tokens", "C": "FLOP"}


def untrained_advice(count: int, name: str = "D") -> str:
    """The words that offer ``zero_tokens='drop'`` for ``count`` rows at ``name`` = 0 (D,
    or C for a table without tokens): on the command line ``--zero-tokens drop``."""
    return (f"{counted(count, 'row')} at {name} = 0 (untrained checkpoints?); to drop them, "
            f"set zero_tokens to 'drop'")


def warn_untrained(source: str, count: int, first: str, name: str = "D") -> None:
    """Say that ``count`` rows at ``name`` = 0 were dropped (``zero_tokens='drop'``), the
    first being ``first`` (its row and line)."""
    warnings.warn(f"{source}: dropped {counted(count, 'row')} at {name} = 0 (untrained "
                  f"checkpoints; zero_tokens='drop'); the first is {first}",
                  ScalingLawsWarning, stacklevel=user_stacklevel())


def _power(value: float) -> str:
    """1e4, 6e10: a limit as it reads in the README."""
    return re.sub(r"e\+0*", "e", f"{value:.0e}")


def repeated_rows(frame, policy: str, source: str,
                  where: Callable[[int], str], *, copy_of: str | None = None) -> np.ndarray:
    """Positions of the rows of ``frame`` that repeat an earlier row in every column,
    after applying ``policy`` (one of :data:`DUPLICATES`): ``"warn"`` warns
    (:class:`~scalinglaws.ScalingLawsWarning`) and keeps them, ``"keep"`` keeps them
    quietly, ``"raise"`` raises :class:`~scalinglaws.InputError`; the positions
    returned are the rows to drop (empty unless ``policy`` is ``"drop"``). ``copy_of``
    (a task table's "a checkpoint on a task") says what a repeat is in a table that holds
    each such thing once: the message then offers only ``'drop'``."""
    none = np.zeros(0, dtype=np.int64)
    if policy == "keep" or len(frame) < 2:
        return none
    try:
        groups = frame.groupby(list(frame.columns), dropna=False, sort=False).ngroup()
    except TypeError:  # unhashable cells (lists or objects from JSON): compare their text
        groups = frame.map(repr).groupby(list(frame.columns), sort=False).ngroup()
    _, first_index, inverse = np.unique(groups.to_numpy(), return_index=True,
                                        return_inverse=True)
    first_of = first_index[inverse]  # each row's first occurrence
    copies = np.flatnonzero(first_of != np.arange(len(frame)))
    if not copies.size:
        return none
    pairs = named_list((f"{where(int(i))} repeats {where(int(first_of[i]))}" for i in copies),
                       3, total=copies.size, sep="; ")
    what = (f"{source}: {copies.size} {'rows repeat' if copies.size > 1 else 'row repeats'} "
            f"an earlier row in every column ({pairs})"
            + (", so each would count as one more run" if copy_of is None else
               f": a second copy of {copy_of}, which the table holds once"))
    if policy == "raise":
        raise InputError(f"{what}; set duplicates to 'drop' to keep the first of each"
                         + (", or to 'keep' if they are separate runs that happen to agree"
                            if copy_of is None else ""))
    if policy == "warn":
        warnings.warn(f"{what}. If they are copies (a log appended twice), set duplicates to "
                      f"'drop'; if they are separate runs that agree, set it to 'keep' (or add "
                      f"a column that tells them apart, such as a seed)",
                      ScalingLawsWarning, stacklevel=user_stacklevel())
        return none
    warnings.warn(f"{source}: dropped {copies.size} row{'s' * (copies.size > 1)} that "
                  f"repeat{'s' * (copies.size == 1)} an earlier row in every column (duplicates='drop'); the first is "
                  f"{where(int(copies[0]))}, a copy of {where(int(first_of[copies[0]]))}",
                  ScalingLawsWarning, stacklevel=user_stacklevel())
    return copies


#: A run whose rows go on for more than this many of its loss intervals (the median step
#: between its logged losses) after its last loss stopped being a curve there: a run that
#: diverged logs NaN losses from then on. Other metrics logged after the last loss (an LR
#: at every step of W&B's history) span less than one interval.
TAIL_INTERVALS = 3


def loss_tails(runs: np.ndarray, steps: np.ndarray, has_loss: np.ndarray):
    """The runs whose rows go on for more than :data:`TAIL_INTERVALS` of their loss
    intervals after their last loss, ``{run: (step of the last loss, last step,
    intervals)}``, and their rows without a loss after it (a mask). Other rows without a
    loss are another metric's (W&B logs each metric at its own steps)."""
    after = np.zeros(len(runs), dtype=bool)
    tails = {}
    for run in dict.fromkeys(runs.tolist()):
        rows = runs == run
        logged = np.sort(steps[rows & has_loss])
        if not logged.size:
            continue
        last = np.nanmax(steps[rows])
        interval = float(np.median(np.diff(logged))) if logged.size > 1 else 0.0
        if interval > 0 and last - logged[-1] > TAIL_INTERVALS * interval:
            tails[run] = (int(logged[-1]), int(last), (last - logged[-1]) / interval)
            after |= rows & ~has_loss & (steps > logged[-1])
    return after, tails
