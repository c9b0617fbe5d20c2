"""What the coverage simulations share: the Monte Carlo band a count of intervals holding
the truth must fall in, how far a count may move between CPUs, and the README as the
simulations read their quoted figures back from it."""

from __future__ import annotations

import math
import re
from pathlib import Path

#: data sets a count may differ by between CPUs whose numpy kernels round differently
#: (a chaotic fit lands elsewhere: AVX-512 against AVX2, README "Benchmarks")
CPU_ROUNDING = 2

README = Path(__file__).resolve().parents[1] / "README.md"


def band(n: int, level: float = 0.95) -> tuple[int, int]:
    """Counts of ``n`` simulated data sets within 3 Monte Carlo standard errors (binomial)
    of the nominal ``level``: 181-199 of 200, 62-70 of 70 (where n of n cannot be too
    many)."""
    error = math.sqrt(level * (1 - level) * n)
    return math.ceil(level * n - 3 * error), min(n, math.floor(level * n + 3 * error))


def readme_words() -> str:
    """The README with every run of whitespace one space, so that a quoted sentence is
    found however its lines wrap."""
    return " ".join(README.read_text().split())


def check_readme_counts(pattern: str, counts, bounds) -> None:
    """The README sentence ``pattern`` matches quotes ``counts`` (its leading groups, each
    within :data:`CPU_ROUNDING`) and the band ``bounds`` (its last two groups, exactly)."""
    quoted = re.search(pattern, readme_words())
    assert quoted, "the README's sentence changed: update the pattern"
    figures = [int(x) for x in quoted.groups()]
    assert tuple(figures[-2:]) == tuple(bounds), figures
    assert len(figures) - 2 == len(counts), figures
    assert all(abs(a - b) <= CPU_ROUNDING for a, b in zip(figures, counts)), (figures, counts)
