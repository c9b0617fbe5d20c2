r"""Real model shapes for a parameter count or a budget: what goes into the launcher.

A scaling-law plan speaks of "a model of N parameters trained on D tokens"; a launcher
needs ``n_layer``, ``d_model``, ``n_heads``, the vocabulary and the context, a batch size
and a number of steps. :func:`propose_shapes` enumerates hardware-friendly shapes
(``d_model`` a multiple of ``width_multiple`` and of the head width, whole heads and
layers, an aspect ratio ``d_model / n_layer`` in a range) and keeps those whose
parameter count, or training FLOP, is closest to the target. Every count comes from
:mod:`scalinglaws.laws.flops`, never from a formula of its own:

* ``accounting="kaplan"``: non-embedding parameters :func:`~.flops.kaplan_params`
  (Kaplan et al. 2020 Eq 2.1, with ``d_attn = n_heads d_head``) plus one tied
  ``n_vocab x d_model`` matrix (and ``n_ctx x d_model`` learned positions when
  ``learned_positions``); training FLOP per token
  :func:`~.flops.training_flops_per_token` with the output layer and the attention
  context (``6 N + 6 n_vocab d_model + 6 n_layer n_ctx d_model``);
* ``accounting="hoffmann"``: total parameters :func:`~.flops.hoffmann_params`
  (reproduces Hoffmann et al. 2022 Table A9), training FLOP per token
  :func:`~.flops.hoffmann_training_flops` over one sequence of ``n_ctx`` tokens divided
  by ``n_ctx`` (App F as printed: the input embedding is counted as a matmul).

The batch comes from Kaplan et al.'s critical batch :func:`~.flops.critical_batch_size`
at the loss the run is expected to reach (a whole power of two of sequences), the steps
from the tokens, and the cost in FLOP, PF-days and accelerator-hours at a throughput
you give (achieved FLOP/s per accelerator, not the peak).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenDict, check_bool, check_choice, check_int, check_positive
from . import flops as F
from .kaplan_counting import embedding_params

__all__ = ["ACCOUNTINGS", "DEFAULT_ASPECT_RATIOS", "ModelShape", "ShapeTable", "propose_shapes"]

#: Parameter and FLOP conventions: Kaplan et al. (2020) and Hoffmann et al. (2022).
ACCOUNTINGS = ("kaplan", "hoffmann")

#: Default range of ``d_model / n_layer``. It covers every published GPT-3 shape (Brown et
#: al. 2020 Table 2.1: 43 to 128) and Chinchilla's (Hoffmann et al. Table A9 and Table 4:
#: 64 to 205); Kaplan et al. (2020, Sec 3.1, Fig 5) found the loss within a few percent
#: over aspect ratios from about 20 to 200 at fixed parameters.
DEFAULT_ASPECT_RATIOS = (32.0, 256.0)

_MAX_WIDTHS = 4096  # widths enumerated per proposal (d_model up to 4096 * width_multiple)


@dataclass(frozen=True)
class ModelShape:
    """One transformer shape and its exact counts. Frozen.

    Attributes
    ----------
    n_layer, d_model, n_heads, d_head, d_ff, n_vocab, n_ctx : int
        Layers, residual width, heads, head width (``kv_size``), feed-forward width,
        vocabulary and context (sequence length).
    accounting : {"kaplan", "hoffmann"}
        Whose parameter and FLOP counts (module notes).
    learned_positions : bool
        Kaplan accounting only: count ``n_ctx x d_model`` learned position embeddings
        (GPT-2/GPT-3); rotary or relative positions have none.
    d_attn : int, optional
        Kaplan accounting only: the attention width of Eq 2.1, when it is not
        ``n_heads * d_head`` (default). Brown et al.'s Table 2.1 prints 24 heads of 128 for
        GPT-3 XL (3,072) with ``d_model`` 2,048; its Table D.1 count (1,320M) is the one with
        ``d_attn = d_model`` (1,315M).

    Examples
    --------
    >>> gpt3_small = ModelShape(12, 768, 12, 64, 3072, 50257, 2048, "kaplan",
    ...                         learned_positions=True)
    >>> round(gpt3_small.total_params / 1e6, 1)     # Brown et al. Table D.1: 125M
    125.1
    >>> chinchilla = ModelShape(80, 8192, 64, 128, 32768, 32000, 2048, "hoffmann")
    >>> round(chinchilla.total_params / 1e9, 2)     # Hoffmann et al.: 70B
    70.06
    """

    n_layer: int
    d_model: int
    n_heads: int
    d_head: int
    d_ff: int
    n_vocab: int
    n_ctx: int
    accounting: str = "hoffmann"
    learned_positions: bool = False
    d_attn: int | None = None

    def __post_init__(self):
        for f in fields(self)[:7]:
            check_int(f.name, getattr(self, f.name), 1)
        check_choice("accounting", self.accounting, ACCOUNTINGS)
        check_bool("learned_positions", self.learned_positions)
        if self.d_attn is not None:
            check_int("d_attn", self.d_attn, 1)
        if (self.learned_positions or self.d_attn is not None) and self.accounting != "kaplan":
            raise InputError("`learned_positions` and `d_attn` apply to accounting='kaplan' "
                             "(Hoffmann's count has no positions and attends over "
                             "n_heads * d_head)")

    @property
    def aspect_ratio(self) -> float:
        """``d_model / n_layer``."""
        return self.d_model / self.n_layer

    def _counts(self) -> dict:
        return _counts(self.accounting, self.n_layer, self.d_model, self.n_heads, self.d_head,
                       self.d_ff, self.n_vocab, self.n_ctx, self.learned_positions, self.d_attn)

    @property
    def embedding_params(self) -> float:
        """Parameters in the embeddings: one ``n_vocab x d_model`` matrix (input and output
        tied, the matrix Hoffmann's count holds), plus learned positions if any."""
        return float(self._counts()["embedding"])

    @property
    def total_params(self) -> float:
        """All parameters (Hoffmann et al.'s N)."""
        return float(self._counts()["total"])

    @property
    def non_embedding_params(self) -> float:
        """Parameters outside the embeddings (Kaplan et al.'s N)."""
        return float(self._counts()["non_embedding"])

    def params(self, include_embeddings: bool = True) -> float:
        """The total or the non-embedding count."""
        return self.total_params if include_embeddings else self.non_embedding_params

    @property
    def flops_per_token(self) -> float:
        """Training FLOP per token under this shape's accounting (module notes)."""
        return float(self._counts()["flops_per_token"])

    def to_dict(self) -> dict:
        """The shape and its counts as plain numbers (one row of a :class:`ShapeTable`)."""
        return {"n_layer": self.n_layer, "d_model": self.d_model, "n_heads": self.n_heads,
                "d_head": self.d_head, "d_ff": self.d_ff, "n_vocab": self.n_vocab,
                "n_ctx": self.n_ctx, "accounting": self.accounting,
                "learned_positions": self.learned_positions,
                "d_attn": self.n_heads * self.d_head if self.d_attn is None else self.d_attn,
                "aspect_ratio": self.aspect_ratio,
                "non_embedding_params": self.non_embedding_params,
                "total_params": self.total_params, "flops_per_token": self.flops_per_token}


def _counts(accounting, n_layer, d_model, n_heads, d_head, d_ff, n_vocab, n_ctx,
            learned_positions, d_attn=None) -> dict:
    """Embedding, non-embedding and total parameters and training FLOP per token, from
    :mod:`.flops` (module notes); arrays broadcast (the enumeration passes every width)."""
    embedding = np.asarray(embedding_params(d_model, n_vocab,
                                            n_ctx if learned_positions else 0), dtype=float)
    if accounting == "hoffmann":
        total = np.asarray(F.hoffmann_params(d_model, d_ff, d_head, n_heads, n_layer, n_vocab),
                           dtype=float)
        non_embedding = total - embedding
        per_token = np.asarray(F.hoffmann_training_flops(
            n_ctx, n_vocab, d_model, n_layer, n_heads, d_head, d_ff,
            include_embeddings=True), dtype=float) / n_ctx
    else:
        attention = np.asarray(n_heads, dtype=float) * d_head if d_attn is None else d_attn
        non_embedding = np.asarray(F.kaplan_params(n_layer, d_model, d_attn=attention, d_ff=d_ff),
                                   dtype=float)
        total = non_embedding + embedding
        per_token = np.asarray(F.training_flops_per_token(
            non_embedding, d_model=d_model, n_vocab=n_vocab, n_layer=n_layer, n_ctx=n_ctx),
            dtype=float)
    return {"embedding": embedding, "non_embedding": non_embedding, "total": total,
            "flops_per_token": per_token}


@dataclass(frozen=True)
class ShapeTable:
    """Proposed shapes with their training plan: a table for a launcher. Frozen.

    Attributes
    ----------
    shapes : tuple of ModelShape
        Best first.
    rows : tuple of dict
        One plain record per shape: the shape and its counts (:meth:`ModelShape.to_dict`),
        ``N`` (total or non-embedding, as ``include_embeddings``), ``N_error``
        (``N / target - 1``, when a parameter count was the target)
        and, when tokens are known, ``D`` (tokens actually trained: whole steps),
        ``batch_size`` (tokens) and ``batch_sequences``, ``steps``, ``C`` (training FLOP
        under the accounting), ``C_6N`` (``6 N D`` for comparison), ``C_error``
        (``C / compute - 1`` when a budget was given), ``pf_days`` and
        ``accelerator_hours`` (with a throughput).
    options : Mapping
        The arguments that produced the table (read-only).
    """

    shapes: tuple
    rows: tuple = field(repr=False)
    options: FrozenDict = field(default_factory=FrozenDict)

    def __post_init__(self):
        object.__setattr__(self, "shapes", tuple(self.shapes))
        object.__setattr__(self, "rows", tuple(FrozenDict(r) for r in self.rows))
        object.__setattr__(self, "options", FrozenDict(self.options))

    def to_frame(self):
        """The table as a DataFrame (a new copy each call)."""
        import pandas as pd

        return pd.DataFrame([dict(r) for r in self.rows])

    def to_dict(self) -> dict:
        """Plain types: ``{"options": ..., "shapes": [row, ...]}``."""
        from .._validation import to_plain

        return to_plain({"options": dict(self.options), "shapes": [dict(r) for r in self.rows]})

    def save(self, path, *, force: bool = False):
        """Write the table to ``path`` atomically: ``.csv``/``.tsv`` (one row per shape, full
        precision) or ``.json`` (:meth:`to_dict`). An existing file of another kind is
        replaced only with ``force=True``. Returns the path."""
        import json
        import os
        from pathlib import Path

        from .._files import atomic_write, check_output_path

        suffix = Path(os.fspath(path)).suffix.lower().lstrip(".")
        if suffix not in ("csv", "tsv", "json"):
            raise InputError(f"`path` {str(path)!r}: give a .csv, .tsv or .json file")
        kind = "json" if suffix == "json" else "table"
        target = check_output_path(path, kind=kind, force=force, argument="`path`")
        if suffix == "json":
            text = json.dumps(self.to_dict(), indent=2) + "\n"
        else:
            text = self.to_frame().to_csv(index=False, sep="\t" if suffix == "tsv" else ",")
        return atomic_write(target, text)


def _check_range(name, value) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(f"`{name}` must be a (low, high) pair, got {value!r}") from None
    if not (0 < low <= high < math.inf):
        raise InputError(f"`{name}` must satisfy 0 < low <= high < inf, got {value!r}")
    return low, high


def _candidates(target, quantity, tokens, *, accounting, n_vocab, n_ctx, d_head, ffw_ratio,
                multiple, aspects, learned_positions):
    """``(n_layer, d_model, value)`` arrays of the shapes whose width is a multiple of
    ``multiple``, with the two depths whose ``value`` (``quantity``: ``"total"`` or
    ``"non_embedding"`` parameters, or ``"flops"``, training FLOP on ``tokens``) brackets
    ``target``, each clamped into the depths the aspect-ratio range allows.

    Every quantity is affine in ``n_layer`` at fixed width under both accountings, so the
    counts at one and two layers give the exact depth for every width at once.
    """
    def value(n_layer, width):
        counts = _counts(accounting, n_layer, width, width // d_head, d_head, ffw_ratio * width,
                         n_vocab, n_ctx, learned_positions)
        return counts["flops_per_token"] * tokens if quantity == "flops" else counts[quantity]

    width = np.arange(1, _MAX_WIDTHS + 1, dtype=float) * multiple
    one, two = value(1.0, width), value(2.0, width)
    depth = 1.0 + (target - one) / (two - one)
    shallowest = np.maximum(1.0, np.ceil(width / aspects[1]))
    deepest = np.floor(width / aspects[0])
    overshoot = np.flatnonzero(depth < shallowest)  # even the shallowest allowed overshoots,
    last = overshoot[0] + 1 if overshoot.size else width.size  # as at every wider width
    width, depth = width[:last], depth[:last]
    shallowest, deepest = shallowest[:last], deepest[:last]
    # the exact depth rounded both ways, clamped into the allowed depths: the value is monotone
    # in depth, so these are the closest allowed shapes at each width
    layers = np.concatenate([np.clip(np.floor(depth), shallowest, deepest),
                             np.clip(np.ceil(depth), shallowest, deepest)])
    widths = np.concatenate([width, width])
    keep = np.concatenate([shallowest <= deepest, shallowest <= deepest])
    layers, widths = layers[keep], widths[keep]
    pairs = np.unique(np.column_stack([layers, widths]), axis=0)
    if pairs.size == 0:
        return pairs[:, 0], pairs[:, 1], pairs[:, 0]
    return pairs[:, 0], pairs[:, 1], value(pairs[:, 0], pairs[:, 1])


def propose_shapes(N=None, *, compute=None, D=None, accounting: str = "hoffmann",
                   include_embeddings: bool | None = None, n_vocab: int = 32000,
                   n_ctx: int = 2048, d_head: int = 128, ffw_ratio: int = 4,
                   width_multiple: int = 128, heads_multiple: int = 1,
                   aspect_ratio=DEFAULT_ASPECT_RATIOS, learned_positions: bool = False,
                   n_shapes: int = 5, tolerance: float = 0.01,
                   batch_size=None, loss=None, throughput=None) -> ShapeTable:
    """Hardware-friendly transformer shapes close to a parameter count or a FLOP budget.

    Parameters
    ----------
    N : float, optional
        Target parameter count (total with ``include_embeddings``, else non-embedding).
    compute, D : float, optional
        Instead of ``N``: a training budget in FLOP and the tokens; the shapes whose exact
        training FLOP on ``D`` tokens (under ``accounting``) is closest to ``compute`` are
        proposed. ``D`` alone with ``N`` adds the training plan to each shape.
    accounting : {"hoffmann", "kaplan"}
        Parameter and FLOP conventions (module notes).
    include_embeddings : bool, optional
        Which count ``N`` means; default True for Hoffmann, False for Kaplan (each paper's N).
    n_vocab, n_ctx : int
        Vocabulary and context (sequence length); defaults Chinchilla's 32,000 and 2,048.
    d_head : int
        Head width; ``d_model`` is a multiple of it, ``n_heads = d_model / d_head``.
    ffw_ratio : int
        ``d_ff = ffw_ratio * d_model`` (4 in GPT-3 and Chinchilla).
    width_multiple : int
        ``d_model`` is a multiple of this and of ``d_head`` (tensor-core friendly: 64, 128).
    heads_multiple : int
        ``n_heads`` is a multiple of this (8 for 8-way tensor parallelism; default any).
    aspect_ratio : (float, float)
        Range of ``d_model / n_layer`` (:data:`DEFAULT_ASPECT_RATIOS`).
    learned_positions : bool
        Kaplan accounting: count ``n_ctx x d_model`` learned positions.
    n_shapes : int
        Shapes returned.
    tolerance : float
        Shapes within this relative distance of the target (parameters, or FLOP with a
        budget) count as matching it and come first, ordered by how close their aspect
        ratio is to the geometric middle of ``aspect_ratio``; the rest follow, closest
        first. A closer count than a fraction of a percent buys nothing: the law's own
        uncertainty is larger.
    batch_size : float, optional
        Batch in tokens (rounded to whole sequences); default the critical batch at
        ``loss``.
    loss : float, optional
        Loss (nats/token) the run is expected to reach, for Kaplan et al.'s critical batch
        ``B_crit(L)`` (Eq 1.4), rounded to a power of two of sequences. Kaplan's constants
        were measured on WebText2 with GPT-2's tokenizer: a guide, not a law of your setup.
    throughput : float, optional
        Achieved training FLOP/s per accelerator (e.g. ``0.4 * 989e12`` for 40% of an
        H100's dense bf16 peak), for ``accelerator_hours``.

    Returns
    -------
    ShapeTable

    Examples
    --------
    >>> table = propose_shapes(70e9, n_shapes=3)
    >>> row = table.rows[0]
    >>> abs(row["N_error"]) < 0.01 and row["d_model"] % 128 == 0
    True
    >>> plan = propose_shapes(1e9, D=2e10, loss=2.6, throughput=4e14, n_shapes=1)
    >>> plan.rows[0]["steps"] * plan.rows[0]["batch_size"] >= 2e10
    True
    """
    accounting = check_choice("accounting", accounting, ACCOUNTINGS)
    count = (accounting == "hoffmann") if include_embeddings is None else \
        check_bool("include_embeddings", include_embeddings)
    ints = {name: check_int(name, value, 1) for name, value in (
        ("n_vocab", n_vocab), ("n_ctx", n_ctx), ("d_head", d_head), ("ffw_ratio", ffw_ratio),
        ("width_multiple", width_multiple), ("heads_multiple", heads_multiple),
        ("n_shapes", n_shapes))}
    tolerance = check_positive("tolerance", tolerance)
    aspects = _check_range("aspect_ratio", aspect_ratio)
    learned_positions = check_bool("learned_positions", learned_positions)
    if learned_positions and accounting != "kaplan":
        raise InputError("`learned_positions` applies to accounting='kaplan'")
    if N is None and compute is None:
        raise InputError("give `N` (a parameter count) or `compute` and `D` (a budget)")
    if N is not None and compute is not None:
        raise InputError("give `N` or `compute` (with `D`), not both")
    if compute is not None and D is None:
        raise InputError("`compute` needs `D`, the training tokens")
    tokens = None if D is None else check_positive("D", D)
    budget = None if compute is None else check_positive("compute", compute)
    target = check_positive("N", N) if N is not None else budget / (6.0 * tokens)
    batch = None if batch_size is None else check_positive("batch_size", batch_size)
    expected_loss = None if loss is None else check_positive("loss", loss)
    speed = None if throughput is None else check_positive("throughput", throughput)
    multiple = math.lcm(ints["width_multiple"], ints["d_head"] * ints["heads_multiple"])

    if budget is not None:  # match training FLOP on D tokens, exact accounting
        quantity, goal = "flops", budget
    else:
        quantity, goal = ("total" if count else "non_embedding"), target
    layers, widths, values = _candidates(
        goal, quantity, tokens, accounting=accounting, n_vocab=ints["n_vocab"],
        n_ctx=ints["n_ctx"], d_head=ints["d_head"], ffw_ratio=ints["ffw_ratio"],
        multiple=multiple, aspects=aspects, learned_positions=learned_positions)
    distance = np.abs(values / goal - 1.0)
    if layers.size == 0 or not np.min(distance) < 1.0:  # nothing within a factor 2
        what = "training FLOP" if budget is not None else "parameters"
        raise InputError(f"no shape with d_model a multiple of {multiple} and aspect ratio in "
                         f"{aspects} comes within a factor 2 of {goal:.4g} {what} (with "
                         f"n_vocab {ints['n_vocab']} the embeddings alone may be larger); widen "
                         "`aspect_ratio` or lower `width_multiple`/`d_head`")
    middle = math.sqrt(aspects[0] * aspects[1])
    matching = distance <= tolerance
    # matching shapes first, by aspect ratio; then the rest, closest first
    order = np.lexsort((distance, np.abs(np.log(widths / layers / middle)),
                        np.where(matching, 0.0, distance), ~matching))
    chosen = [ModelShape(int(layers[i]), int(widths[i]), int(widths[i]) // ints["d_head"],
                         ints["d_head"], ints["ffw_ratio"] * int(widths[i]), ints["n_vocab"],
                         ints["n_ctx"], accounting, learned_positions)
              for i in order[:ints["n_shapes"]]]
    rows = [_row(s, count, None if budget is not None else target, tokens, budget, batch,
                 expected_loss, speed) for s in chosen]
    options = {"N": N if N is None else float(N), "compute": budget, "D": tokens,
               "accounting": accounting, "include_embeddings": count, **ints,
               "aspect_ratio": aspects, "learned_positions": learned_positions,
               "tolerance": tolerance,
               "batch_size": batch, "loss": expected_loss, "throughput": speed}
    return ShapeTable(shapes=tuple(chosen), rows=tuple(rows), options=options)


def _row(shape, count, target, tokens, budget, batch, loss, speed) -> dict:
    row = shape.to_dict()
    n = shape.params(count)
    row["N"] = n
    if target is not None:
        row["N_error"] = n / target - 1.0
    if tokens is None:
        return row
    trained = tokens
    if batch is not None or loss is not None:
        wanted = batch if batch is not None else float(F.critical_batch_size(loss))
        if batch is not None:  # whole sequences, as the user asked
            sequences = max(1, round(wanted / shape.n_ctx))
        else:  # a power of two of sequences nearest the critical batch (in log)
            sequences = 2 ** max(0, round(math.log2(max(wanted / shape.n_ctx, 1.0))))
        batch_tokens = sequences * shape.n_ctx
        steps = math.ceil(tokens / batch_tokens)
        trained = float(steps * batch_tokens)
        row.update(batch_sequences=sequences, batch_size=float(batch_tokens), steps=steps)
    flop = shape.flops_per_token * trained
    row.update(D=trained, C=flop, C_6N=float(F.training_flops(n, trained)),
               pf_days=float(F.flops_to_pf_days(flop)))
    if budget is not None:
        row["C_error"] = flop / budget - 1.0
    if speed is not None:
        row["accelerator_hours"] = flop / speed / 3600.0
    return row
