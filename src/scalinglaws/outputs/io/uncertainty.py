"""JSON of a fit's uncertainty model: the ``"uncertainty"`` section of a fit file.

A fit saved from a :class:`~scalinglaws.uncertainty.calibrated.CalibratedFit` carries,
beside the fit itself and its ``"bootstrap"`` section, everything prediction intervals
need: the scatter model, the delta-method covariance, the fitted range, the runs'
FLOP per parameter-token, the rollout calibration and, for a fit with tied or fixed
parameters, the law refitted without them (``unrestricted``; ``untied`` in files written
before fixed parameters were freed) and, for runs logged at several checkpoints, the column
whose rows are one run (``clusters``, also in ``scatter`` and ``calibration``; absent
otherwise). Loading such a file returns the
CalibratedFit again; every number is checked (finite, right shape, known names) and a
problem raises :class:`~scalinglaws.InputError` naming the file and the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..._exceptions import InputError
from ...fitting.result import check_same_point
from ...uncertainty.calibrated import CalibratedFit
from ...uncertainty.calibration import ExtrapolationCalibration
from ...uncertainty.delta import UnrestrictedLaw
from ...uncertainty.scatter import MODELS, Scatter

__all__ = ["uncertainty_to_dict", "calibrated_from_dict"]

_AXES = ("C", "N", "D")
_SOURCES = ("residuals", "replicates")


def uncertainty_to_dict(law: CalibratedFit) -> dict:
    """The ``"uncertainty"`` section of ``law`` as plain types
    (:meth:`CalibratedFit.uncertainty_dict`)."""
    return law.uncertainty_dict()


def _fail(source: str, field: str, problem: str):
    raise InputError(f"{source}: field uncertainty.{field} {problem}")


def _number(section: Mapping, key: str, source: str, where: str, *, positive=False,
            non_negative=False, optional=False) -> float:
    value = section.get(key)
    if value is None and optional:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        _fail(source, f"{where}{key}", f"must be a finite number, got {value!r}")
    if positive and not value > 0:
        _fail(source, f"{where}{key}", f"must be positive, got {value!r}")
    if non_negative and value < 0:
        _fail(source, f"{where}{key}", f"must not be negative, got {value!r}")
    return float(value)


def _choice(section: Mapping, key: str, options, source: str, where: str) -> str:
    value = section.get(key)
    if value not in options:
        _fail(source, f"{where}{key}", f"must be one of {', '.join(options)}, got {value!r}")
    return value


def _clusters(section: Mapping, source: str, where: str) -> str | None:
    """The optional ``clusters`` column name of a section (None when absent)."""
    value = section.get("clusters")
    if value is not None and (not isinstance(value, str) or not value):
        _fail(source, f"{where}clusters", f"must be a column name or null, got {value!r}")
    return value


def _mapping(doc: Mapping, key: str, source: str, optional=False):
    value = doc.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, Mapping):
        _fail(source, key, f"must be an object, got {type(value).__name__}")
    return value


def _scatter(doc: Mapping, source: str) -> Scatter:
    section = _mapping(doc, "scatter", source)
    where = "scatter."
    return Scatter(
        sigma=_number(section, "sigma", source, where, positive=True),
        model=_choice(section, "model", MODELS, source, where),
        coefficient=_number(section, "coefficient", source, where),
        axis=_choice(section, "axis", _AXES, source, where),
        reference=_number(section, "reference", source, where, positive=True),
        ratio_center=_number(section, "ratio_center", source, where),
        dof=_number(section, "dof", source, where, positive=True, optional=True),
        source=_choice(section, "source", _SOURCES, source, where),
        n_runs=int(_number(section, "n_runs", source, where, non_negative=True)),
        n_outliers=int(_number(section, "n_outliers", source, where, non_negative=True)),
        clusters=_clusters(section, source, where))


def _calibration(doc: Mapping, source: str) -> ExtrapolationCalibration | None:
    section = _mapping(doc, "calibration", source, optional=True)
    if section is None:
        return None
    where = "calibration."
    scores = section.get("scores")
    if not isinstance(scores, list) or not all(
            isinstance(s, (int, float)) and not isinstance(s, bool) and math.isfinite(s)
            and s >= 0 for s in scores):
        _fail(source, "calibration.scores", "must be a list of non-negative finite numbers")
    return ExtrapolationCalibration(
        axis=_choice(section, "axis", _AXES, source, where),
        tau=_number(section, "tau", source, where, non_negative=True),
        kappa=_number(section, "kappa", source, where, non_negative=True),
        scores=tuple(sorted(float(s) for s in scores)),
        max_log_factor=_number(section, "max_log_factor", source, where),
        n_folds=int(_number(section, "n_folds", source, where, non_negative=True)),
        model=_choice(section, "model", MODELS, source, where),
        clusters=_clusters(section, source, where))


def calibrated_from_dict(doc, fit, bootstrap=None, *, source: str = "fit JSON") -> CalibratedFit:
    """Rebuild a CalibratedFit from the ``"uncertainty"`` section of a fit file."""
    if not isinstance(doc, Mapping):
        raise InputError(f"{source}: field uncertainty must be an object")
    check_same_point(doc.get("point"), fit.params, source, "uncertainty.point")
    p = fit.form.n_params
    covariance = doc.get("covariance")
    try:
        matrix = np.array(covariance, dtype=float)
    except (TypeError, ValueError):
        _fail(source, "covariance", "must be a square matrix of numbers")
    if matrix.shape != (p, p) or not np.all(np.isfinite(matrix)):
        _fail(source, "covariance", f"must be a finite {p} x {p} matrix for form "
                                    f"{fit.form.name!r}, got shape {matrix.shape}")
    if not np.allclose(matrix, matrix.T, rtol=1e-9, atol=0) or np.any(np.diag(matrix) < 0):
        _fail(source, "covariance", "must be symmetric with a non-negative diagonal")
    ranges = _mapping(doc, "fitted_range", source)
    fitted_range = {}
    for axis, pair in ranges.items():
        if axis not in _AXES or not isinstance(pair, list) or len(pair) != 2 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                and v > 0 for v in pair) or pair[0] > pair[1]:
            _fail(source, f"fitted_range.{axis}", "must be a [low, high] pair of positive "
                                                  "numbers for N, D or C")
        fitted_range[axis] = (float(pair[0]), float(pair[1]))
    scatter = _scatter(doc, source)
    calibration = _calibration(doc, source)
    axis = calibration.axis if calibration is not None else scatter.axis
    if axis not in fitted_range:
        _fail(source, "fitted_range", f"lacks the calibration axis {axis!r}")
    return CalibratedFit(fit=fit, scatter=scatter, covariance=matrix, fitted_range=fitted_range,
                         flops_per_token=_number(doc, "flops_per_token", source, "",
                                                 positive=True),
                         calibration=calibration, bootstrap=bootstrap,
                         unrestricted=_unrestricted(doc, fit, source),
                         clusters=_clusters(doc, source, ""))


def _unrestricted(doc: Mapping, fit, source: str) -> UnrestrictedLaw | None:
    """The restricted fit's unrestricted law (its ties' and fixed parameters' bias
    allowance); None where the document has none (a fit with neither, or one written
    before the allowance existed). Files written while only ties were dropped call the
    section ``untied`` and have no ``fixed``: they load as they were (the allowance of the
    ties alone)."""
    key = "unrestricted" if doc.get("unrestricted") is not None else "untied"
    section = _mapping(doc, key, source, optional=True)
    if section is None:
        return None
    ties, params = section.get("ties"), section.get("params")
    fixed = section.get("fixed", {})
    names = fit.form.param_names
    if not isinstance(ties, Mapping) or dict(ties) != dict(fit.tied):
        _fail(source, f"{key}.ties", f"must be the fit's ties {dict(fit.tied)!r}, got {ties!r}")
    if not isinstance(fixed, Mapping) or not all(
            k in fit.fixed and isinstance(v, (int, float)) and not isinstance(v, bool)
            and float(v) == float(fit.fixed[k]) for k, v in fixed.items()):
        _fail(source, f"{key}.fixed", f"must hold fixed parameters of the fit at their values "
                                      f"{dict(fit.fixed)!r}, got {fixed!r}")
    if not ties and not fixed:
        _fail(source, key, "must drop a tie or free a fixed parameter of the fit")
    if not isinstance(params, Mapping) or set(params) != set(names):
        _fail(source, f"{key}.params", f"must give every parameter of {fit.form.name!r} "
                                       f"({', '.join(names)})")
    values = {name: _number(params, name, source, f"{key}.params.") for name in names}
    try:
        matrix = np.array(section.get("covariance"), dtype=float)
    except (TypeError, ValueError):
        _fail(source, f"{key}.covariance", "must be a square matrix of numbers")
    p = len(names)
    if matrix.shape != (p, p) or not np.all(np.isfinite(matrix)) or not np.allclose(
            matrix, matrix.T, rtol=1e-9, atol=0) or np.any(np.diag(matrix) < 0):
        _fail(source, f"{key}.covariance", f"must be a finite symmetric {p} x {p} matrix with "
                                           "a non-negative diagonal")
    return UnrestrictedLaw(ties=dict(ties), fixed=dict(fixed), params=values, covariance=matrix)
