"""_text.counted: a count and its noun in the right number, in every message that counts
runs (before: "1 runs cannot determine 5 free parameters", "1 runs (1 distinct sizes)")."""

from __future__ import annotations

import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws._text import counted


@pytest.mark.parametrize("n, noun, plural, text", [
    (1, "run", None, "1 run"), (0, "run", None, "0 runs"), (2, "run", None, "2 runs"),
    (1, "distinct size", None, "1 distinct size"), (3, "matrix", "matrices", "3 matrices"),
    (1, "matrix", "matrices", "1 matrix"), (1.0, "run", None, "1.0 run"),
])
def test_counted(n, noun, plural, text):
    assert counted(n, noun, plural) == text


def test_a_single_run_is_one_run_in_the_message():
    runs = sl.load_runs({"N": [1e9], "D": [2e10], "loss": [2.5]})
    with pytest.raises(InputError, match=r"^<dict>: 1 run cannot determine 5 free parameters"):
        sl.fit(runs)
    with pytest.raises(InputError, match=r"would drop all 1 run$"):
        runs.exclude_top_loss(1)
