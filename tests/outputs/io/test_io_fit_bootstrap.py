"""A fit file's bootstrap section read back with the fit it belongs to
(scalinglaws.outputs.io.fit and uncertainty/bootstrap_doc.py): the restriction and ``k``
of a section written before they were recorded are the fit's; a section that states
others, or a BCa bootstrap without a usable jackknife, is refused naming the field.

The draws are made by hand (no bootstrap run): beta equals alpha and E is 1.7 in every
draw, as the refits of a fit with ``tied={"beta": "alpha"}, fixed={"E": 1.7}`` would
be; the expected labels are written out from the documented wording. The sweep has 108
runs (``generate_sweep``'s 12 sizes x 9 budgets), so a jackknife has 108 rows.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.outputs.io import fit_from_dict, from_json
from scalinglaws.uncertainty.bootstrap_result import BootstrapResult

LABEL = "bootstrap percentile (tie and fixed-parameter bias excluded)"


@pytest.fixture(scope="module")
def restricted():
    """A fit with beta tied to alpha and E fixed, runs counted at k = 8, and a bootstrap
    of hand-made draws that hold the same restriction."""
    runs = sl.load_runs(sl.generate_sweep(rng=0).frame, flops_per_token=8.0)
    fit = sl.fit(runs, tied={"beta": "alpha"}, fixed={"E": 1.7})
    names = list(fit.form.param_names)
    centre = np.array([fit.params[n] for n in names])
    rng = np.random.default_rng(1)
    draws = centre * np.exp(rng.normal(0.0, 0.02, size=(60, len(names))))
    draws[:, names.index("E")] = 1.7
    draws[:, names.index("beta")] = draws[:, names.index("alpha")]
    # one leave-one-out row per run, as bootstrap(..., method="bca") makes them
    jack = centre * np.exp(rng.normal(0.0, 0.005, size=(fit.n_runs, len(names))))
    boot = BootstrapResult(form=fit.form, point=dict(fit.params), draws=draws,
                           objectives=np.zeros(len(draws)), n_resamples=60, n_failed=0,
                           n_best_start_changed=0, confidence_level=0.9, seed=3,
                           jackknife=jack, restriction="tie and fixed-parameter",
                           flops_per_token=8.0)
    return fit.with_bootstrap(boot)


@pytest.fixture
def doc(restricted):
    return copy.deepcopy(json.loads(restricted.to_json()))


def test_a_section_without_its_restriction_takes_the_fits(doc):
    del doc["bootstrap"]["restriction"], doc["bootstrap"]["flops_per_token"]  # older writer
    boot = fit_from_dict(doc, source="old.json").bootstrap
    assert boot.restriction == "tie and fixed-parameter"
    assert boot.flops_per_token == 8.0
    with pytest.warns(sl.ScalingLawsWarning, match="tie and fixed-parameter holds a = 0.5"):
        exponents = boot.allocation_exponents()
    assert exponents["a"].method == LABEL
    assert tuple(exponents["a"]) == (0.5, 0.5, 0.5)  # beta = alpha: a = b = 1/2 (Eq. 4)


@pytest.mark.parametrize("field, value, message", [
    ("restriction", "", r"field bootstrap.restriction = '' disagrees with the fit's ties and "
                        r"fixed parameters, which make it 'tie and fixed-parameter'"),
    ("restriction", "tie", r"field bootstrap.restriction = 'tie' disagrees"),
    ("flops_per_token", 6.0, r"field bootstrap.flops_per_token = 6.0 disagrees with the "
                             r"fit's flops_per_token 8.0"),
])
def test_a_section_stating_another_restriction_or_k_is_refused(doc, field, value, message):
    doc["bootstrap"][field] = value
    with pytest.raises(InputError, match=r"^m.json: " + message):
        fit_from_dict(doc, source="m.json")


@pytest.mark.parametrize("jackknife, message", [
    ([[1, 2]], r"field bootstrap.jackknife must be a list of at least 2 rows of 5 numbers"),
    ([[1, 2, 3, 4, 5]], r"field bootstrap.jackknife must be a list of at least 2 rows"),
    ("x", r"field bootstrap.jackknife must be a list"),
    (None, r"field bootstrap.jackknife is missing: method 'bca' needs"),
])
def test_a_bca_section_needs_a_jackknife_of_one_row_of_p_values_per_run(doc, jackknife,
                                                                        message):
    doc["bootstrap"]["method"] = "bca"
    if jackknife is None:
        del doc["bootstrap"]["jackknife"]
    else:
        doc["bootstrap"]["jackknife"] = jackknife
    with pytest.raises(InputError, match=r"^m.json: " + message):
        from_json(json.dumps(doc), source="m.json")


def test_a_bca_section_with_its_jackknife_loads_and_summarises(doc, restricted):
    doc["bootstrap"]["method"] = "bca"
    boot = fit_from_dict(doc, source="m.json").bootstrap
    np.testing.assert_array_equal(boot.jackknife, restricted.bootstrap.jackknife)
    assert boot.interval_method == "bootstrap BCa"
    boot.summary()  # a jackknife of the wrong shape used to fail here, after loading


def test_the_sweep_has_the_108_runs_the_messages_below_count(restricted):
    assert restricted.n_runs == 108


def test_an_empty_bootstrap_section_is_refused_not_read_as_none(doc):
    # every writer wrote null (no bootstrap) or BootstrapResult.to_dict (never empty); an
    # empty object used to load silently as a fit without a bootstrap
    doc["bootstrap"] = {}
    with pytest.raises(InputError, match=r"^m.json: field bootstrap is an empty object; a fit "
                                         r"without a bootstrap has bootstrap null"):
        from_json(json.dumps(doc), source="m.json")


@pytest.mark.parametrize("rows", [20, 107, 109])
def test_a_jackknife_not_of_one_row_per_run_is_refused(doc, rows):
    doc["bootstrap"]["method"] = "bca"
    doc["bootstrap"]["jackknife"] = doc["bootstrap"]["jackknife"][:1] * rows
    with pytest.raises(InputError, match=rf"^m.json: field bootstrap.jackknife has {rows} rows, "
                                         r"but the fit has 108 runs \(one leave-one-out "
                                         r"estimate per run\)"):
        from_json(json.dumps(doc), source="m.json")


def test_a_fit_without_a_fingerprint_leaves_the_jackknife_rows_unchecked(doc):
    # such a fit takes whatever runs the bootstrap is given (check_fitted_on): its n_runs
    # need not count the runs the jackknife left out
    doc["bootstrap"]["method"] = "bca"
    doc["bootstrap"]["jackknife"] = doc["bootstrap"]["jackknife"][:20]
    doc["data_fingerprint"] = ""
    assert len(fit_from_dict(doc, source="m.json").bootstrap.jackknife) == 20


def test_a_cluster_jackknife_has_at_most_one_row_per_run(doc):
    # with clusters there is one row per cluster left out, and the file does not say how
    # many clusters there were: from 2 up to the fit's runs
    doc["bootstrap"].update(method="bca", clusters="run_id")
    doc["bootstrap"]["jackknife"] = doc["bootstrap"]["jackknife"][:12]
    assert len(fit_from_dict(doc, source="m.json").bootstrap.jackknife) == 12
    doc["bootstrap"]["jackknife"] = doc["bootstrap"]["jackknife"][:1] * 109
    with pytest.raises(InputError, match=r"^m.json: field bootstrap.jackknife has 109 rows, but "
                                         r"the fit has 108 runs \(one leave-one-out estimate "
                                         r"per cluster of 'run_id', each of one run or more\)"):
        fit_from_dict(doc, source="m.json")
