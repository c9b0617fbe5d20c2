"""A parameter that runs into a flat valley down to its bound must be reported on the bound.

Issue 10 item 5: on Muennighoff et al.'s 308 runs with a loss (repeated data included),
the Chinchilla fit with squared log residuals sends E to zero: the law trades E for
A / N^alpha with alpha ~ 0.076, which is nearly constant over these sizes, so the
objective is flat in log E from about e^-20 down to the bound e^-30. The search stops
anywhere on that flat stretch (measured: log E = -25.17, E = 1.2e-11). The bound test
in ``LawFitter._result`` counts a parameter on its bound only within
``_bound_tolerance(lower)`` = 1e-8 (1 + 30) = 3.1e-7 of it in log E, 4.8 log units
short here, and E's relative gradient (1.4e-5) passes the 1e-4 stationarity test, so
the fit said ``status 0, at_bounds=()`` with E effectively at its bound. Now each free
parameter is also tried at its bounds; where the objective does not rise, it is reported
there (status 1) and an IdentifiabilityWarning says it is not identified.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.fitting.estimator import LawFitter


@pytest.fixture(scope="module")
def datablations_fit(shared_dir):
    table = pd.read_csv(shared_dir / "datasets" / "muennighoff2023_datablations"
                        / "datablations_c4_runs.csv")
    table = table[table["loss"].notna()]
    runs = sl.Runs.from_arrays(N=table["N"].to_numpy(float), D=table["D"].to_numpy(float),
                               loss=table["loss"].to_numpy(float))
    fitter = LawFitter("chinchilla", loss="squared")
    with warnings.catch_warnings():
        # the fit warns that E is on its bound and not identified; the tests check the result
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        result = fitter.fit(runs)
    return fitter, runs, result


def _objective_with(fitter, runs, result, **public):
    params = {**result.params, **public}
    theta = fitter.form.to_internal(fitter.form.params_vector(params))
    free = [fitter.form.param_names.index(n) for n in fitter.free]
    r, _ = fitter.residual_function(runs)(theta[free][None, :])
    return float(fitter.loss.rho(r[0]).sum())


def test_the_objective_is_flat_in_E_down_to_its_bound(datablations_fit):
    """The premise of the xfail below, checked on its own: the fitted E is negligible and
    the objective at E = e^-30 (the default lower bound) is the same to 1e-12."""
    fitter, runs, result = datablations_fit
    assert result.params["E"] < 1e-6
    at_fit = _objective_with(fitter, runs, result)
    at_bound = _objective_with(fitter, runs, result, E=float(np.exp(-30.0)))
    assert at_fit == pytest.approx(result.objective, rel=1e-12)
    assert abs(at_bound - at_fit) <= 1e-12 * at_fit


def test_a_parameter_on_a_flat_stretch_to_its_bound_is_reported_at_the_bound(shared_dir,
                                                                            datablations_fit):
    """Failed before the fix (status 0, at_bounds=(), E = 1.2e-11): now E sits on its bound,
    the status says so, and the fit warns that E is not identified."""
    fitter, runs, result = datablations_fit
    assert "E" in result.at_bounds
    assert result.status == 1 and "not identify" in result.message
    assert result.params["E"] == pytest.approx(np.exp(-30.0))
    assert result.diagnostics["flat_to_bound"] == ("E",)
    with pytest.warns(sl.IdentifiabilityWarning, match="E not identified"):
        with pytest.warns(sl.ConvergenceWarning, match="bound for E"):
            fitter.fit(runs)


def test_an_identified_optimum_is_not_moved(datablations_fit):
    runs = sl.generate_sweep(rng=0)
    result = sl.fit(runs)
    assert result.status == 0 and result.at_bounds == ()
    assert "flat_to_bound" not in result.diagnostics
