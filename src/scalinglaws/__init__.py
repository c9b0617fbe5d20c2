"""scalinglaws: fit, reproduce and extrapolate neural scaling laws.

The main entry points::

    runs = load_runs("sweep.csv")            # validated table of runs
    result = fit(runs, "chinchilla")         # frozen FitResult
    result.predict(N=70e9, D=1.4e12)
    result.save("fit.json"); load("fit.json")

Importing the package does not import matplotlib.
"""

__version__ = "0.1.0"

from ._exceptions import ConvergenceWarning, IdentifiabilityWarning, InputError, ScalingLawsWarning
from .backtest import BacktestResult, backtest
from .custom import Param, UserForm, define_form
from .datablations import MUENNIGHOFF_2023, DataConstrained, data_constrained_optimal
from .fit import FitResult, LawFitter, fit
from .forms import Chinchilla, Form, KaplanND, PowerLaw, available_forms, get_form, register_form
from .io import from_json, load, save, to_json
from .isoflop import EnvelopeResult, IsoFLOPResult, envelope_fit, isoflop_fit
from .losses import Huber, Squared
from .runs import Runs, load_runs
from .synthetic import generate_sweep

__all__ = [
    "__version__",
    "InputError", "ScalingLawsWarning", "ConvergenceWarning", "IdentifiabilityWarning",
    "load_runs", "Runs",
    "Form", "Chinchilla", "PowerLaw", "KaplanND", "get_form", "register_form", "available_forms",
    "define_form", "Param", "UserForm", "backtest", "BacktestResult",
    "Huber", "Squared",
    "fit", "LawFitter", "FitResult",
    "to_json", "from_json", "save", "load",
    "generate_sweep",
    "isoflop_fit", "envelope_fit", "IsoFLOPResult", "EnvelopeResult",
    "DataConstrained", "MUENNIGHOFF_2023", "data_constrained_optimal",
]
