"""Tests of uncertainty/bootstrap_doc.py: each field of a bootstrap section is checked on
its own, and a bad one is refused naming the file and the field (``fit.json: field
bootstrap.X ...``), never truncated (a seed of 1.5) or accepted out of range.

The section is a hand-built result's ``to_dict`` (draws made here, no fit); the counts
and values in the messages are the ones set by hand below.
"""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws import InputError
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.published import HOFFMANN_2022_ROUNDED
from scalinglaws.uncertainty.bootstrap_result import BootstrapResult

NAMES = ("E", "A", "B", "alpha", "beta")


@pytest.fixture(scope="module")
def boot():
    form = get_form("chinchilla")
    rng = np.random.default_rng(0)
    centre = np.array([HOFFMANN_2022_ROUNDED[n] for n in NAMES])
    draws = centre * np.exp(rng.normal(0.0, 0.02, size=(40, 5)))
    return BootstrapResult(form=form, point=dict(HOFFMANN_2022_ROUNDED), draws=draws,
                           objectives=np.zeros(len(draws)), n_resamples=45, n_failed=3,
                           n_best_start_changed=0, confidence_level=0.9, seed=7,
                           n_degenerate=2)


def _load(boot, **changes):
    doc = {**boot.to_dict(), **changes}
    return BootstrapResult.from_dict(doc, boot.form, boot.point, source="fit.json")


def test_a_good_section_reads_back_as_written(boot):
    again = _load(boot)
    assert (again.n_resamples, again.n_failed, again.n_degenerate, again.seed) == (45, 3, 2, 7)
    assert again.confidence_level == 0.9 and again.method == "percentile"
    np.testing.assert_array_equal(again.draws, boot.draws)


@pytest.mark.parametrize("changes, message", [
    ({"method": "Percentile"}, r"field bootstrap.method must be one of percentile, basic, "
                               r"bca, got 'Percentile'"),
    ({"method": "garbage"}, r"field bootstrap.method must be one of .* got 'garbage'"),
    ({"confidence_level": 1.5}, r"field bootstrap.confidence_level must be a number in "
                                r"\(0, 1\), got 1.5"),
    ({"confidence_level": True}, r"field bootstrap.confidence_level must be a number"),
    ({"seed": 1.5}, r"field bootstrap.seed must be a non-negative integer or null, got 1.5"),
    ({"seed": "garbage"}, r"field bootstrap.seed must be a non-negative integer"),
    ({"seed": -1}, r"field bootstrap.seed must be a non-negative integer"),
    ({"n_resamples": -5}, r"field bootstrap.n_resamples must be an integer >= 2, got -5"),
    ({"n_resamples": 45.5}, r"field bootstrap.n_resamples must be an integer >= 2"),
    ({"n_failed": 100}, r"field bootstrap.n_resamples = 45 is fewer than the draws \(40\) "
                        r"plus n_failed \(100\) plus n_degenerate \(2\)"),
    ({"n_failed": "x"}, r"field bootstrap.n_failed must be an integer >= 0, got 'x'"),
    ({"n_best_start_changed": 41}, r"field bootstrap.n_best_start_changed = 41 exceeds the "
                                   r"40 draws"),
    ({"groups": 3}, r"field bootstrap.groups must be a column name or null, got 3"),
    ({"flops_per_token": 0}, r"field bootstrap.flops_per_token must be a positive number"),
    ({"param_names": ["E"]}, r"field bootstrap.param_names must be"),
    ({"draws": [[1, 2]]}, r"field bootstrap.draws must be a list of .* rows of 5 numbers"),
])
def test_a_bad_field_is_refused_naming_the_file_and_the_field(boot, changes, message):
    with pytest.raises(InputError, match=r"^fit.json: " + message):
        _load(boot, **changes)


@pytest.mark.parametrize("field", ["method", "confidence_level", "n_resamples", "n_failed",
                                   "draws"])
def test_a_missing_required_field_is_named(boot, field):
    doc = boot.to_dict()
    del doc[field]
    with pytest.raises(InputError, match=rf"^fit.json: field bootstrap.{field} is missing$"):
        BootstrapResult.from_dict(doc, boot.form, boot.point, source="fit.json")


def test_a_section_that_is_not_an_object_is_named(boot):
    with pytest.raises(InputError, match=r"^fit.json: field bootstrap must be an object"):
        BootstrapResult.from_dict([1], boot.form, boot.point, source="fit.json")


def test_an_empty_section_is_refused(boot):
    with pytest.raises(InputError, match=r"^fit.json: field bootstrap is an empty object"):
        BootstrapResult.from_dict({}, boot.form, boot.point, source="fit.json")


def _with_jackknife(boot, rows: int, **changes) -> dict:
    jack = np.tile(boot.draws[:1], (rows, 1))  # the values do not matter here, the rows do
    return {**boot.to_dict(), "method": "bca", "jackknife": jack.tolist(), **changes}


def test_jackknife_rows_are_checked_against_the_fits_runs_when_given(boot):
    doc = _with_jackknife(boot, 30)
    for n_runs in (None, 30):  # unknown runs: no check; 30 runs: one row each
        again = BootstrapResult.from_dict(doc, boot.form, boot.point, source="fit.json",
                                          n_runs=n_runs)
        assert again.jackknife.shape == (30, 5)
    with pytest.raises(InputError, match=r"^fit.json: field bootstrap.jackknife has 30 rows, "
                                         r"but the fit has 31 runs \(one leave-one-out "
                                         r"estimate per run\)$"):
        BootstrapResult.from_dict(doc, boot.form, boot.point, source="fit.json", n_runs=31)


def test_a_cluster_jackknife_may_have_fewer_rows_than_runs_never_more(boot):
    doc = _with_jackknife(boot, 30, clusters="run_id")
    assert len(BootstrapResult.from_dict(doc, boot.form, boot.point, n_runs=90).jackknife) == 30
    with pytest.raises(InputError, match=r"field bootstrap.jackknife has 30 rows, but the fit "
                                         r"has 29 runs \(one leave-one-out estimate per cluster "
                                         r"of 'run_id', each of one run or more\)"):
        BootstrapResult.from_dict(doc, boot.form, boot.point, source="fit.json", n_runs=29)
