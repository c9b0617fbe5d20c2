r"""Laws of downstream task accuracy: step 2 of a two-step prediction, and the direct law.

A two-step prediction (Bhagia et al. 2024, the OLMo model ladder; Llama 3) maps
(N, D) to a *task loss* with a loss law (step 1, e.g. ``chinchilla`` fitted on the task
loss), then the task loss to an *accuracy* (step 2). The step-2 forms here take one input,
``task_loss`` (whatever the table holds as task loss: bits per byte of the correct answer
in the ladder), and return an accuracy in [0, 1]:

=========================  ==================================================================
``task_sigmoid``           acc = a / (1 + exp(-k (x - x0))) + b  (the ladder's step 2;
                           a in [-1, 0], b in [0, 1]: b is the accuracy at zero loss, a + b
                           the floor at large loss)
``task_sigmoid_floor``     acc = floor + (ceiling - floor) / (1 + exp(k (x - x0))): the same
                           family written so that the floor is a parameter, which
                           ``fixed={"floor": chance}`` pins at the task's chance level
``task_logistic_log``      acc = floor + (ceiling - floor) / (1 + (x / x0)^k): a logistic in
                           log-loss (x > 0)
=========================  ==================================================================

The *direct* law skips the task loss (Krajewski et al. 2025, arXiv 2512.08894): the
negative log-accuracy is a power law, ``-log acc = A / N^alpha + B / D^beta``
(``direct_nd``; fit it to ``-log(acc)``), or ``A C^-alpha`` at a fixed tokens per
parameter, which is ``kaplan_c`` fitted to ``-log(acc)``.

All four are fitted by the package's engine (:class:`~scalinglaws.LawFitter`); the
step-2 forms through :meth:`~scalinglaws.LawFitter.fit_arrays` with the input
``task_loss`` (the ladder's fit: squared loss in linear space, as ``scipy.curve_fit``).
"""

from __future__ import annotations

import itertools

import numpy as np

from .forms import Form, _jacobian, _logsumexp, log_from_linear, register_form

__all__ = [
    "BUILTIN_FORMS",
    "STEP2_FORMS",
    "SYNTHETIC_STEP1",
    "SYNTHETIC_STEP2",
    "TASK_INPUT",
    "DirectND",
    "TaskLogisticLog",
    "TaskSigmoid",
    "TaskSigmoidFloor",
    "synthetic_task_table",
]

#: the input name of the step-2 forms
TASK_INPUT = "task_loss"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)) without overflow (tanh form)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


class _Logistic(Form):
    """A logistic curve in ``t`` (``t = x`` or ``log x``) from a high plateau to a low one.

    Subclasses give the parametrisation; values are accuracies, computed in linear
    space (a log-space fit takes their log, NaN where an accuracy is not positive).
    """

    inputs = (TASK_INPUT,)

    def _terms(self, theta, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def log_value_and_jacobian(self, theta, X):
        """``log f`` ``(k, n)`` and ``J / f`` ``(k, p, n)``; NaN where ``f <= 0``."""
        return log_from_linear(*self.value_and_jacobian(theta, X))

    def predict(self, params, **inputs) -> np.ndarray:
        """Predicted accuracy for public ``params`` at broadcast ``task_loss`` values.

        Examples
        --------
        >>> TaskSigmoid().predict(dict(a=-0.75, x0=0.6, k=5.0, b=1.0), task_loss=[0.6, 2.0])
        array([0.625     , 0.25068329])
        """
        X, shape = self._broadcast_inputs(inputs)
        theta = self.to_internal(self.params_vector(params))[None, :]
        out = self.value_and_jacobian(theta, X)[0][0].reshape(shape)
        return out[()] if out.ndim == 0 else out

    def inverse(self, params, accuracy) -> np.ndarray:
        """The task loss at which the curve reaches ``accuracy`` (NaN outside its range)."""
        values = self.params_vector(params)
        floor, ceiling, center, k = self._plateaus(dict(zip(self.param_names, values)))
        accuracy = np.asarray(accuracy, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = (ceiling - accuracy) / (ceiling - floor)  # = sigmoid(k (t - center))
            t = center + np.log(share / (1.0 - share)) / k
        t = np.where((share > 0) & (share < 1), t, np.nan)
        return self._from_t(t)

    def _from_t(self, t):
        return t

    def _plateaus(self, p):  # pragma: no cover - abstract
        raise NotImplementedError

    def start_grid(self, X, loss):
        x = np.asarray(X[TASK_INPUT], dtype=float)
        y = np.asarray(loss, dtype=float)
        t = self._t(x)
        spread = float(np.ptp(t)) or 1.0
        top = float(np.clip(np.max(y), 0.05, 1.0))
        starts = []
        for floor, ceiling, center, slope in itertools.product(
                (0.0, 0.25, 0.5), sorted({1.0, top}), np.quantile(t, [0.1, 0.5, 0.9]),
                4.0 / spread * np.array([0.25, 1.0, 4.0, 16.0])):
            if floor < ceiling:
                starts.append(self._internal_from(floor, ceiling, center, slope))
        return np.array(starts, dtype=float)

    def _t(self, x):
        return x


class TaskSigmoid(_Logistic):
    r"""The ladder's step 2 (Bhagia et al. 2024, Eq. 2): accuracy against task loss.

    .. math::

        \mathrm{acc}(x) = \frac{a}{1 + e^{-k (x - x_0)}} + b

    with ``x`` the task loss. ``b`` is the accuracy at zero loss, ``a + b`` the floor
    at large loss (where a task's accuracy meets its chance level), ``x0`` the
    midpoint and ``k`` the steepness. Default bounds are the ladder's: ``a`` in
    [-1, 0], ``x0`` and ``k`` >= 0, ``b`` in [0, 1]; the repository starts from
    ``(chance - 1, 0.9, 3, 1)``.
    """

    name = "task_sigmoid"
    param_names = ("a", "x0", "k", "b")
    log_params = frozenset()
    formula = "acc = a / (1 + exp(-k * (task_loss - x0))) + b"
    positive_inputs = False  # the ladder's anchor point sits at task_loss = 0

    def default_bounds(self):
        return np.array([-1.0, 0.0, 0.0, 0.0]), np.array([0.0, np.inf, np.inf, 1.0])

    def value_and_jacobian(self, theta, X):
        x = np.asarray(X[TASK_INPUT], dtype=float)[None, :]
        a, x0, k, b = (theta[:, i:i + 1] for i in range(4))
        gap = x - x0
        s = _sigmoid(k * gap)
        slope = a * s * (1.0 - s)
        value = a * s + b
        return value, _jacobian([s, -k * slope, gap * slope, np.ones_like(s)], value.shape)

    def _plateaus(self, p):
        return p["a"] + p["b"], p["b"], p["x0"], p["k"]

    def _internal_from(self, floor, ceiling, center, slope):
        return [floor - ceiling, center, slope, ceiling]


class TaskSigmoidFloor(_Logistic):
    r"""The ladder's sigmoid with its floor as a parameter (fix it at chance).

    .. math::

        \mathrm{acc}(x) = f + \frac{c - f}{1 + e^{k (x - x_0)}}

    the same curves as ``task_sigmoid`` (``a = f - c``, ``b = c``), so that
    ``LawFitter("task_sigmoid_floor", fixed={"floor": 0.25})`` fits a sigmoid whose
    large-loss floor is a four-way task's chance level. Bounds: ``floor`` and
    ``ceiling`` in [0, 1], ``x0`` and ``k`` >= 0.
    """

    name = "task_sigmoid_floor"
    param_names = ("floor", "ceiling", "x0", "k")
    log_params = frozenset()
    formula = "acc = floor + (ceiling - floor) / (1 + exp(k * (task_loss - x0)))"
    positive_inputs = False

    def default_bounds(self):
        return np.array([0.0, 0.0, 0.0, 0.0]), np.array([1.0, 1.0, np.inf, np.inf])

    def value_and_jacobian(self, theta, X):
        t = self._t(np.asarray(X[TASK_INPUT], dtype=float))[None, :]
        floor, ceiling, center, k = (theta[:, i:i + 1] for i in range(4))
        gap = t - center
        s = _sigmoid(k * gap)
        drop = ceiling - floor
        slope = drop * s * (1.0 - s)
        value = ceiling - drop * s
        return value, _jacobian([s, 1.0 - s, k * slope, -gap * slope], value.shape)

    def _plateaus(self, p):
        return p["floor"], p["ceiling"], p["x0"], p["k"]

    def _internal_from(self, floor, ceiling, center, slope):
        return [floor, ceiling, center, slope]


class TaskLogisticLog(TaskSigmoidFloor):
    r"""A logistic in the log of the task loss.

    .. math::

        \mathrm{acc}(x) = f + \frac{c - f}{1 + (x / x_0)^k}

    i.e. ``task_sigmoid_floor`` in ``log x``: symmetric on a log-loss axis rather than
    a linear one. ``x0`` is stored as its log (it must be positive), and so must every
    task loss.
    """

    name = "task_logistic_log"
    log_params = frozenset({"x0"})
    formula = "acc = floor + (ceiling - floor) / (1 + (task_loss / x0)**k)"
    positive_inputs = True

    def default_bounds(self):
        return np.array([0.0, 0.0, -30.0, 0.0]), np.array([1.0, 1.0, 30.0, np.inf])

    def _t(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    def _plateaus(self, p):
        return p["floor"], p["ceiling"], np.log(p["x0"]), p["k"]

    def _from_t(self, t):
        return np.exp(t)


class DirectND(Form):
    r"""The direct law of accuracy in (N, D) (Krajewski et al. 2025): no task loss.

    .. math::

        -\log \mathrm{acc}(N, D) = \frac{A}{N^\alpha} + \frac{B}{D^\beta}

    The form's value is ``-log acc`` (positive, and 0 at perfect accuracy): fit it to
    ``-log(accuracy)`` like a loss (``log A``, ``log B`` stored internally, Huber on
    log residuals by default) and read the accuracy back as ``exp(-value)``.
    """

    name = "direct_nd"
    inputs = ("N", "D")
    param_names = ("A", "B", "alpha", "beta")
    log_params = frozenset({"A", "B"})
    formula = "-log(acc) = A / N**alpha + B / D**beta"

    def log_value_and_jacobian(self, theta, X):
        lnN = np.log(X["N"])[None, :]
        lnD = np.log(X["D"])[None, :]
        a, b, alpha, beta = (theta[:, i:i + 1] for i in range(4))
        value, (s_a, s_b) = _logsumexp(a - alpha * lnN, b - beta * lnD)
        return value, _jacobian([s_a, s_b, -s_a * lnN, -s_b * lnD], value.shape)

    def start_grid(self, X, loss):
        """For each (alpha, beta) of a grid, the least-squares (A, B) of the linear model
        ``-log acc = A N^-alpha + B D^-beta`` (variable projection), plus Hoffmann-style
        grid points: a start near the optimum whatever the scale of A and B."""
        lnN, lnD = np.log(X["N"]), np.log(X["D"])
        target = np.asarray(loss, dtype=float)
        starts = []
        for alpha, beta in itertools.product(np.linspace(0.05, 1.5, 16), repeat=2):
            design = np.stack([np.exp(-alpha * lnN), np.exp(-beta * lnD)], axis=1)
            coef = np.linalg.lstsq(design, target, rcond=None)[0]
            coef = np.maximum(coef, 1e-6 * np.max(target) / np.max(design, axis=0))
            starts.append([np.log(coef[0]), np.log(coef[1]), alpha, beta])
        grid = itertools.product(np.arange(0, 26, 5), np.arange(0, 26, 5),
                                 np.arange(0, 2.01, 0.5), np.arange(0, 2.01, 0.5))
        return np.concatenate([np.array(starts), np.array(list(grid), dtype=float)])


#: forms of this module, registered on first lookup (``forms._BUILTIN_MODULES``)
BUILTIN_FORMS = (TaskSigmoid(), TaskSigmoidFloor(), TaskLogisticLog(), DirectND())
for _form in BUILTIN_FORMS:
    register_form(_form)

#: the forms whose input is the task loss (step 2 of a two-step prediction)
STEP2_FORMS = tuple(form.name for form in BUILTIN_FORMS if form.inputs == (TASK_INPUT,))


# ----------------------------------------------------------------------------- synthetic

#: Step-1 truth of :func:`synthetic_task_table`: the ladder's HellaSwag fit (task loss in
#: bits per byte; Bhagia et al. 2024, refitted in the shared data's README)
SYNTHETIC_STEP1 = {"E": 0.5019, "A": 11.23, "B": 60.37, "alpha": 0.1955, "beta": 0.2565}
#: Step-2 truth of :func:`synthetic_task_table` (``task_sigmoid``): the ladder's HellaSwag
#: curve
SYNTHETIC_STEP2 = {"a": -0.730, "x0": 0.767, "k": 12.74, "b": 0.992}


def synthetic_task_table(*, sizes=(190e6, 370e6, 760e6, 1.3e9), multiples=(1, 2, 5, 10),
                         n_checkpoints: int = 40, step1=None, step2=None,
                         run_sd: float = 0.005, checkpoint_sd: float = 0.003,
                         accuracy_sd: float = 0.005, chance: float = 0.25,
                         task: str = "synthetic", rng=None):
    """A ladder of runs whose task loss and accuracy follow known laws, with noise.

    Runs: every size in ``sizes`` trained to ``20 * multiple`` tokens per parameter, each
    logged at ``n_checkpoints`` evenly spaced token counts. At a checkpoint of a run at
    (N, D) the task loss is ``chinchilla(step1)(N, D) * exp(u + e)`` (``u`` ~ N(0,
    ``run_sd``) once per run, ``e`` ~ N(0, ``checkpoint_sd``) per checkpoint) and the
    accuracy is ``task_sigmoid(step2)`` of that loss plus N(0, ``accuracy_sd``) noise.
    Checkpoints here are what a run stopped there would reach (no learning-rate schedule).

    Returns
    -------
    TaskTable
        With ``run_id``, ``N``, ``D``, ``task``, ``task_loss``, ``accuracy``, ``chance``
        and ``paper_role = "ladder_fit"``.

    Examples
    --------
    >>> table = synthetic_task_table(rng=0)
    >>> len(table), table.tasks
    (640, ('synthetic',))
    """
    import pandas as pd

    from .._validation import check_rng
    from ..data.tasks import load_tasks
    from .forms import get_form

    rng = check_rng("rng", rng)
    step1 = dict(SYNTHETIC_STEP1 if step1 is None else step1)
    step2 = dict(SYNTHETIC_STEP2 if step2 is None else step2)
    rows = []
    for n in sizes:
        for multiple in multiples:
            final = 20.0 * multiple * n
            tokens = final * np.arange(1, n_checkpoints + 1) / n_checkpoints
            shift = rng.normal(0.0, run_sd)
            loss = get_form("chinchilla").predict(step1, N=n, D=tokens) * np.exp(
                shift + rng.normal(0.0, checkpoint_sd, tokens.size))
            accuracy = TaskSigmoid().predict(step2, task_loss=loss) + rng.normal(
                0.0, accuracy_sd, tokens.size)
            rows.append(pd.DataFrame({
                "run_id": f"{n:.3g}-{multiple}x", "N": n, "D": tokens, "task": task,
                "task_loss": loss, "accuracy": np.clip(accuracy, 0.0, 1.0), "chance": chance,
                "paper_role": "ladder_fit"}))
    return load_tasks(pd.concat(rows, ignore_index=True))
