"""Tests of scalinglaws._exceptions: the warnings point at the user's line."""

from __future__ import annotations

import warnings

import numpy as np

import scalinglaws as sl
from scalinglaws import IdentifiabilityWarning
from scalinglaws._exceptions import user_stacklevel


def _unidentified_runs():
    # D = N / 2 for every run: N and D move together, so the fit cannot separate B from E
    runs = sl.generate_sweep(rng=0).to_frame()
    return runs.assign(D=runs["N"] / 2)[["N", "D", "loss"]]


def test_a_fit_s_warnings_point_at_the_caller_whatever_the_entry_point():
    frame = _unidentified_runs()
    for call in (lambda: sl.fit(frame), lambda: sl.LawFitter().fit(frame)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        ours = [w for w in caught if issubclass(w.category, IdentifiabilityWarning)]
        assert ours, [str(w.message) for w in caught]
        # before: sl.fit's pointed at fitting/estimator.py (one level too shallow)
        assert {w.filename for w in ours} == {__file__}


def test_user_stacklevel_counts_the_frames_inside_the_package():
    # called from here (outside the package) the warning belongs to the caller's frame
    assert user_stacklevel() == 1
    assert np.isfinite(user_stacklevel())


def test_isoflop_warnings_point_at_the_caller_with_and_without_groups():
    frame = sl.generate_sweep(rng=0).to_frame()
    frame = frame[~((frame["budget"] == frame["budget"].max())
                    & (frame["N"] > frame["N"].median()))]  # one budget's minimum unbracketed
    for options in ({}, {"groups": "recipe"}):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sl.isoflop_fit(frame.assign(recipe="a"), budget="budget", **options)
        assert caught and {w.filename for w in caught} == {__file__}, \
            [(w.filename, str(w.message)[:60]) for w in caught]
