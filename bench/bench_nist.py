"""Benchmark: the fitting engine on the 27 NIST StRD nonlinear least-squares problems.

Each problem is fitted from both certified starts with ``LawFitter(form,
loss="squared", space="linear", starts=[start])`` (models and parser in
``tests/nist_models.py``) and graded by NIST's criterion, the log relative
error ``LRE = -log10(|est - cert| / |cert|)`` of every parameter and of the
residual sum of squares; a fit passes with 6 digits or more throughout.

Prints one row per problem and start (difficulty, the smallest parameter LRE,
the RSS LRE, pass/fail, the setting used and the time), then the counts. With
``--defaults`` the problems that have a setting in ``nist_models.SETTINGS`` are
also run with the defaults, to show why the setting is there.

    python bench/bench_nist.py [--nist-dir PATH] [--defaults] [--finite-differences]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))  # nist_models lives beside the tests

from nist_models import REQUIRED_DIGITS, SETTINGS, load_problems, solve

DEFAULT_NIST_DIR = REPO_ROOT.parent / "shared" / "reference" / "nist_strd"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nist-dir", type=Path, default=DEFAULT_NIST_DIR,
                        help=f"folder of the StRD .dat files (default {DEFAULT_NIST_DIR})")
    parser.add_argument("--defaults", action="store_true",
                        help="also run the problems that have a setting with the defaults")
    parser.add_argument("--finite-differences", action="store_true",
                        help="use finite differences instead of the analytic Jacobians")
    args = parser.parse_args(argv)
    if not args.nist_dir.is_dir():
        parser.error(f"--nist-dir {args.nist_dir} is not a folder")
    problems = load_problems(args.nist_dir)
    if not problems:
        parser.error(f"--nist-dir {args.nist_dir} holds no .dat file")

    header = (f"{'problem':<10} {'difficulty':<10} {'start':>5} {'min LRE':>8} {'RSS LRE':>8} "
              f"{'result':<6} {'seconds':>8}  setting")
    print(header)
    print("-" * len(header))
    outcomes, defaults_outcomes = [], []
    for name, problem in problems.items():
        runs = [(dict(SETTINGS.get(name, {})), outcomes)]
        if args.defaults and name in SETTINGS:
            runs.append(({}, defaults_outcomes))
        for setting, sink in runs:
            if args.finite_differences:
                setting["jacobian"] = False
            for start in (1, 2):
                outcome = solve(problem, start, setting)
                sink.append(outcome)
                print(f"{name:<10} {problem.difficulty:<10} {start:>5} "
                      f"{outcome.min_param_lre:>8.2f} {outcome.rss_lre:>8.2f} "
                      f"{'pass' if outcome.passed else 'FAIL':<6} {outcome.seconds:>8.3f}  "
                      f"{outcome.setting}")

    passed = sum(o.passed for o in outcomes)
    with_defaults = [o for o in outcomes if o.problem not in SETTINGS]
    print()
    print(f"passed at >= {REQUIRED_DIGITS:g} digits: {passed} of {len(outcomes)} "
          f"({len(problems)} problems x 2 starts); "
          f"{sum(o.passed for o in with_defaults)} of {len(with_defaults)} with the defaults, "
          f"{sum(o.passed for o in outcomes if o.problem in SETTINGS)} of "
          f"{len(outcomes) - len(with_defaults)} with a setting")
    for difficulty in ("lower", "average", "higher"):
        part = [o for o in outcomes if o.difficulty == difficulty]
        print(f"  {difficulty:<8} {sum(o.passed for o in part):>3} of {len(part)}")
    if defaults_outcomes:
        everywhere = sum(o.passed for o in with_defaults) + sum(o.passed for o in defaults_outcomes)
        print(f"with the defaults for every problem: {everywhere} of {len(outcomes)} "
              f"(the {len(defaults_outcomes)} fits that have a setting: "
              f"{sum(o.passed for o in defaults_outcomes)} pass without it)")
    print(f"total fitting time {sum(o.seconds for o in outcomes):.2f} s")
    for name, setting in SETTINGS.items():
        print(f"\n{name}: {setting['reason']}")
    return 0 if passed == len(outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
