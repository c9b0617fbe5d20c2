"""Figures of fitted scaling laws (matplotlib, imported only when a function is called).

Every function draws on an existing Axes (``ax=``) or makes a new figure (``figsize=``),
and returns what it drew on:

=========================  ===============================================================
:func:`fit_vs_data`        loss against N (or D, C): the runs and the fitted law through them
:func:`residuals`          residuals against N, D and C, with the Huber quadratic zone
:func:`efficient_frontier` compute-optimal N against compute, with published frontiers and
                           known models (above the line: more parameters than the compute
                           warrants, i.e. under-trained)
:func:`loss_landscape`     predicted loss over (N, D), iso-compute lines, compute-optimal path
:func:`bootstrap_corner`   pairwise scatter of bootstrap draws (the alpha-A, beta-B ridges)
:func:`isoflop_profiles`   IsoFLOP valleys: loss against N per budget
:func:`isoflop_frontier`   N_opt(C) and D_opt(C) from the IsoFLOP minima
:func:`rollout_errors`     rollout back-tests: prediction error against extrapolation factor
:func:`sweep_plan`         a planned sweep's runs over the prior's loss landscape
:func:`profile`            profile objective over (alpha, beta), optimum, 95% region
:func:`learning_curves`    training curves, observed and fitted, with the LR schedule
:func:`curve_band`         a predicted curve with its interval band
:func:`task_accuracy`      one task: accuracy against task loss, checkpoints, fit, target
:func:`task_accuracy_grid` every task of a downstream fit on one figure
=========================  ===============================================================

Units on every axis: N = parameters, D = training tokens, C = training compute in FLOP,
loss in nats per token. Figures only draw: the science (frontiers, published constants,
fits) comes from the earlier stages. Importing this package does not import matplotlib.

One module per figure family; this file only re-exports, one line per module (a new
module adds one line).
"""

from ._style import LABELS  # noqa: F401
from .compare import compare_groups  # noqa: F401
from .corner import bootstrap_corner  # noqa: F401
from .curves import curve_band, learning_curves  # noqa: F401
from .fits import fit_vs_data, residuals  # noqa: F401
from .frontier import efficient_frontier, hoffmann_frontier, kaplan_frontier  # noqa: F401
from .frontier import known_models_table  # noqa: F401  (laws.published.known_models)
from .isoflop import isoflop_frontier, isoflop_profiles  # noqa: F401
from .landscape import loss_landscape  # noqa: F401
from .plan import sweep_plan  # noqa: F401
from .profile import profile  # noqa: F401
from .rollout import rollout_errors  # noqa: F401
from .tasks import task_accuracy, task_accuracy_grid  # noqa: F401

# Every public name imported above (functions and LABELS), so an added line needs no
# second edit here.
__all__ = [name for name, value in sorted(globals().items())
           if not name.startswith("_") and (callable(value) or name == "LABELS")]
