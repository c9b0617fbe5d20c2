"""Study (not shipped): what a compiled, vectorised lean pass would buy the bootstrap.

Issue 18's last unmet target is 10,000 bootstrap resamples under 10x one fit. The
bootstrap's refits are certified Newton refits (``ResampleModel`` in
``scalinglaws.uncertainty.bootstrap``); about three quarters of their time is the lean
pass, a few dozen numpy array operations per (resample, run) pair, each at numpy's
per-element floor. This study writes that pass for the Chinchilla form with the Huber
loss as one fused C loop, compiled here with the system's C compiler
(``-O3 -march=native -ffast-math``: gcc then calls glibc's vectorised ``exp`` and
``log1p``), swaps it in for ``ResampleModel.lean_pass`` and measures, in one process:

* that the compiled pass returns numpy's objective, gradient and curvatures (relative
  differences, at the points the bootstrap visits);
* 10,000 resamples with each pass, against one default fit (CPU time), and the draws'
  largest difference in units of the bootstrap standard error.

It needs ``cc`` (gcc or clang) on the PATH and exits with a message otherwise.

    python bench/study_compiled_lean_pass.py [--resamples 10000] [--repeat 3]
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse
import ctypes
import platform
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

import scalinglaws as sl
from scalinglaws.uncertainty import bootstrap as bootstrap_module

DEFAULT_DATA = (Path(__file__).resolve().parents[2] / "shared" / "datasets" / "chinchilla_epoch"
                / "svg_extracted_data.csv")

# One fused pass over the runs of each resample: the Chinchilla form as
# e + log1p(p_a + p_b) (as laws/forms.py evaluates it), Huber's rho and psi, the
# objective, gradient, Gauss-Newton curvature (runs inside delta only, psi' = 1) and the
# second-order term sum_i w_i psi(r_i) d2r_i at the optimum (upper triangles, 15 entries).
KERNEL = r"""
#include <math.h>
#include <stdlib.h>
#define P 5
#define T 15
/* dot product of two rows of n: one reduction per loop keeps the vector registers free */
static double dot(long n, const double *restrict u, const double *restrict v)
{
    double acc = 0;
    #pragma omp simd reduction(+:acc)
    for (long i = 0; i < n; i++) acc += u[i] * v[i];
    return acc;
}

void lean_pass(long k, long n, const double *x, const double *w, const double *lnN,
               const double *lnD, const double *logy, const double *curv, double delta,
               double *f, double *grad, double *gn, double *second)
{
    /* per run: the Jacobian's five rows, w psi, and w psi' J (zero outside delta) */
    double *jac = malloc(sizeof(double) * n * (2 * P + 1));
    double *wp = jac + P * n, *dj = wp + n;
    for (long row = 0; row < k; row++) {
        const double e = x[row * P], a = x[row * P + 1], b = x[row * P + 2];
        const double alpha = x[row * P + 3], beta = x[row * P + 4];
        const double *wr = w + row * n;
        double fs = 0, g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0;
        int inside = 0;
        #pragma omp simd reduction(+:fs,g0,g1,g2,g3,g4) reduction(|:inside)
        for (long i = 0; i < n; i++) {
            double pa = exp(a - e - alpha * lnN[i]);
            double pb = exp(b - e - beta * lnD[i]);
            double r = e + log1p(pa + pb) - logy[i];
            double se = 1.0 / (1.0 + pa + pb);
            double j0 = se, j1 = pa * se, j2 = pb * se, j3 = -j1 * lnN[i], j4 = -j2 * lnD[i];
            double psi = r < -delta ? -delta : (r > delta ? delta : r);
            double wi = wr[i];
            fs += wi * (psi * (r - 0.5 * psi));
            double p = wi * psi;
            g0 += j0 * p; g1 += j1 * p; g2 += j2 * p; g3 += j3 * p; g4 += j4 * p;
            jac[i] = j0; jac[n + i] = j1; jac[2 * n + i] = j2; jac[3 * n + i] = j3;
            jac[4 * n + i] = j4; wp[i] = p;
            double d = (fabs(r) <= delta) ? wi : 0.0;
            dj[i] = d;
            inside |= (d != 0.0);
        }
        f[row] = fs;
        grad[row * P] = g0; grad[row * P + 1] = g1; grad[row * P + 2] = g2;
        grad[row * P + 3] = g3; grad[row * P + 4] = g4;
        int q = 0;
        for (int u = 0; u < P; u++)
            for (int v = u; v < P; v++, q++) {
                second[row * T + q] = dot(n, wp, curv + q * n);
                if (!inside) { gn[row * T + q] = 0; continue; }
                double acc = 0;
                const double *ju = jac + u * n, *jv = jac + v * n;
                #pragma omp simd reduction(+:acc)
                for (long i = 0; i < n; i++) acc += dj[i] * ju[i] * jv[i];
                gn[row * T + q] = acc;
            }
    }
    free(jac);
}
"""


def compile_kernel(directory: Path):
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        sys.exit("no C compiler on the PATH (cc, gcc or clang): this study needs one")
    source, library = directory / "lean.c", directory / "lean.so"
    source.write_text(KERNEL)
    flags = ["-O3", "-march=native", "-ffast-math", "-fopenmp-simd", "-fPIC", "-shared"]
    subprocess.run([compiler, *flags, str(source), "-o", str(library), "-lm"], check=True)
    lib = ctypes.CDLL(str(library))
    double_p = np.ctypeslib.ndpointer(dtype=np.float64, flags="C_CONTIGUOUS")
    lib.lean_pass.argtypes = [ctypes.c_long, ctypes.c_long, double_p, double_p, double_p,
                              double_p, double_p, double_p, ctypes.c_double, double_p, double_p,
                              double_p, double_p]
    lib.lean_pass.restype = None
    return lib, " ".join([Path(compiler).name, *flags])


class CompiledResampleModel(bootstrap_module.ResampleModel):
    """``ResampleModel`` whose lean pass is the compiled kernel (Chinchilla, Huber, every
    parameter free, one distinct start, one block of rows: the default bootstrap)."""

    lib = None
    data = None  # (lnN, lnD, log loss) of the runs

    def __init__(self, blocks, x, live, loss):
        super().__init__(blocks, x, live, loss)
        assert self.n_starts == 1 and len(self.blocks) == 1 and self.p == 5
        self.curv = np.ascontiguousarray(self.curvature[0][0])  # (15, n)
        self.delta = float(loss.delta)

    def lean_pass(self, x, weights, rows):
        k = x.shape[0]
        lnN, lnD, logy = self.data
        w = np.ascontiguousarray(weights[rows], dtype=float)
        f, grad = np.empty(k), np.empty((k, 5))
        gn, second = np.empty((k, 15)), np.empty((k, 15))
        self.lib.lean_pass(k, lnN.size, np.ascontiguousarray(x), w, lnN, lnD, logy, self.curv,
                           self.delta, f, grad, gn, second)
        return self._finish(f, grad, gn, second)


def compare_passes(result, runs, n_resamples=500, seed=1):
    """Largest relative difference per row between numpy's lean pass and the compiled one
    (``CompiledResampleModel.lib`` set) at the points a bootstrap of ``n_resamples`` visits,
    for the objective, gradient (relative to the sum of its terms' sizes) and both
    curvatures; and the number of points compared."""
    captured = []
    original = bootstrap_module.ResampleModel.lean_pass

    def capture(self, x, weights, rows):
        out = original(self, x, weights, rows)
        if len(captured) < 40:
            captured.append((self, x.copy(), weights, rows.copy(), out))
        return out
    bootstrap_module.ResampleModel.lean_pass = capture
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            sl.bootstrap(result, runs, n_resamples, rng=seed, progress=False)
    finally:
        bootstrap_module.ResampleModel.lean_pass = original
    worst = {"f": 0.0, "grad": 0.0, "hess": 0.0, "hess_gn": 0.0}
    for model, x, weights, rows, (f, g, h, hgn) in captured:
        # a gradient near an optimum is a sum of cancelling terms: its rounding scales
        # with the sum of their sizes, sum_i w_i |psi_i| |J_i|
        r, jac = model.blocks[0][0](x)
        gross = np.einsum("kpn,kn->kp", np.abs(jac),
                          weights[rows] * np.abs(model.loss.psi(r))).max(axis=1)
        compiled = CompiledResampleModel.__new__(CompiledResampleModel)
        compiled.__dict__.update(model.__dict__)
        compiled.curv = np.ascontiguousarray(model.curvature[0][0])
        compiled.delta = float(model.loss.delta)
        cf, cg, ch, chgn = compiled.lean_pass(x, weights, rows)
        for name, a, b in (("f", f, cf), ("grad", g, cg), ("hess", h, ch),
                           ("hess_gn", hgn, chgn)):
            scale = gross if name == "grad" else np.abs(a).reshape(len(a), -1).max(axis=1)
            gap = np.abs(a - b).reshape(len(a), -1).max(axis=1) / np.maximum(scale, 1e-300)
            worst[name] = max(worst[name], float(gap.max()))
    return worst, sum(len(c[1]) for c in captured)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--resamples", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many timings")
    args = parser.parse_args()

    from bench_bootstrap import cpu_timed as cpu  # the benches' one CPU timer

    runs = sl.load_runs(args.data)
    with warnings.catch_warnings():
        # the 240 runs as every bench fits them: Epoch's two diverged runs stay in
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        result = sl.fit(runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        fit_cpu = min(cpu(sl.fit, runs)[1] for _ in range(5))
    with tempfile.TemporaryDirectory() as tmp:
        lib, flags = compile_kernel(Path(tmp))
        CompiledResampleModel.lib = lib
        CompiledResampleModel.data = (np.ascontiguousarray(np.log(runs.N)),
                                      np.ascontiguousarray(np.log(runs.D)),
                                      np.ascontiguousarray(np.log(runs.loss)))
        print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
              f"load average {os.getloadavg()[0]:.2f}; kernel built with: {flags}")
        print(f"one default fit: {1e3 * fit_cpu:.1f} ms CPU (best of 5)")

        worst, n_points = compare_passes(result, runs)
        print("compiled vs numpy lean pass, largest relative difference per row (the gradient "
              f"relative to the sum of its terms' sizes) on {n_points} visited points: "
              + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))

        timings = {}
        draws = {}
        for name, model in (("numpy", bootstrap_module.ResampleModel),
                            ("compiled", CompiledResampleModel)):
            saved = bootstrap_module.ResampleModel
            bootstrap_module.ResampleModel = model
            try:
                best = np.inf
                for _ in range(args.repeat):
                    boot, seconds = cpu(sl.bootstrap, result, runs, args.resamples, rng=0,
                                        progress=False)
                    best = min(best, seconds)
            finally:
                bootstrap_module.ResampleModel = saved
            timings[name], draws[name] = best, boot
        for name, seconds in timings.items():
            print(f"{args.resamples} resamples, {name:8s} lean pass: {seconds:.3f} s CPU = "
                  f"{seconds / fit_cpu:5.1f} x one fit; failed "
                  f"{draws[name].n_failed}")
        a, b = draws["numpy"].draws, draws["compiled"].draws
        se = a.std(axis=0)
        print("draws: largest difference " + ", ".join(
            f"{name} {np.max(np.abs(a[:, i] - b[:, i])) / se[i]:.1e} SE"
            for i, name in enumerate(result.free_params)))


if __name__ == "__main__":
    main()
