"""The compiled lean pass of ``bench/study_compiled_lean_pass.py`` returns numpy's lean pass
(README, issue 18: the study behind the figures it quotes). Skipped without a C compiler."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

import scalinglaws as sl
from bench_modules import load_bench

pytestmark = pytest.mark.skipif(
    not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")),
    reason="the study compiles its kernel with the system's C compiler")


def test_the_compiled_lean_pass_returns_numpys(epoch_csv, tmp_path: Path):
    study = load_bench("study_compiled_lean_pass")
    runs = sl.load_runs(epoch_csv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)  # Epoch's two diverged runs
        result = sl.fit(runs)
    study.CompiledResampleModel.lib, _ = study.compile_kernel(tmp_path)
    study.CompiledResampleModel.data = (np.log(runs.N), np.log(runs.D), np.log(runs.loss))
    worst, n_points = study.compare_passes(result, runs, n_resamples=200)
    assert n_points > 1000
    # README: the objective and curvatures within 1e-14, the gradient within 1e-13 of the
    # sum of its terms' sizes (measured on AVX-512: 7e-15, 2e-15, 3.4e-14; the kernel's sums
    # run in an order set by the vector width, so other machines round differently)
    assert worst["f"] <= 1e-14
    assert worst["hess"] <= 1e-14 and worst["hess_gn"] <= 1e-14
    assert worst["grad"] <= 1e-13
