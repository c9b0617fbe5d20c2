"""scalinglaws: fit, reproduce and extrapolate neural scaling laws.

The main entry points::

    import scalinglaws as sl
    runs = sl.load_runs("sweep.csv")          # validated table of runs
    result = sl.fit(runs, "chinchilla")       # frozen FitResult
    sl.predict(result, N=70e9, D=1.4e12)
    sl.save(result, "fit.json"); sl.load("fit.json")

The package is organised by pipeline stage (see ``docs/architecture.md``)::

    data -> laws -> fitting -> uncertainty -> analysis -> outputs

Names are imported on first use, so ``import scalinglaws`` is instant and does not
import scipy, pandas or matplotlib.
"""

from __future__ import annotations

import importlib

from . import _moved
from ._exceptions import (BootstrapResamplingWarning, ConvergenceWarning, CurveResamplingWarning,
                          DataMismatchWarning,
                          ExtrapolationWarning, IdentifiabilityWarning, InputError,
                          LackOfFitWarning, SandwichWarning, ScalingLawsDeprecationWarning,
                          ScalingLawsWarning, UnitsWarning)
from ._version import __version__

#: public name -> module (relative to the package) that defines it
_PUBLIC = {
    # data
    "load_runs": "data.runs", "Runs": "data.runs",
    "load_tasks": "data.tasks", "TaskTable": "data.tasks",
    "load_curves": "data.curves", "Curves": "data.curves",
    # laws
    "define_form": "laws.custom", "Param": "laws.custom",
    "get_form": "laws.forms", "register_form": "laws.forms", "available_forms": "laws.forms",
    "Form": "laws.forms",
    "generate_sweep": "laws.synthetic", "propose_shapes": "laws.shapes",
    "Schedule": "laws.schedules", "define_curve_law": "laws.curve_custom",
    # fitting
    "fit": "fitting.estimator", "LawFitter": "fitting.estimator", "FitResult": "fitting.estimator",
    "isoflop_fit": "fitting.isoflop", "envelope_fit": "fitting.envelope",
    "fit_curves": "fitting.curves", "CurveFitResult": "fitting.curves",
    "GroupedFitResult": "fitting.grouped",
    # uncertainty
    "bootstrap": "uncertainty.bootstrap", "BootstrapResult": "uncertainty.bootstrap",
    "backtest": "uncertainty.backtest", "rollout": "uncertainty.rollout",
    "calibrate": "uncertainty.calibrated", "CalibratedFit": "uncertainty.calibrated",
    "profile_intervals": "uncertainty.profile", "profile_interval": "uncertainty.profile",
    "profile_map": "uncertainty.profile", "bootstrap_curves": "uncertainty.curves",
    "bootstrap_groups": "uncertainty.grouped", "GroupedBootstrapResult": "uncertainty.grouped",
    # analysis
    "predict": "analysis.extrapolate", "compute_optimal": "analysis.extrapolate",
    "plan_sweep": "analysis.plan", "published_prior": "analysis.prior",
    "fit_downstream": "analysis.downstream", "DownstreamFit": "analysis.downstream",
    "compare": "analysis.compare", "Comparison": "analysis.compare_result",
    "predict_curve": "analysis.curves", "predict_final": "analysis.curves",
    "anytime_points": "analysis.curves", "curve_scores": "analysis.curves",
    "predict_tasks": "analysis.downstream_predict",
    "TaskPredictions": "analysis.downstream_predict",
    "predictability": "analysis.downstream_verdict", "LADDER": "analysis.downstream_preset",
    "prior_from_fit": "analysis.prior", "active_design": "analysis.active",
    # outputs
    "load": "outputs.io", "save": "outputs.io", "to_json": "outputs.io", "from_json": "outputs.io",
    "load_isoflop": "outputs.io.isoflop", "load_grouped": "outputs.io.grouped",
    "load_envelope": "outputs.io.envelope",
    "load_grouped_bootstrap": "outputs.io.grouped_bootstrap",
    "load_curve_fit": "outputs.io.curves", "load_comparison": "outputs.io.comparison",
}

#: names the top level used to export; still importable, no longer advertised
_FORMER = {
    "Chinchilla": "laws.forms", "PowerLaw": "laws.forms", "KaplanND": "laws.forms",
    "UserForm": "laws.custom", "Huber": "laws.losses", "Squared": "laws.losses",
    "DataConstrained": "laws.datablations", "MUENNIGHOFF_2023": "laws.datablations",
    "data_constrained_optimal": "laws.datablations",
    "BacktestResult": "uncertainty.backtest", "RolloutResult": "uncertainty.rollout",
    "rollout_cuts": "uncertainty.rollout", "AsymmetricHuber": "laws.losses",
    "IsoFLOPResult": "fitting.isoflop", "EnvelopeResult": "fitting.envelope",
    "GroupedIsoFLOPResult": "fitting.isoflop_groups",
}

__all__ = ["__version__", "InputError", "ScalingLawsWarning", "ConvergenceWarning",
           "IdentifiabilityWarning", "ExtrapolationWarning", "ScalingLawsDeprecationWarning",
           "DataMismatchWarning", "SandwichWarning", "CurveResamplingWarning", "UnitsWarning",
           "BootstrapResamplingWarning", "LackOfFitWarning",
           *_PUBLIC]


def __getattr__(name: str):
    module = _PUBLIC.get(name) or _FORMER.get(name)
    if module is None:
        if name in _moved.MOVED:  # `from scalinglaws import extrapolate` (a module)
            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


_moved.install(__name__, verbs=("fit", "backtest", "bootstrap"))
