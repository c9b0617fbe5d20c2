"""Tests of analysis/diagnose.py: the verdict (under-trained, over-trained, undetermined)
stands on the interval of D*(N)/D when there is one, in the text and in the fields a
program reads alike. The diagnosis' numbers are checked against Hoffmann's Eq 4 by hand
in test_extrapolate.py."""

from __future__ import annotations

import json

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import extrapolate as ex

# Besiroglu et al. 2024 Table 1 (the shared sheet's section 3)
BESIROGLU = dict(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)


@pytest.fixture(scope="module")
def law():
    return sl.FitResult.from_params("chinchilla", BESIROGLU)


def draws(sigma, n=400, seed=0):
    """Parameter vectors scattered by a relative ``sigma`` around Besiroglu's law."""
    rng = np.random.default_rng(seed)
    point = np.array(list(BESIROGLU.values()))
    return point * (1 + sigma * rng.standard_normal((n, len(point))))


def _ratios_line(text):
    return next(line for line in text.splitlines() if line.lstrip().startswith("ratios"))


def test_an_interval_that_includes_one_gives_no_side(law):
    """The reviewer's case: the point says under-trained, the interval spans 1."""
    result = ex.diagnose(law, 175e9, 300e9, draws=draws(0.1))
    low, high = result.interval("tokens_ratio")
    assert result.tokens_ratio > 1 and low < 1 < high  # the case: spans compute-optimal
    assert result.verdict == "undetermined"
    text = str(result)
    assert _ratios_line(text).endswith("-> undetermined")
    assert ("(under-trained by the point estimate, but the 95% interval includes 1: "
            "it may be compute-optimal)") in text
    assert "-> under-trained" not in text
    assert json.loads(json.dumps(result.to_dict()))["verdict"] == "undetermined"
    assert result.to_frame()["verdict"].tolist() == ["undetermined"]


def test_an_interval_on_one_side_states_that_side(law):
    """Narrow draws: GPT-3 (ratio ~10 here) is under-trained at 95% and Chinchilla
    (70B, 1.4T: ratio 0.92 by hand in test_extrapolate.py) over-trained."""
    under = ex.diagnose(law, 175e9, 300e9, draws=draws(0.002))
    assert under.interval("tokens_ratio")[0] > 1 and under.verdict == "under-trained"
    assert _ratios_line(str(under)).endswith("-> under-trained (95% interval above 1)")
    over = ex.diagnose(law, 70e9, 1.4e12, draws=draws(0.002), confidence_level=0.8)
    assert over.interval("tokens_ratio")[1] < 1 and over.verdict == "over-trained"
    assert _ratios_line(str(over)).endswith("-> over-trained (80% interval below 1)")


def test_several_models_each_get_their_verdict(law):
    # GPT-3; 175B on 11T tokens (ratio 0.28); Chinchilla (0.92, interval [0.79, 1.05])
    result = ex.diagnose(law, [175e9, 175e9, 70e9], [300e9, 1.1e13, 1.4e12],
                         draws=draws(0.002))
    assert result.verdict.tolist() == ["under-trained", "over-trained", "undetermined"]
    assert not result.verdict.flags.writeable
    assert result.to_frame()["verdict"].tolist() == result.verdict.tolist()
    blocks = str(result).split("\n\n")
    assert [_ratios_line(b).split("-> ")[1].split(" ")[0] for b in blocks] \
        == result.verdict.tolist()


def test_without_draws_the_verdict_is_the_point_estimates(law):
    result = ex.diagnose(law, 175e9, 300e9)
    assert result.verdict == "under-trained" and result.intervals == {}
    assert _ratios_line(str(result)).endswith("-> under-trained")


def test_the_fits_bootstrap_gives_the_verdict_its_level(law):
    runs = sl.generate_sweep(rng=0)
    result = sl.fit(runs)
    boot = sl.bootstrap(result, runs, 60, rng=0, confidence_level=0.8, progress=False)
    diagnosis = ex.diagnose(result.with_bootstrap(boot), 7e9, 1.4e11)
    assert diagnosis.confidence_level == 0.8 and diagnosis.n_draws == 60
    assert "80% over 60 draws" in str(diagnosis)
    assert diagnosis.verdict in ("under-trained", "over-trained", "undetermined")
    low, high = diagnosis.interval("tokens_ratio")
    assert (diagnosis.verdict == "undetermined") == (low <= 1 <= high)
