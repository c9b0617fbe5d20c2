"""Synthetic training curves drawn from a curve law with known parameters.

For recovery tests, coverage simulations and examples: :func:`synthetic_curves` evaluates
a law under several schedules at regularly logged steps and multiplies each loss by
``exp(e)``, where ``e`` is Gaussian noise of standard deviation ``noise`` that may be
autocorrelated along a curve (an AR(1) process with coefficient ``autocorrelation``, as
the residuals of real curves are).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._exceptions import InputError
from .._validation import check_finite, check_int, check_nonnegative, check_rng
from .curve_laws import SizeScaled, get_curve_law
from .schedules import Schedule

__all__ = ["LUO_2025_MPL", "default_schedules", "synthetic_curves"]

# typed in once, in published.py; re-exported here where the curve tests and examples look
from .published import LUO_2025_MPL  # noqa: E402

_MOMENTUM_DEMO = {"L0": 3.0, "A": 0.55, "alpha": 0.5, "C": 0.4, "lambda": 0.999}


def default_schedules(total_steps: int = 24000, peak_lr: float = 3e-4,
                      warmup_steps: int = 2160) -> dict[str, Schedule]:
    """Constant, cosine, WSD (exponential decay over the last 1/6) and two-stage schedules
    shaped like Luo et al.'s (peak 3e-4, final 3e-5, 2,160 warmup steps)."""
    final = peak_lr / 10
    return {
        "constant": Schedule.constant(total_steps, peak_lr, warmup_steps=warmup_steps),
        "cosine": Schedule.cosine(total_steps, peak_lr, final_lr=final, warmup_steps=warmup_steps),
        "wsd": Schedule.wsd(total_steps, peak_lr, final_lr=final, decay_steps=total_steps // 6,
                            decay_shape="exponential", warmup_steps=warmup_steps),
        "two_stage": Schedule.two_stage(total_steps * 2 // 3, peak_lr, final_lr=final,
                                        decay_start=total_steps // 3, warmup_steps=warmup_steps),
    }


def synthetic_curves(law="mpl", params: Mapping | None = None, *, schedules=None,
                     every: int = 128, noise: float = 0.002, autocorrelation: float = 0.0,
                     N=None, rng=None):
    """Curves of ``law`` at ``params`` under ``schedules``, with multiplicative noise.

    Parameters
    ----------
    law : str or CurveLaw
    params : mapping, optional
        Default: Luo et al.'s 25M fit for ``"mpl"``, a momentum-law example otherwise.
    schedules : mapping, optional
        Run id -> :class:`Schedule` (default :func:`default_schedules`).
    every : int
        Log a point every ``every`` steps, from the end of warmup.
    noise : float
        Standard deviation of the log noise (0 for exact curves).
    autocorrelation : float
        AR(1) coefficient of the log noise along each curve, in [0, 1).
    N : float or mapping, optional
        Size of every run (or per run id); needed by a size-scaled law.
    rng : None, int or Generator

    Returns
    -------
    (Curves, dict)
        The curves (schedules attached) and the true parameters.

    Examples
    --------
    >>> curves, truth = synthetic_curves("mpl", rng=0)
    >>> curves.runs, len(curves), truth["alpha"]
    (('constant', 'cosine', 'wsd', 'two_stage'), 622, 0.50786857)
    """
    from ..data.curves import load_curves

    law = get_curve_law(law)
    if params is None:
        if isinstance(law, SizeScaled) or law.name not in ("mpl", "momentum"):
            raise InputError("give `params` for this law")
        params = LUO_2025_MPL["25M"] if law.name == "mpl" else _MOMENTUM_DEMO
    params = {name: float(value) for name, value in zip(law.param_names,
                                                         law.params_vector(params))}
    schedules = default_schedules() if schedules is None else dict(schedules)
    every = check_int("every", every, 1)
    noise = check_nonnegative("noise", noise)
    rho = check_finite("autocorrelation", autocorrelation, minimum=0.0, maximum=0.999)
    generator = check_rng("rng", rng)
    records = {"run_id": [], "step": [], "loss": [], "lr": []}
    sizes = []
    for run, schedule in schedules.items():
        if not isinstance(schedule, Schedule):
            raise InputError(f"schedule of {run!r} must be a Schedule")
        lr = schedule.lr_array()
        steps = np.arange(max(schedule.warmup_steps, 1), schedule.total_steps, every)
        size = N.get(run) if isinstance(N, Mapping) else N
        inputs = {} if size is None else {"N": float(size)}
        clean = law.predict(params, law.make_sums([lr], [steps], point_inputs=inputs))
        shocks = generator.normal(0.0, noise, len(steps))
        log_noise = np.empty(len(steps))
        state = 0.0
        for i, shock in enumerate(shocks):  # stationary AR(1) with standard deviation noise
            state = rho * state + np.sqrt(1 - rho * rho) * shock
            log_noise[i] = state
        records["run_id"] += [run] * len(steps)
        records["step"] += steps.tolist()
        records["loss"] += (clean * np.exp(log_noise)).tolist()
        records["lr"] += lr[steps].tolist()
        sizes += [size] * len(steps)
    if any(s is not None for s in sizes):
        records["N"] = sizes
    curves = load_curves(records, spikes="keep")
    return curves.with_schedules(schedules), params



