"""User-defined curve laws: a Python function of per-point schedule features.

A law that needs no loss-drop sum, only quantities of each logged point, is declared like
a user-defined form (:func:`scalinglaws.define_form`), with the schedule features as its
inputs:

==========  ========================================================================
feature     value at the point's step s
==========  ========================================================================
step        s
lr          the LR used at step s
lr_area     S1(s), the sum of the LR of steps 0 … s (warmup included)
lr_peak     the largest LR of steps 0 … s
N, tokens   the run's parameters and the tokens seen (when the curves have them)
==========  ========================================================================

For example Luo et al.'s initialisation model ``L0 + A*S1^-alpha - B*(lr_peak - lr)``::

    law = define_curve_law(
        "lr_gap", lambda lr_area, lr, lr_peak, L0, A, alpha, B:
            L0 + A * lr_area ** -alpha - B * (lr_peak - lr),
        features=("lr_area", "lr", "lr_peak"),
        params={"L0": Param(bounds=(0, None), start=[2.0, 3.0]),
                "A": Param(bounds=(0, None), start=[0.5], log=True),
                "alpha": Param(bounds=(0, 3), start=[0.3, 0.6]),
                "B": Param(bounds=(0, None), start=[100.0, 1000.0], log=True)})
    fit_curves(curves, law)

The function receives parameters as ``(k, 1)`` columns and features as ``(1, n)`` rows;
derivatives come from ``jacobian`` or central finite differences, as for user forms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenDict
from .curve_laws import CurveLaw, register_curve_law
from .custom import Param, UserForm

__all__ = ["FEATURES", "Param", "UserCurveLaw", "define_curve_law"]

FEATURES = ("step", "lr", "lr_area", "lr_peak", "N", "tokens")


class UserCurveLaw(CurveLaw):
    """A curve law given as a function of schedule features; see :func:`define_curve_law`."""

    quadrature = FrozenDict({"nodes": 0})  # no loss-drop sum: only per-point features

    def __init__(self, name: str, function: Callable, params: Mapping[str, Param], *,
                 features: Sequence[str] = ("lr_area",), jacobian: Callable | None = None,
                 formula: str = ""):
        features = (features,) if isinstance(features, str) else tuple(features)
        unknown = [f for f in features if f not in FEATURES]
        if unknown or not features:
            raise InputError(f"`features` must name some of {', '.join(FEATURES)}, got "
                             f"{list(features)}")
        self._form = UserForm(name, function, features, params, jacobian=jacobian,
                              formula=formula)
        self.name = self._form.name
        self.features = features
        self.param_names = self._form.param_names
        self.log_params = self._form.log_params
        self.formula = formula
        self.warmup = "include"

    def config(self) -> dict:
        return {"features": list(self.features), **self._form.config()}

    def default_bounds(self):
        return self._form.default_bounds()

    def evaluate(self, theta, sums):
        values = {"step": sums.step.astype(float), "lr": sums.lr, "lr_area": sums.lr_area,
                  "lr_peak": sums.lr_peak, **sums.point_inputs}
        missing = [f for f in self.features if f not in values]
        if missing:
            raise InputError(f"curve law {self.name!r} needs {missing}, which these curves do "
                             "not have")
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        return self._form.value_and_jacobian(theta, {f: values[f] for f in self.features})

    def start_grid(self, X, loss):
        """The product of the declared starts (as for user forms)."""
        return self._form.start_grid(None, loss)

    def __eq__(self, other):
        return type(other) is type(self) and other.name == self.name and \
            other.config() == self.config()

    def __hash__(self):
        return hash(self.name)


def define_curve_law(name: str, function: Callable, params: Mapping[str, Param], *,
                     features: Sequence[str] = ("lr_area",), jacobian: Callable | None = None,
                     formula: str = "", register: bool = False,
                     overwrite: bool = False) -> UserCurveLaw:
    """Declare a curve law from a function of schedule features (see the module docstring).

    Parameters
    ----------
    name : str
        Name used in fit files and the CLI.
    function : callable
        ``function(**features, **params)`` returning the loss; it must broadcast
        (parameters ``(k, 1)``, features ``(1, n)``).
    params : dict of str to Param
        Parameter declarations (bounds, starts, log storage), as for user forms.
    features : sequence of str
        Which of :data:`FEATURES` the function takes.
    jacobian : callable, optional
        ``jacobian(**features, **params)`` -> ``{param: derivative}``.
    formula : str
    register : bool
        Also :func:`~scalinglaws.laws.curve_laws.register_curve_law` it.

    Examples
    --------
    >>> law = define_curve_law("demo_area", lambda lr_area, L0, A, alpha: L0 + A * lr_area ** -alpha,
    ...                        params={"L0": Param(bounds=(0, None), start=2.0),
    ...                                "A": Param(bounds=(0, None), start=0.5, log=True),
    ...                                "alpha": Param(bounds=(0, 3), start=0.5)})
    >>> law.param_names
    ('L0', 'A', 'alpha')
    """
    law = UserCurveLaw(name, function, params, features=features, jacobian=jacobian,
                       formula=formula)
    if register:
        register_curve_law(law, overwrite=overwrite)
    return law
