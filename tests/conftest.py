"""Shared fixtures.

``shared_dir`` finds the public reference material that lives beside the
project (``../shared``) or at ``$SCALINGLAWS_SHARED``. Files there are read in
place, never copied. Outside CI a missing folder skips the tests that need it;
under ``CI=true`` it is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _find_shared() -> Path | None:
    env = os.environ.get("SCALINGLAWS_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(PROJECT_ROOT.parent / "shared")
    for path in candidates:
        if (path / "datasets").is_dir() and (path / "reference").is_dir():
            return path
    return None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Path of the shared reference folder (skip, or fail under CI, when absent)."""
    path = _find_shared()
    if path is None:
        message = (
            "shared reference folder not found: put it at ../shared beside the project "
            "or set SCALINGLAWS_SHARED"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def epoch_csv(shared_dir: Path) -> Path:
    """Epoch AI's digitised Chinchilla runs (245 rows)."""
    return shared_dir / "datasets" / "chinchilla_epoch" / "svg_extracted_data.csv"


@pytest.fixture(scope="session")
def published(shared_dir: Path) -> dict:
    """The published-coefficients reference sheet (JSON)."""
    import json

    return json.loads((shared_dir / "reference" / "published_coefficients.json").read_text())


# A synthetic IsoFLOP sweep, its Chinchilla fit, and the fit with 100 bootstrap draws:
# shared by the plot and report tests.
@pytest.fixture(scope="session")
def runs():
    from scalinglaws import generate_sweep

    return generate_sweep(rng=0)


@pytest.fixture(scope="session")
def plain_result(runs):
    from scalinglaws import fit

    return fit(runs, "chinchilla")


@pytest.fixture(scope="session")
def result(plain_result, runs):
    from scalinglaws.uncertainty.bootstrap import bootstrap

    return plain_result.with_bootstrap(bootstrap(plain_result, runs, 100, rng=0))
