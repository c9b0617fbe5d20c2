"""_draws: the one rule for how many resamples a resampled interval takes, shared by the
bootstrap (uncertainty) and the IsoFLOP and envelope resampling (fitting): the fewest
resamples accepted, and the warning below the draws a percentile interval needs (before:
isoflop_fit and envelope_fit took one resample and printed a zero-width interval)."""

from __future__ import annotations

import pytest

from scalinglaws import BootstrapResamplingWarning, InputError
from scalinglaws._draws import MIN_RESAMPLES, check_n_resamples, draws_needed, warn_few_draws


def test_the_fewest_resamples_is_two_and_zero_is_none_only_where_allowed():
    assert MIN_RESAMPLES == 2
    assert check_n_resamples(2) == 2 and check_n_resamples(0, none=True) == 0
    with pytest.raises(InputError, match=r"^`n_resamples` must be an integer >= 2, got 1$"):
        check_n_resamples(1)
    with pytest.raises(InputError, match=r"^`n_resamples` must be an integer >= 2, got 0$"):
        check_n_resamples(0)
    for bad in (1, -1, 2.5, True):
        with pytest.raises(InputError, match=r"^`n_resamples` must be 0 \(no resampling\) or "
                                             r"an integer >= 2, got "):
            check_n_resamples(bad, none=True)


def test_the_few_draws_warning_names_what_resampled():
    assert draws_needed(0.95) == 151
    with pytest.warns(BootstrapResamplingWarning, match=r"^isoflop_fit: 10 draws are too few "
                                                        r"for a 95% percentile interval"):
        warn_few_draws(10, 0.95, label="isoflop_fit")
    with pytest.warns(BootstrapResamplingWarning, match=r"^bootstrap: 150 draws are too few"):
        warn_few_draws(150, 0.95)
    warn_few_draws(151, 0.95)  # enough: silent (warnings are errors here)
