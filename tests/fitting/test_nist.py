"""The engine against the 27 NIST StRD nonlinear least-squares problems.

Every problem is fitted from each of its two certified starting points with
``LawFitter(form, loss="squared", space="linear", starts=[start])`` on a
:class:`~scalinglaws.custom.UserForm` (the models and the parser are in
``tests/nist_models.py``), and every certified parameter and the residual sum
of squares must agree to at least 6 significant digits, NIST's criterion:
``LRE = -log10(|estimate - certified| / |certified|) >= 6``.

Problems that need a setting other than the defaults are listed, with the
reason, in ``nist_models.SETTINGS``; ``bench/bench_nist.py`` prints the table.
"""

from __future__ import annotations

import numpy as np
import pytest
from nist_models import MODELS, REQUIRED_DIGITS, SETTINGS, load_problems, nist_form, solve

NAMES = sorted(MODELS)


@pytest.fixture(scope="module")
def problems(shared_dir):
    return load_problems(shared_dir / "reference" / "nist_strd")


def test_every_problem_is_parsed(problems):
    assert sorted(problems) == NAMES  # the 27 problems, each with a typed model
    for problem in problems.values():
        k = len(problem.param_names)
        assert problem.param_names == tuple(f"b{i}" for i in range(1, k + 1))
        assert len(problem.starts[0]) == len(problem.starts[1]) == len(problem.certified) == k
        assert len(problem.target) == problem.n_observations
        assert all(len(v) == problem.n_observations for v in problem.inputs.values())
        assert problem.difficulty in ("lower", "average", "higher")
    assert set(problems["Nelson"].inputs) == {"x1", "x2"}  # the one two-input problem
    assert np.allclose(problems["Nelson"].target[0], np.log(15.0))  # it models log(y)
    assert problems["Misra1a"].certified_rss == pytest.approx(1.2455138894e-01, rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_analytic_jacobians_match_finite_differences(problems, name):
    problem = problems[name]
    form = nist_form(problem)
    for point in (problem.certified, problem.starts[0], problem.starts[1]):
        params = dict(zip(problem.param_names, point))
        assert form.jacobian_error(params, **problem.inputs) < 1e-4


def test_settings_name_known_problems_and_give_a_reason():
    for name, setting in SETTINGS.items():
        assert name in MODELS
        assert len(setting.get("reason", "")) > 40, name
        assert set(setting) <= {"log", "bounds", "max_iter", "rss", "rss_digits", "reason"}


@pytest.mark.parametrize("start", [1, 2])
@pytest.mark.parametrize("name", NAMES)
def test_certified_values_to_six_digits(problems, name, start):
    outcome = solve(problems[name], start)
    low = {p: round(d, 2) for p, d in outcome.param_lre.items() if d < REQUIRED_DIGITS}
    assert not low, f"{name} start {start} ({outcome.setting}): parameters with LRE < 6: {low}"
    required = SETTINGS.get(name, {}).get("rss_digits", REQUIRED_DIGITS)
    assert outcome.rss_lre >= required, (
        f"{name} start {start} ({outcome.setting}): RSS {outcome.rss!r} has LRE "
        f"{outcome.rss_lre:.2f}")
