"""How far a trained model is from compute-optimal (under- or over-training)."""

from __future__ import annotations

import numpy as np

from .._validation import broadcast_together, renamed_argument
from ._common import (check_array, check_fit, check_method, edge_free, law_loss, quiet,
                      rows_and_level, shaped, summarise, warn_edge, warn_far_beyond)
from ._common import fit_flops_per_token
from .restricted import restricted_intervals
from .results import Diagnosis
from .solvers import compute_for_loss_rows, optimal_compute_for_params, optimal_for_compute

__all__ = ["diagnose"]


@quiet
def diagnose(fit, N=None, D=None, *, flops_per_token=None, method="auto", draws=None,
             confidence_level=None, n_params=None, n_tokens=None) -> Diagnosis:
    r"""Under-training diagnosis of an existing model (N, D).

    With ``C = k N D`` the model's compute, reports:

    * the compute-optimal model for C (:func:`compute_optimal`);
    * :math:`C^*(N)`, the budget at which N parameters are compute-optimal, and
      :math:`D^*(N) = C^*(N)/(kN)`. For Chinchilla, inverting Hoffmann et al. 2022 Eq 4
      :math:`N = G (C/k)^a` gives :math:`C^*(N) = k (N/G)^{1/a}`;
    * the ratios :math:`C^*(N)/(kND)` and :math:`D^*(N)/D` (equal under C = kND): above 1
      the model is under-trained for its size (Hoffmann et al. 2022 Sec 1 and 3.4 make
      this case for GPT-3 and Gopher);
    * the compute a compute-optimal model needs for the same predicted loss
      (:func:`compute_for_loss`) and the saving factor ``kND`` / that compute.

    ``str(result)`` prints a readable report.

    Parameters
    ----------
    fit : FitResult
        A law with inputs ``N`` and ``D``.
    N, D : float or array_like
        The model(s); broadcast together.
    flops_per_token, method, draws, confidence_level :
        See :func:`compute_optimal`: by default the intervals come from the bootstrap
        saved with the fit, at its level; ``draws=False`` gives none.

    Returns
    -------
    Diagnosis
        Its ``verdict`` is ``"under-trained"`` or ``"over-trained"`` only when the
        point estimate and the whole interval of ``tokens_ratio`` lie on that side of
        1, and ``"undetermined"`` when the interval includes 1 (without draws, the
        point estimate's side). ``str(result)`` says the same.

    Examples
    --------
    >>> import scalinglaws as sl
    >>> hoffmann = sl.FitResult.from_params("chinchilla", dict(
    ...     E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28))   # Hoffmann et al. 2022 Eq 10
    >>> d = diagnose(hoffmann, 175e9, 300e9)                     # GPT-3
    >>> round(float(d.tokens_ratio), 1), d.verdict
    (77.7, 'under-trained')
    """
    form, point = check_fit(fit, allocatable=True)
    n = check_array("N", renamed_argument("n_params", "N", n_params, N))
    d = check_array("D", renamed_argument("n_tokens", "D", n_tokens, D))
    k = fit_flops_per_token(fit, flops_per_token)
    method = check_method(method, form)
    rows, n_draws, level = rows_and_level(fit, form, point, draws, confidence_level,
                                          needs_frontier=method == "closed_form")
    n, d = broadcast_together("N", n, "D", d)
    shape = n.shape
    n_row, d_row = n.reshape(1, -1), d.reshape(1, -1)
    compute = k * n_row * d_row

    def evaluate(parameter_rows):
        """Every quantity of the diagnosis at each parameter row, and where a row's
        numerical optimum sat on the searched range's edge."""
        loss = law_loss(form, parameter_rows, n_row, d_row)
        optimal_n, optimal_d, optimal_loss, edge_1 = optimal_for_compute(
            form, parameter_rows, compute, k, method)
        optimal_c_for_n = optimal_compute_for_params(form, parameter_rows, n_row, k, method)
        optimal_d_for_n = optimal_c_for_n / (k * n_row)
        same_c, same_n, same_d, edge_2 = compute_for_loss_rows(form, parameter_rows, loss, k,
                                                               method)
        at_edge = edge_1 | edge_2
        compute_rows = np.broadcast_to(compute, loss.shape)
        values = {
            "loss": loss, "optimal_N": optimal_n, "optimal_D": optimal_d,
            "optimal_loss": optimal_loss, "optimal_C_for_N": optimal_c_for_n,
            "optimal_D_for_N": optimal_d_for_n,
            "compute_ratio": optimal_c_for_n / compute_rows,
            "tokens_ratio": optimal_d_for_n / d_row,
            "C_for_same_loss": same_c, "N_for_same_loss": same_n,
            "D_for_same_loss": same_d, "compute_saving_factor": compute_rows / same_c,
        }
        usable = edge_free(at_edge)
        return {name: v * usable for name, v in values.items()}, at_edge

    values, at_edge = evaluate(rows)
    point_values, intervals, failed = summarise(values, shape, level, n_draws)
    intervals, interval_method = restricted_intervals(fit, lambda r: evaluate(r)[0],
                                                      intervals, level)
    warn_edge(at_edge[0], "a compute-optimal model in the diagnosis",
               "the law's optimum lies outside the default tokens-per-parameter range")
    warn_far_beyond(fit, {"N": n, "D": d}, typed=("N", "D"))
    return Diagnosis(N=shaped(n, shape), D=shaped(d, shape),
                     C=shaped(compute, shape), **point_values, flops_per_token=k,
                     method=method, form=form.name, intervals=intervals, confidence_level=level,
                     n_draws=n_draws, n_failed_draws=failed, interval_method=interval_method)
