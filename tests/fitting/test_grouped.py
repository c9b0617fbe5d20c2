"""Grouped fits (scalinglaws.fitting.grouped): many groups of runs in one objective, some
parameters shared. Checked against independent truths: each group's single fit, a brute
force optimum of the joint objective written out here, the known truth of synthetic
groups, and a dense solve of the block Levenberg-Marquardt system."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize as sopt

import scalinglaws as sl
from scalinglaws import ConvergenceWarning, InputError
from scalinglaws.fitting import _stacked, estimator, grouped
from scalinglaws.fitting._stacked import (
    StackedGroups,
    _moments,
    _step,
    block_lm,
    separable_starts_by_group,
)
from scalinglaws.fitting.estimator import LawFitter
from scalinglaws.fitting.grouped import GroupedFitResult, GroupedFitter
from scalinglaws.fitting.varpro import separable_starts
from scalinglaws.laws.forms import Form
from scalinglaws.laws.synthetic import DEFAULT_TRUTH, generate_sweep
from scalinglaws.uncertainty.grouped import bootstrap_groups

TRUTH = DEFAULT_TRUTH["chinchilla"]


def _recipes(n, *, params=None, noise=0.01, seed=0):
    """``n`` synthetic sweeps, one per group value ``r0, r1, ...``, as one table."""
    frames = []
    for i in range(n):
        truth = (params[i] if params is not None else TRUTH)
        frames.append(generate_sweep(params=truth, noise=noise, rng=seed + i).to_frame()
                      .assign(recipe=f"r{i}"))
    return pd.concat(frames, ignore_index=True)


def _huber_objective(vector, data):
    """The joint objective written out with numpy (independent of the package): ``vector``
    holds the shared exponents, then (log E, log A, log B) per group; ``data`` is a list
    of (log N, log D, log loss) per group."""
    total = 0.0
    alpha, beta = vector[:2]
    for g, (log_n, log_d, log_loss) in enumerate(data):
        e, a, b = vector[2 + 3 * g:5 + 3 * g]
        r = np.logaddexp(np.logaddexp(a - alpha * log_n, b - beta * log_d), e) - log_loss
        total += np.sum(np.where(np.abs(r) <= 1e-3, 0.5 * r * r, 1e-3 * (np.abs(r) - 5e-4)))
    return total


def _logs(frame, groups):
    return [tuple(np.log(frame.loc[frame["recipe"] == g, c].to_numpy()) for c in ("N", "D", "loss"))
            for g in groups]


@pytest.fixture(scope="module")
def four():
    frame = _recipes(4)
    return frame, sl.fit(frame, "chinchilla", groups="recipe"), \
        sl.fit(frame, "chinchilla", groups="recipe", shared=["alpha", "beta"])


def test_separate_fits_are_each_groups_single_fit(four):
    frame, separate, _ = four
    assert isinstance(separate, GroupedFitResult) and separate.groups == ("r0", "r1", "r2", "r3")
    assert separate.shared == () and separate.status == 0
    for name, part in frame.groupby("recipe"):
        single = sl.fit(part.drop(columns="recipe"), "chinchilla")
        assert separate[name].objective == pytest.approx(single.objective, rel=1e-9)
        for p in ("alpha", "beta", "E"):
            assert separate[name].params[p] == pytest.approx(single.params[p], rel=1e-5), p
        # the same runs: the same data fingerprint as the single fit
        assert separate[name].data_fingerprint == single.data_fingerprint
    assert separate.objective == pytest.approx(separate.separate_objective, rel=1e-15)


def test_joint_optimum_is_the_brute_force_optimum(four):
    frame, separate, joint = four
    names = joint.groups
    assert joint.shared == ("alpha", "beta") and joint.status == 0
    values = {g: joint[g].params for g in names}
    assert len({v["alpha"] for v in values.values()}) == 1  # one value for every group
    assert joint.shared_params["alpha"] == values["r0"]["alpha"]
    mine = np.concatenate([[joint.shared_params["alpha"], joint.shared_params["beta"]],
                           *[np.log([values[g][p] for p in ("E", "A", "B")]) for g in names]])
    assert _huber_objective(mine, _logs(frame, names)) == pytest.approx(joint.objective,
                                                                         rel=1e-12)
    # sharing costs the fit something, never gains
    assert separate.objective < joint.objective
    assert joint.separate_objective == pytest.approx(separate.objective, rel=1e-12)
    # brute force on two of the groups: Nelder-Mead, then Powell, from perturbed starts
    pair = frame[frame["recipe"].isin(["r0", "r1"])]
    both = sl.fit(pair, "chinchilla", groups="recipe", shared=["alpha", "beta"])
    data = _logs(pair, ("r0", "r1"))
    centre = np.concatenate([[both.shared_params["alpha"], both.shared_params["beta"]],
                             *[np.log([both[g].params[p] for p in ("E", "A", "B")])
                               for g in ("r0", "r1")]])
    rng = np.random.default_rng(0)
    best = np.inf
    for _ in range(4):
        start = centre + rng.normal(0, [0.05, 0.05] + [0.3] * 6)
        out = sopt.minimize(_huber_objective, start, args=(data,), method="Nelder-Mead",
                            options={"maxfev": 20000, "xatol": 1e-10, "fatol": 1e-15})
        out = sopt.minimize(_huber_objective, out.x, args=(data,), method="Powell",
                            options={"xtol": 1e-10, "ftol": 1e-15, "maxfev": 20000})
        best = min(best, out.fun)
    assert both.objective <= best * (1 + 1e-10)
    assert both.objective == pytest.approx(best, rel=1e-6)


def test_shared_exponents_recover_the_truth():
    # five groups with their own E, A, B and one pair of exponents
    rng = np.random.default_rng(3)
    params = [dict(TRUTH, E=rng.uniform(1.6, 2.2), A=TRUTH["A"] * rng.uniform(0.5, 2),
                   B=TRUTH["B"] * rng.uniform(0.5, 2)) for _ in range(5)]
    frame = _recipes(5, params=params, noise=0.005, seed=10)
    joint = sl.fit(frame, "chinchilla", groups="recipe", shared=["alpha", "beta"])
    boot = bootstrap_groups(joint, frame, 100, rng=0)
    draws = boot.parameters("r0")
    for name in ("alpha", "beta"):
        se = np.nanstd(draws[name], ddof=1)
        assert abs(joint.shared_params[name] - TRUTH[name]) < 4 * se, name
        assert se < 0.02  # five groups pin the exponents down
    for g, truth in zip(joint.groups, params):
        assert joint[g].params["E"] == pytest.approx(truth["E"], abs=0.05)


def test_per_group_results_predict_save_and_load(four, tmp_path):
    _, _, joint = four
    result = joint["r2"]
    assert joint.predict("r2", N=7e9, D=1.4e11) == result.form.predict(result.params, N=7e9,
                                                                      D=1.4e11)
    path = tmp_path / "r2.json"
    result.save(path)
    loaded = sl.load(path)
    assert loaded.predict(N=7e9, D=1.4e11) == result.predict(N=7e9, D=1.4e11)
    doc = json.loads(json.dumps(joint.to_dict(), allow_nan=False))
    assert doc["shared"] == ["alpha", "beta"] and doc["n_groups"] == 4
    assert [g["group"] for g in doc["groups"]] == list(joint.groups)
    assert doc["groups"][2]["params"]["A"] == pytest.approx(result.params["A"])
    out = tmp_path / "grouped.json"
    joint.save(out)
    assert json.loads(out.read_text())["objective"] == pytest.approx(joint.objective)
    table = joint.params
    assert list(table["group"]) == list(joint.groups) and table["alpha"].nunique() == 1
    assert "shared      alpha = " in joint.summary()
    with pytest.raises(TypeError):
        joint.results["r9"] = result
    with pytest.raises(KeyError, match="no group 'r9'"):
        joint["r9"]


def test_grouped_result_pickles(four):
    """Parallel backends pickle results: a pickled or deep-copied grouped fit gives the
    same document and predictions, and its mappings still refuse changes."""
    import copy
    import pickle

    _, _, joint = four
    for twin in (pickle.loads(pickle.dumps(joint)), copy.deepcopy(joint)):
        assert twin.to_json() == joint.to_json() and twin.groups == joint.groups
        assert twin.predict("r1", N=7e9, D=1.4e11) == joint.predict("r1", N=7e9, D=1.4e11)
        with pytest.raises(TypeError):
            twin.results["r9"] = None
        with pytest.raises(TypeError):
            twin.shared_params["alpha"] = 0.0


def test_weighted_groups_are_weighted_single_fits():
    frame = _recipes(2)
    frame["w"] = np.random.default_rng(0).integers(0, 3, len(frame)).astype(float)
    both = sl.fit(frame, "chinchilla", groups="recipe", weights="w")
    for name, part in frame.groupby("recipe"):
        single = sl.fit(part.drop(columns=["recipe", "w"]), "chinchilla",
                        weights=part["w"].to_numpy())
        assert both[name].objective == pytest.approx(single.objective, rel=1e-8)


def test_groups_measured_on_the_same_runs_share_one_evaluation():
    # the same runs scored on two "tasks": one call of the form serves both groups
    base = generate_sweep(rng=0).to_frame()
    frame = pd.concat([base.assign(task="x"),
                       base.assign(task="y", loss=base["loss"] * 1.1)], ignore_index=True)
    fitter = LawFitter("chinchilla")
    inputs = [{k: part[k].to_numpy() for k in ("N", "D")} for _, part in frame.groupby("task")]
    targets = [part["loss"].to_numpy() for _, part in frame.groupby("task")]
    stack = StackedGroups(fitter, inputs, targets)
    assert stack.design.tolist() == [0, 0]
    theta = np.array([[[0.5, 6.0, 7.0, 0.3, 0.35], [0.6, 5.0, 8.0, 0.4, 0.3]]])
    r, jac = stack.evaluate(theta)
    for g in range(2):
        alone_r, alone_jac = fitter.array_residual_function(inputs[g], targets[g])(theta[:, g])
        np.testing.assert_allclose(r[0, g], alone_r[0], rtol=0, atol=1e-14)
        np.testing.assert_array_equal(jac[0, g], alone_jac[0])


class _MeanScaled(Form):
    """A law whose value at a run depends on the other runs (N over the sweep's mean N):
    legal, but not computed run by run, so it must not be evaluated in one call for
    several groups."""

    name = "mean_scaled_test"
    inputs = ("N",)
    param_names = ("A", "alpha")
    log_params = frozenset({"A"})

    def log_value_and_jacobian(self, theta, X):
        ln_n = np.log(X["N"] / np.mean(X["N"]))[None, :]
        value = theta[:, :1] - theta[:, 1:] * ln_n
        return value, np.stack(np.broadcast_arrays(np.ones_like(value), -ln_n), axis=1)

    def start_grid(self, X, loss):
        return np.array([[0.0, 0.3]])


@pytest.mark.parametrize("form, n_groups, row_elements", [
    ("chinchilla", 5, None), ("chinchilla", 5, 250), ("kaplan_nd", 3, None), (_MeanScaled(), 3, None)])
def test_groups_with_their_own_runs_are_each_evaluated_at_their_own_parameters(
        form, n_groups, row_elements, monkeypatch):
    # groups of different sizes, each with its own runs: evaluated in one call of the form
    # when it computes run by run (the built-in forms; in blocks of rows when there are
    # many), else one call per group; either way bit for bit what each group's own
    # residual function gives, zero past a group's runs
    if row_elements is not None:  # 108 runs at most: blocks of two rows (the last of one)
        monkeypatch.setattr(_stacked, "_ROW_ELEMENTS", row_elements)
    fitter = LawFitter(form)
    parts = [generate_sweep(rng=g, n_sizes=8 + g, span=8.0 + g).to_frame()
             for g in range(n_groups)]
    inputs = [{k: p[k].to_numpy() for k in fitter.form.inputs} for p in parts]
    targets = [p["loss"].to_numpy() for p in parts]
    stack = StackedGroups(fitter, inputs, targets)
    assert stack.paired == (not isinstance(form, _MeanScaled))
    assert len(set(stack.counts)) == n_groups  # every group a different size
    rng = np.random.default_rng(0)
    start = {"chinchilla": [0.5, 6.0, 7.0, 0.3, 0.35], "kaplan_nd": [30.0, 23.0, 0.08, 0.1]}
    centre = np.array(start.get(fitter.form.name, [1.0, 0.3]))
    theta = centre + 0.05 * rng.standard_normal((2, n_groups, stack.q))
    r, jac = stack.evaluate(theta)
    labelled_r, labelled_jac = stack.labelled(theta[1], np.arange(n_groups), extra_rows=1)
    for g in range(n_groups):
        count = stack.counts[g]
        alone_r, alone_jac = fitter.array_residual_function(inputs[g], targets[g])(theta[:, g])
        np.testing.assert_array_equal(r[:, g, :count], alone_r)
        np.testing.assert_array_equal(jac[:, g, :, :count], alone_jac)
        np.testing.assert_array_equal(labelled_r[g, :count], alone_r[1])
        np.testing.assert_array_equal(labelled_jac[g, :stack.q, :count], alone_jac[1])
        assert not r[:, g, count:].any() and not jac[:, g, :, count:].any()
        assert not labelled_jac[g, stack.q:].any() and not labelled_r[g, count:].any()


@pytest.mark.parametrize("space, weighted, start_elements", [
    ("log", False, None), ("linear", False, None), ("log", True, None), ("log", False, 1)])
def test_batched_starts_are_each_groups_variable_projection_starts(space, weighted,
                                                                   start_elements, monkeypatch):
    # the start generator of many groups (groups of equal size in one batched pass, or
    # one group per pass when memory is short) gives varpro.separable_starts of each
    # group alone, bit for bit: same starts, same fits
    if start_elements is not None:
        monkeypatch.setattr(_stacked, "_START_ELEMENTS", start_elements)
    rng = np.random.default_rng(5)
    parts = [generate_sweep(params=dict(TRUTH, A=TRUTH["A"] * rng.uniform(0.5, 2)), rng=g,
                            n_sizes=(8, 8, 11, 8, 11, 13)[g]).to_frame() for g in range(6)]
    inputs = [{k: p[k].to_numpy() for k in ("N", "D")} for p in parts]
    targets = [p["loss"].to_numpy() for p in parts]
    weights = [rng.integers(0, 3, len(t)).astype(float) for t in targets] if weighted else None
    batched = separable_starts_by_group(inputs, targets, space=space, weights=weights,
                                        alphas=grouped._VARPRO_GRID, betas=grouped._VARPRO_GRID,
                                        count=8)
    for g, (x, t) in enumerate(zip(inputs, targets)):
        alone = separable_starts(x, t, space=space, weights=None if weights is None else weights[g],
                                 alphas=grouped._VARPRO_GRID, betas=grouped._VARPRO_GRID, count=8)
        assert alone.shape == (8, 5)
        np.testing.assert_array_equal(batched[g], alone)


def test_schur_step_solves_the_full_system():
    # the block step (Schur complement of the group blocks) against a dense solve
    frame = _recipes(3)
    fitter = LawFitter("chinchilla")
    parts = [part for _, part in frame.groupby("recipe")]
    stack = StackedGroups(fitter, [{k: p[k].to_numpy() for k in ("N", "D")} for p in parts],
                          [p["loss"].to_numpy() for p in parts])
    theta = np.array([[[0.6, 6.0, 7.5, 0.35, 0.36], [0.55, 6.2, 7.4, 0.35, 0.36],
                       [0.62, 5.9, 7.8, 0.35, 0.36]]])
    shared, per = np.array([3, 4]), np.array([0, 1, 2])
    _, grad, hess, scale, _, _ = _moments(stack, theta, fitter.loss, stack.weights[None])
    lam = np.array([0.5])
    step = _step(theta, grad, hess, scale, lam, fitter.lower, fitter.upper, shared, per, True)
    # dense arrowhead system: shared first, then each group's own parameters
    size = 2 + 3 * 3
    system, rhs = np.zeros((size, size)), np.zeros(size)
    floor = 1e-12 * scale.max()
    for g in range(3):
        index = np.concatenate([[0, 1], 2 + 3 * g + np.arange(3)])
        order = np.concatenate([shared, per])
        system[np.ix_(index, index)] += hess[0, g][np.ix_(order, order)]
        rhs[index] -= grad[0, g][order]
        damping = np.maximum(scale[0, g][order], floor)
        system[index[2:], index[2:]] += 0.5 * damping[2:]
    system[[0, 1], [0, 1]] += 0.5 * np.maximum(scale[0][:, shared].sum(axis=0), floor)
    dense = np.linalg.solve(system, rhs)
    np.testing.assert_allclose(step[0, 0, shared], dense[:2], rtol=1e-8, atol=1e-14)
    for g in range(3):
        np.testing.assert_allclose(step[0, g, per], dense[2 + 3 * g:5 + 3 * g], rtol=1e-7,
                                   atol=1e-12)


def test_block_lm_matches_the_engine_on_separate_groups(four):
    # decoupled groups with the shared exponents held reach each group's fit with the
    # exponents fixed (LawFitter with `fixed`), an independent path through the engine
    frame, _, joint = four
    fitter = LawFitter("chinchilla")
    parts = [part for _, part in frame.groupby("recipe")]
    stack = StackedGroups(fitter, [{k: p[k].to_numpy() for k in ("N", "D")} for p in parts],
                          [p["loss"].to_numpy() for p in parts])
    start = np.array([[[0.5, 6.0, 7.0, joint.shared_params["alpha"],
                        joint.shared_params["beta"]]] * 4])
    held = block_lm(stack, start, fitter.loss, fitter.lower, fitter.upper, [3, 4],
                    hold_shared=True, max_iter=500)
    for g, part in enumerate(parts):
        alone = sl.fit(part.drop(columns="recipe"), "chinchilla",
                       fixed={k: joint.shared_params[k] for k in ("alpha", "beta")})
        assert held["f"][0, g] == pytest.approx(alone.objective, rel=1e-9)


def test_gradient_tolerance_is_the_estimators():
    # one constant, in the engine, read by both
    assert grouped.GRADIENT_TOLERANCE is estimator.GRADIENT_TOLERANCE


def test_hard_groups_are_refitted_alone_and_match_their_single_fits():
    # random truths whose sweeps barely identify E against B (coefficients run to 0):
    # the batched search leaves some unconverged or on a bound; they are refitted alone
    rng = np.random.default_rng(1)
    params = [{"E": rng.uniform(1, 3), "A": np.exp(rng.uniform(3, 9)),
               "B": np.exp(rng.uniform(3, 9)), "alpha": rng.uniform(0.2, 0.8),
               "beta": rng.uniform(0.2, 0.8)} for _ in range(4)]
    frames = [generate_sweep(params=p, noise=n, rng=i).to_frame().assign(recipe=f"r{i}")
              for i, (p, n) in enumerate(zip(params, rng.uniform(0.002, 0.03, 4)))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both = sl.fit(pd.concat(frames, ignore_index=True), "chinchilla", groups="recipe")
        for i, frame in enumerate(frames):
            single = sl.fit(frame.drop(columns="recipe"), "chinchilla")
            assert both[f"r{i}"].objective <= single.objective * (1 + 1e-9), i


def test_parallel_blocks_and_dask_give_the_same_fit():
    frame = _recipes(60, noise=0.01)
    one = sl.fit(frame, "chinchilla", groups="recipe", shared=["alpha", "beta"])
    # n_jobs=2 alone runs in-process here (the work would not pay for processes);
    # backend="loky" forces worker processes
    two = sl.fit(frame, "chinchilla", groups="recipe", shared=["alpha", "beta"], n_jobs=2)
    forced = sl.fit(frame, "chinchilla", groups="recipe", shared=["alpha", "beta"], n_jobs=2,
                    backend="loky")
    for other in (two, forced):
        assert one.objective == other.objective
        assert [one[g].params for g in one.groups] == [other[g].params for g in other.groups]
    boot = bootstrap_groups(one, frame, 24, rng=0, chunk_size=6)
    on_workers = bootstrap_groups(one, frame, 24, rng=0, chunk_size=6, n_jobs=2,
                                  backend="loky")
    assert np.array_equal(boot.draws, on_workers.draws, equal_nan=True)
    on_threads = bootstrap_groups(one, frame, 24, rng=0, chunk_size=6, n_jobs=2,
                                  backend="threading")
    assert np.array_equal(boot.draws, on_threads.draws, equal_nan=True)
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        remote = sl.fit(frame, "chinchilla", groups="recipe", shared=["alpha", "beta"],
                        backend="dask", n_jobs=2)
    assert remote.objective == one.objective


def test_the_grouped_bootstrap_goes_to_threads_when_each_gets_enough_work(monkeypatch):
    import threading

    from scalinglaws import _parallel
    from scalinglaws.uncertainty import grouped as module

    frame = _recipes(3, noise=0.01)
    one = sl.fit(frame, "chinchilla", groups="recipe", shared=["alpha", "beta"])
    boot = bootstrap_groups(one, frame, 24, rng=0, chunk_size=6)
    monkeypatch.setattr(_parallel, "THREAD_CROSSOVER_SECONDS", 0.0)
    monkeypatch.setattr(_parallel, "usable_cores", lambda: 2)
    seen = []
    refit = module._refit_chunk

    def spy(*args):
        seen.append(threading.get_ident())
        return refit(*args)

    monkeypatch.setattr(module, "_refit_chunk", spy)
    threaded = bootstrap_groups(one, frame, 24, rng=0, chunk_size=6, n_jobs=2)
    assert np.array_equal(boot.draws, threaded.draws, equal_nan=True)
    # the first chunk is timed here, the other three ran on other threads
    assert seen[0] == threading.get_ident() and threading.get_ident() not in seen[1:]


def _same_fit(one, other):
    """Two grouped fits equal to the last bit: objectives, every group's parameters and
    objective, the separate optima."""
    assert one.objective == other.objective
    assert one.separate_objective == other.separate_objective
    assert one.groups == other.groups
    for g in one.groups:
        assert one[g].params == other[g].params, g
        assert one[g].objective == other[g].objective, g


def _mixed_sizes(n):
    """``n`` synthetic groups, the first 50 of 45 and 108 runs in turn, the others of 45
    (a block of the first 50 groups and one of the rest differ in their widest group, so
    in the layout of their stacked arrays)."""
    frames = [generate_sweep(params=dict(TRUTH, A=TRUTH["A"] * (1 + 0.01 * i)), rng=i,
                             n_sizes=12 if (i < 50 and i % 2) else 5).to_frame()
              .assign(recipe=f"r{i:02d}") for i in range(n)]
    return pd.concat(frames, ignore_index=True)


def test_blocks_of_groups_depend_on_the_data_alone(monkeypatch):
    """One block for little work, blocks of 50 groups for much, whatever n_jobs, backend
    or progress bar: the fit is then the same to the last bit (a group's bits depend on
    its block's widest group, which the blocks of these groups change)."""
    frame = _mixed_sizes(52)
    blocks = []
    block = grouped._separate_block

    def spy(*args):
        blocks.append(len(args[2]))
        return block(*args)

    monkeypatch.setattr(grouped, "_separate_block", spy)
    one = sl.fit(frame, "chinchilla", groups="recipe")
    # 52 groups of 45-108 runs: far too little work for processes; one block however asked
    for options in ({"n_jobs": 2}, {"n_jobs": 2, "backend": "threading"}, {"progress": True}):
        blocks.clear()
        _same_fit(one, sl.fit(frame, "chinchilla", groups="recipe", **options))
        assert blocks == [52], options
    # much work (as estimated): blocks of 50 groups, the first timed here (it then shows
    # that processes do not pay), with n_jobs=1 as with 2 or a backend
    monkeypatch.setattr(grouped, "SECONDS_PER_GROUP_RUN", 1.0)
    blocks.clear()
    blocked = sl.fit(frame, "chinchilla", groups="recipe")
    assert blocks == [50, 2]
    for options in ({"n_jobs": 2}, {"n_jobs": 2, "backend": "threading"}):
        blocks.clear()
        _same_fit(blocked, sl.fit(frame, "chinchilla", groups="recipe", **options))
        assert sorted(blocks) == [2, 50], options  # joblib's threads may finish in any order
    # the two groups of the last block, stacked 45 runs wide instead of 108, reach the
    # same optimum to rounding
    assert blocked.objective == pytest.approx(one.objective, rel=1e-12)
    for g in one.groups:
        assert blocked[g].params == pytest.approx(one[g].params, rel=1e-9), g


def test_kaplan_form_and_fixed_parameters():
    frame = _recipes(3)
    both = sl.fit(frame, "chinchilla", groups="recipe", shared=["beta"], fixed={"E": 1.8})
    assert all(both[g].params["E"] == 1.8 for g in both.groups)
    assert len({both[g].params["beta"] for g in both.groups}) == 1
    assert len({both[g].params["alpha"] for g in both.groups}) == 3
    # a law of N alone on IsoFLOP sweeps (D varies at every N): every group misfits, and
    # its residuals follow the D it leaves out (as a single fit says; one cause, two views)
    with pytest.warns(sl.LackOfFitWarning, match="misfits the runs of 3 of 3 groups"), \
            pytest.warns(sl.ScalingLawsWarning, match="is a law of N alone.* in 3 of 3 groups "
                                                      "of column 'recipe' D varies"):
        kaplan = sl.fit(frame.assign(C=frame["N"] * frame["D"] * 6), "kaplan_n",
                        groups="recipe", shared=["alpha_N"])
    assert kaplan.status in (0, 1) and kaplan.shared == ("alpha_N",)


@pytest.mark.parametrize("kwargs, message", [
    ({"groups": "nope"}, "`groups`: no column 'nope'"),
    ({"groups": "recipe", "shared": ["gamma"]}, "`shared` names 'gamma', which is not a parameter"),
    ({"groups": "recipe", "shared": ["E"], "fixed": {"E": 1.7}}, "`shared` names 'E', which is fixed"),
    ({"groups": "recipe", "shared": ["beta"], "tied": {"beta": "alpha"}},
     "`shared` names 'beta', which is tied to 'alpha': share that one"),
    ({"groups": "recipe", "shared": ["E", "A", "B", "alpha", "beta"]}, "names every free parameter"),
    ({"shared": ["alpha"]}, "`groups` must name the column"),
    ({"groups": "recipe", "weights": [1.0, 2.0]}, "`weights` must have one value per run"),
    ({"groups": "recipe", "shared": ["alpha", "alpha"]}, "names a parameter twice"),
])
def test_bad_arguments_are_named(kwargs, message):
    frame = _recipes(2)
    with pytest.raises(InputError, match=message):
        sl.fit(frame, "chinchilla", **kwargs)


def test_missing_group_and_too_few_runs_are_named():
    frame = _recipes(2)
    frame.loc[5, "recipe"] = None
    with pytest.raises(InputError, match="column 'recipe' is missing at row 5"):
        sl.fit(frame, "chinchilla", groups="recipe")
    frame = _recipes(2)
    small = pd.concat([frame[frame["recipe"] == "r0"], frame[frame["recipe"] == "r1"].head(3)])
    with pytest.raises(InputError, match="group recipe='r1' has 3 runs, fewer than its 5 own"):
        sl.fit(small, "chinchilla", groups="recipe")


def test_many_groups_converge_and_report_once():
    frame = _recipes(40, noise=0.01, seed=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        joint = sl.fit(frame, "chinchilla", groups="recipe", shared=["alpha", "beta"])
    assert joint.status == 0 and joint.gradient <= 1e-4 and len(joint) == 40
    fitter = GroupedFitter(LawFitter("chinchilla"), shared=["alpha", "beta"])
    assert fitter.per_group == ("E", "A", "B")


def test_a_group_whose_runs_cannot_determine_its_own_parameters_is_named():
    # r1's runs all have one D: how the loss falls with D is not measured there, so its own
    # B (and beta, when it is its own) come from the form alone, as a single fit says
    from scalinglaws import IdentifiabilityWarning
    from scalinglaws.fitting.identifiability import design_limits

    frame = _recipes(2, noise=0.005)
    r1 = frame["recipe"] == "r1"
    frame.loc[r1, "D"] = 2e10
    e, a, b = TRUTH["E"], TRUTH["A"], TRUTH["B"]
    frame.loc[r1, "loss"] = (e + a / frame.loc[r1, "N"] ** TRUTH["alpha"]
                             + b / 2e10 ** TRUTH["beta"])
    frame = frame.drop(columns=[c for c in ("C",) if c in frame.columns])
    for shared in ((), ("alpha", "beta")):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")  # r1 may also stop short (ConvergenceWarning)
            joint = sl.fit(frame, "chinchilla", groups="recipe", shared=list(shared))
        assert any(issubclass(w.category, IdentifiabilityWarning)
                   and "group 'r1': every run has D = 2e+10" in str(w.message) for w in seen)
        assert not any("'r0'" in str(w.message) for w in seen)
        assert not joint["r0"].diagnostics.get("design")
        expected = design_limits({"N": (frame.loc[r1, "N"].min(), frame.loc[r1, "N"].max()),
                                  "D": (2e10, 2e10), "N*D": (1, 2)}, 1000,
                                 joint.results["r1"].free_params if not shared
                                 else ("E", "A", "B"))
        assert [t[:30] for t in joint["r1"].diagnostics["design"]] == [t[:30] for t in expected]
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            sl.predict(joint["r1"], N=1e10, D=2e11)
        assert any(issubclass(w.category, IdentifiabilityWarning)
                   and "every run has D = 2e+10" in str(w.message) for w in seen)
