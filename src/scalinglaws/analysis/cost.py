r"""Cost in dollars and latency: training versus serving, with hardware utilisation.

Sardana et al. (2024, "Beyond Chinchilla-Optimal", arXiv 2401.00448) choose the model size
N and training tokens D that reach a target loss at the lowest *lifetime* cost, and cost
each phase by the hardware time it needs. A FLOP on an accelerator of peak throughput P
(FLOP/s) running at model-FLOP utilisation U costs ``price / (3600 P U)`` dollars, and the
utilisation differs by phase: training runs near its MFU, processing prompts (prefill)
similarly, while generating tokens one at a time (decode) is memory-bound and reaches a
much lower MFU. The lifetime cost is

.. math::

    \$ = \frac{k N D}{P U_{train}} p + \frac{k_{inf} N D_{in}}{P U_{prefill}} p
         + \frac{k_{inf} N D_{out}}{P U_{decode}} p

with ``p`` the price per accelerator-second, ``k = 6`` and ``k_inf = 2`` FLOP per parameter
per token. We implement this structure; the hardware numbers (peak FLOP/s, price,
utilisations) are yours to give: we do not type in the paper's, which we could not check.

Minimising it at a target loss is the FLOP problem of
:func:`~scalinglaws.analysis.extrapolate.inference_optimal` with the inference tokens
weighted by how much dearer an inference FLOP is than a training FLOP:
``D_eff = D_in U_train/U_prefill + D_out U_train/U_decode`` (same hardware and price; with
separate ``inference_hardware`` the price and peak ratio enter too).

Latency: generating a token runs the model's layers one after another, so the depth
``n_layer`` is the latency proxy used here. At a fixed aspect ratio ``r = d_model/n_layer``
depth grows as ``(N / (12 r^2))^(1/3)``; Kaplan et al. (2020, Sec. 3.1) found the loss
insensitive to the shape over a wide range, so a wider, shallower model of the same N
serves faster at nearly the same loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenOnUnpickle
from .._validation import readonly_array
from ..laws.flops import check_quantity
from ..laws.kaplan_counting import depth_for_params
from .extrapolate import inference_optimal

__all__ = ["Hardware", "CostBreakdown", "lifetime_cost", "CostOptimal", "cost_optimal"]


def _fraction(name, value):
    value = float(check_quantity(name, value))
    if value > 1:
        raise InputError(f"{name} is a utilisation in (0, 1], got {value!r}")
    return value


@dataclass(frozen=True)
class Hardware:
    """An accelerator, its price and the utilisation each phase reaches.

    Parameters
    ----------
    peak_flops : float
        Peak throughput in FLOP/s per accelerator, in the precision you run.
    price_per_hour : float
        Dollars per accelerator-hour.
    training_utilisation : float
        Model-FLOP utilisation (MFU) of training, in (0, 1].
    prefill_utilisation : float, optional
        MFU when processing input (prompt) tokens; default ``training_utilisation``.
    decode_utilisation : float, optional
        MFU when generating output tokens; default ``prefill_utilisation``. Usually far
        lower (decoding is memory-bound): measure it on your serving stack.
    name : str, optional
    """

    peak_flops: float
    price_per_hour: float
    training_utilisation: float
    prefill_utilisation: float | None = None
    decode_utilisation: float | None = None
    name: str = ""

    def __post_init__(self):
        object.__setattr__(self, "peak_flops", float(check_quantity("peak_flops",
                                                                    self.peak_flops)))
        object.__setattr__(self, "price_per_hour",
                           float(check_quantity("price_per_hour", self.price_per_hour)))
        train = _fraction("training_utilisation", self.training_utilisation)
        prefill = train if self.prefill_utilisation is None else _fraction(
            "prefill_utilisation", self.prefill_utilisation)
        decode = prefill if self.decode_utilisation is None else _fraction(
            "decode_utilisation", self.decode_utilisation)
        object.__setattr__(self, "training_utilisation", train)
        object.__setattr__(self, "prefill_utilisation", prefill)
        object.__setattr__(self, "decode_utilisation", decode)

    def dollars_per_flop(self, phase: str = "training") -> float:
        """Dollars per useful FLOP in ``phase`` ("training", "prefill" or "decode")."""
        utilisation = {"training": self.training_utilisation,
                       "prefill": self.prefill_utilisation,
                       "decode": self.decode_utilisation}.get(phase)
        if utilisation is None:
            raise InputError(f"`phase` must be training, prefill or decode, got {phase!r}")
        return self.price_per_hour / 3600.0 / (self.peak_flops * utilisation)

    def hours(self, flops, phase: str = "training"):
        """Accelerator-hours for ``flops`` useful FLOP in ``phase``."""
        return flops * self.dollars_per_flop(phase) / self.price_per_hour

    def to_dict(self) -> dict:
        return {"name": self.name, "peak_flops": self.peak_flops,
                "price_per_hour": self.price_per_hour,
                "training_utilisation": self.training_utilisation,
                "prefill_utilisation": self.prefill_utilisation,
                "decode_utilisation": self.decode_utilisation}


def _plain(value):
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array.tolist()


@dataclass(frozen=True)
class CostBreakdown(FrozenOnUnpickle):
    """Lifetime cost of a model: FLOP, accelerator-hours and dollars per phase.

    Attributes are floats (or arrays for array input): ``N``, ``D``; ``training_flops``,
    ``prefill_flops``, ``decode_flops``; ``training_hours``, ``inference_hours``;
    ``training_dollars``, ``inference_dollars``, ``total_dollars``; ``n_layer`` (depth at
    the given aspect ratio, the latency proxy; nan without one).
    """

    N: Any
    D: Any
    training_flops: Any
    prefill_flops: Any
    decode_flops: Any
    training_hours: Any
    inference_hours: Any
    training_dollars: Any
    inference_dollars: Any
    total_dollars: Any
    n_layer: Any
    hardware: dict = field(default_factory=dict)

    _FIELDS = ("N", "D", "training_flops", "prefill_flops", "decode_flops", "training_hours",
               "inference_hours", "training_dollars", "inference_dollars", "total_dollars",
               "n_layer")

    def to_dict(self) -> dict:
        out = {name: _plain(getattr(self, name)) for name in self._FIELDS}
        return {**out, "hardware": dict(self.hardware)}


def _readonly(value):
    array = readonly_array(value)
    return float(array) if array.ndim == 0 else array


def lifetime_cost(N, D, hardware: Hardware, *, input_tokens=0.0, output_tokens=0.0,
                  flops_per_token=6.0, inference_flops_per_token=2.0, aspect_ratio=None,
                  inference_hardware: Hardware | None = None) -> CostBreakdown:
    """Dollars to train a model of ``N`` parameters on ``D`` tokens and serve it.

    Parameters
    ----------
    N, D : float or array_like
        Parameters and training tokens (broadcast).
    hardware : Hardware
        The training accelerator (and the serving one unless ``inference_hardware``).
    input_tokens, output_tokens : float, default 0
        Tokens processed (prompts) and generated over the model's life.
    flops_per_token, inference_flops_per_token : float
        ``k`` (6) and ``k_inf`` (2) FLOP per parameter per token.
    aspect_ratio : float, optional
        ``d_model / n_layer``, to report the depth (latency proxy).
    inference_hardware : Hardware, optional
        A different accelerator for serving.

    Returns
    -------
    CostBreakdown

    Examples
    --------
    >>> gpu = Hardware(peak_flops=1e15, price_per_hour=2.0, training_utilisation=0.5)
    >>> cost = lifetime_cost(7e9, 2e12, gpu)
    >>> round(cost.training_dollars)      # 8.4e22 FLOP at 5e14 FLOP/s = 46,667 h at $2
    93333
    """
    if not isinstance(hardware, Hardware):
        raise InputError(f"`hardware` must be a Hardware, got {type(hardware).__name__}")
    serving = hardware if inference_hardware is None else inference_hardware
    if not isinstance(serving, Hardware):
        raise InputError("`inference_hardware` must be a Hardware")
    n, d = np.broadcast_arrays(check_quantity("N", N), check_quantity("D", D))
    d_in = float(check_quantity("input_tokens", input_tokens, allow_zero=True))
    d_out = float(check_quantity("output_tokens", output_tokens, allow_zero=True))
    k = float(check_quantity("flops_per_token", flops_per_token))
    k_inf = float(check_quantity("inference_flops_per_token", inference_flops_per_token))
    train = k * n * d
    prefill = k_inf * n * d_in
    decode = k_inf * n * d_out
    train_dollars = train * hardware.dollars_per_flop("training")
    inference_dollars = (prefill * serving.dollars_per_flop("prefill")
                         + decode * serving.dollars_per_flop("decode"))
    depth = (np.asarray(depth_for_params(n, aspect_ratio)) if aspect_ratio is not None
             else np.full(n.shape, math.nan))
    return CostBreakdown(
        N=_readonly(n), D=_readonly(d), training_flops=_readonly(train),
        prefill_flops=_readonly(prefill), decode_flops=_readonly(decode),
        training_hours=_readonly(hardware.hours(train)),
        inference_hours=_readonly(serving.hours(prefill, "prefill")
                                  + serving.hours(decode, "decode")),
        training_dollars=_readonly(train_dollars), inference_dollars=_readonly(inference_dollars),
        total_dollars=_readonly(train_dollars + inference_dollars), n_layer=_readonly(depth),
        hardware={"training": hardware.to_dict(), "inference": serving.to_dict()})


@dataclass(frozen=True)
class CostOptimal:
    """The cheapest model (in dollars) reaching a loss, beside the compute-optimal one.

    Attributes
    ----------
    target_loss : float
    cheapest : CostBreakdown
        The dollar-optimal N and D and their lifetime cost.
    compute_optimal : CostBreakdown
        Chinchilla-optimal (training-compute-optimal) model for the same loss, costed alike.
    flop_optimal : CostBreakdown
        Sardana et al.'s FLOP-optimal model (training plus unweighted inference FLOP).
    saving, saving_fraction : float
        Dollars saved against ``compute_optimal`` and its fraction.
    effective_inference_tokens : float
        The inference tokens weighted to training-FLOP prices (see the module notes).
    at_search_edge : bool
        The optimum sits on the edge of the searched model sizes.
    """

    target_loss: float
    cheapest: CostBreakdown
    compute_optimal: CostBreakdown
    flop_optimal: CostBreakdown
    saving: float
    saving_fraction: float
    effective_inference_tokens: float
    at_search_edge: bool

    def to_dict(self) -> dict:
        return {"target_loss": self.target_loss, "cheapest": self.cheapest.to_dict(),
                "compute_optimal": self.compute_optimal.to_dict(),
                "flop_optimal": self.flop_optimal.to_dict(), "saving": self.saving,
                "saving_fraction": self.saving_fraction,
                "effective_inference_tokens": self.effective_inference_tokens,
                "at_search_edge": self.at_search_edge}

    def __str__(self) -> str:
        rows = [("cheapest in dollars", self.cheapest), ("FLOP-optimal", self.flop_optimal),
                ("compute-optimal (training only)", self.compute_optimal)]
        lines = [f"Lifetime cost at loss {self.target_loss:g}"]
        for label, row in rows:
            depth = "" if not np.isfinite(row.n_layer) else f", {row.n_layer:.0f} layers"
            lines.append(f"  {label:32s} N = {row.N:.3g}, D = {row.D:.3g}{depth}: "
                         f"${row.total_dollars:,.0f} (training ${row.training_dollars:,.0f}, "
                         f"inference ${row.inference_dollars:,.0f})")
        lines.append(f"  saving against compute-optimal: ${self.saving:,.0f} "
                     f"({self.saving_fraction:.1%})")
        return "\n".join(lines)


def cost_optimal(fit, target_loss, hardware: Hardware, *, input_tokens=0.0, output_tokens=0.0,
                 flops_per_token=6.0, inference_flops_per_token=2.0, aspect_ratio=None,
                 inference_hardware: Hardware | None = None) -> CostOptimal:
    """The model that reaches ``target_loss`` at the lowest lifetime cost in dollars.

    Sardana et al. (2024) with real-world costs: minimise :func:`lifetime_cost` subject to
    ``L(N, D) = target_loss`` for a fitted law in (N, D). Solved by
    :func:`~scalinglaws.analysis.extrapolate.inference_optimal` with the inference tokens
    weighted by their price relative to a training FLOP.

    Parameters
    ----------
    fit : FitResult
        A fitted law in N and D (e.g. ``chinchilla``).
    target_loss : float
        The loss to reach.
    hardware, input_tokens, output_tokens, flops_per_token, inference_flops_per_token, \
aspect_ratio, inference_hardware :
        See :func:`lifetime_cost`.

    Returns
    -------
    CostOptimal
    """
    if not isinstance(hardware, Hardware):
        raise InputError(f"`hardware` must be a Hardware, got {type(hardware).__name__}")
    serving = hardware if inference_hardware is None else inference_hardware
    if not isinstance(serving, Hardware):
        raise InputError("`inference_hardware` must be a Hardware")
    target = check_quantity("target_loss", target_loss)
    if target.ndim:
        raise InputError("`target_loss` must be one number")
    d_in = float(check_quantity("input_tokens", input_tokens, allow_zero=True))
    d_out = float(check_quantity("output_tokens", output_tokens, allow_zero=True))
    per_train_flop = hardware.dollars_per_flop("training")
    effective = (d_in * serving.dollars_per_flop("prefill")
                 + d_out * serving.dollars_per_flop("decode")) / per_train_flop
    options = {"flops_per_token": flops_per_token,
               "inference_flops_per_token": inference_flops_per_token}
    dollars = inference_optimal(fit, float(target), effective, **options)
    flops = inference_optimal(fit, float(target), d_in + d_out, **options)
    costed = {"hardware": hardware, "input_tokens": d_in, "output_tokens": d_out,
              "aspect_ratio": aspect_ratio, "inference_hardware": inference_hardware, **options}
    cheapest = lifetime_cost(dollars.N, dollars.D, **costed)
    chinchilla = lifetime_cost(dollars.chinchilla_N, dollars.chinchilla_D, **costed)
    flop_optimal = lifetime_cost(flops.N, flops.D, **costed)
    saving = chinchilla.total_dollars - cheapest.total_dollars
    return CostOptimal(target_loss=float(target), cheapest=cheapest, compute_optimal=chinchilla,
                       flop_optimal=flop_optimal, saving=float(saving),
                       saving_fraction=float(saving / chinchilla.total_dollars),
                       effective_inference_tokens=float(effective),
                       at_search_edge=bool(np.any(dollars.at_search_edge)))
