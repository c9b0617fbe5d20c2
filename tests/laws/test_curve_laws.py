"""Curve laws: the authors' prediction rule reproduces their scores; fast sums agree with
exact ones; analytic Jacobians agree with finite differences; known parameters are
recovered; the registry and binding refuse misuse."""

from __future__ import annotations

import numpy as np
import pytest
from finite_differences import central_differences

from scalinglaws import InputError
from scalinglaws.analysis.curves import curve_scores
from scalinglaws.data.curves import load_curves
from scalinglaws.fitting.curves import CurveFitResult, fit_curves
from scalinglaws.laws.curve_custom import Param, define_curve_law
from scalinglaws.laws.curve_laws import (
    MomentumLaw,
    MultiPowerLaw,
    SizeScaled,
    get_curve_law,
    register_curve_law,
)
from scalinglaws.laws.curve_synthetic import LUO_2025_MPL, default_schedules, synthetic_curves
from scalinglaws.laws.schedules import attach_schedules

# Luo et al. (2025), repository README (test set) and logs/{25,100,400}.log (train set),
# as quoted in datasets/lr_schedule_curves/README.md: R2, MAE, RMSE, PredE, WorstE.
PUBLISHED_SCORES = {
    ("25M", "test"): (0.9988, 0.00376, 0.00465, 0.00110, 0.00409),
    ("100M", "test"): (0.9983, 0.00435, 0.00592, 0.00142, 0.00583),
    ("400M", "test"): (0.9978, 0.00484, 0.00730, 0.00168, 0.00995),
    ("25M", "train"): (0.9989, 0.00371, 0.00511, 0.00105, 0.00754),
    ("100M", "train"): (0.9993, 0.00335, 0.00428, 0.00108, 0.00352),
    ("400M", "train"): (0.9984, 0.00517, 0.00657, 0.00177, 0.00738),
}
DIGITS = (4, 5, 5, 5, 5)  # as printed
# logs/400.log, per-curve test WorstE
WORST_400M = {"constant_72000": 0.01078, "cosine_72000": 0.00910, "wsd_20000_24000": 0.00799,
              "wsdld_20000_24000": 0.00875, "wsdcon_3": 0.01788, "wsdcon_18": 0.00520}


@pytest.fixture(scope="module")
def luo(shared_dir):
    folder = shared_dir / "datasets" / "lr_schedule_curves"
    curves = load_curves(folder / "mpl_luo2025_curves.csv", columns={"N": "n_params"})
    return attach_schedules(curves, folder / "mpl_luo2025_schedules.csv", key="schedule_file")


def _part(curves, size, split):
    frame = curves.frame
    return curves.select(mask=((frame["model_size"] == size) & (frame["paper_split"] == split))
                         .to_numpy())


def _means(result, curves, quadrature=None):
    table = curve_scores(result, curves, quadrature=quadrature)
    return table[["R2", "MAE", "RMSE", "PredE", "WorstE"]].mean().to_numpy()


@pytest.mark.slow
@pytest.mark.parametrize("size", ["25M", "100M", "400M"])
@pytest.mark.parametrize("split", ["test", "train"])
def test_authors_parameters_reproduce_their_scores_to_the_printed_digits(luo, size, split):
    # Their prediction rule: exact sums over every step, warmup included in the drop.
    published = CurveFitResult.from_params("mpl", LUO_2025_MPL[size])
    ours = _means(published, _part(luo, size, split), quadrature={"exact": True})
    for value, printed, digits in zip(ours, PUBLISHED_SCORES[size, split], DIGITS):
        assert abs(value - printed) <= 0.5 * 10.0 ** -digits, (size, split, value, printed)


def test_fast_sums_give_the_same_scores_and_per_curve_worst_errors(luo):
    # The default quadrature, not the exact sums: every test score rounds to within 2e-5
    # of the printed value (the quadrature moves a prediction by at most 2e-5 nats)...
    for size in ("25M", "100M", "400M"):
        published = CurveFitResult.from_params("mpl", LUO_2025_MPL[size])
        ours = _means(published, _part(luo, size, "test"))
        for value, printed, digits in zip(ours, PUBLISHED_SCORES[size, "test"], DIGITS):
            assert abs(value - printed) <= 0.5 * 10.0 ** -digits + 2e-5, (size, value, printed)
    # ...and the 400M log's per-curve WorstE to the printed digits.
    table = curve_scores(CurveFitResult.from_params("mpl", LUO_2025_MPL["400M"]),
                         _part(luo, "400M", "test"))
    for run, worst in zip(table["run_id"], table["WorstE"]):
        assert round(worst, 5) == WORST_400M[run.split("_", 2)[2]]


@pytest.mark.slow
def test_fast_sums_within_1e5_nats_of_the_exact_rule_on_every_published_curve(luo):
    law = MultiPowerLaw()
    for size in ("25M", "100M", "400M"):
        curves = luo.select(mask=(luo.frame["model_size"] == size).to_numpy())
        fast = law.predict_curves(LUO_2025_MPL[size], curves)
        exact = law.predict_curves(LUO_2025_MPL[size], curves, quadrature={"exact": True})
        assert np.max(np.abs(fast - exact)) <= 1e-5  # README: within 1e-5 nats (8.9e-6)


def _momentum_by_recurrence(lr, steps, L0, A, alpha, C, lam, start=0):
    """Tissue et al.: m_i = lam m_(i-1) + (lr_(i-1) - lr_i), S2 = sum m_i, from ``start``."""
    momentum = np.zeros(len(lr))
    for i in range(max(start, 1), len(lr)):
        momentum[i] = lam * momentum[i - 1] + (lr[i - 1] - lr[i])
    return L0 + A * np.cumsum(lr)[steps] ** -alpha - C * np.cumsum(momentum)[steps]


@pytest.mark.parametrize("lam", [0.95, 0.999, 0.9995])
def test_momentum_law_equals_the_papers_recurrence(lam):
    params = {"L0": 3.0, "A": 0.5, "alpha": 0.5, "C": 0.7, "lambda": lam}
    for name, schedule in default_schedules(6000, warmup_steps=500).items():
        lr = schedule.lr_array()
        steps = np.arange(500, schedule.total_steps, 50)
        expected = _momentum_by_recurrence(lr, steps, *params.values(), start=500)
        law = MomentumLaw()  # S2 from the end of warmup
        exact = law.predict(params, law.make_sums([lr], [steps], quadrature={"exact": True}))
        np.testing.assert_allclose(exact, expected, rtol=1e-12, err_msg=name)
        fast = law.predict(params, law.make_sums([lr], [steps]))
        assert np.max(np.abs(fast - expected)) <= 1e-6, name
        included = MomentumLaw(warmup="include")
        np.testing.assert_allclose(
            included.predict(params, included.make_sums([lr], [steps], quadrature={"exact": True})),
            _momentum_by_recurrence(lr, steps, *params.values()), rtol=1e-12)


def _check_jacobian(law, params, sums):
    theta = law.to_internal(law.params_vector(params))[None, :]
    _, jac = law.evaluate(theta, sums)
    numeric = central_differences(lambda t: law.evaluate(t, sums)[0], theta)
    for i, name in enumerate(law.param_names):
        scale = np.max(np.abs(jac[0, i])) + 1e-300
        assert np.max(np.abs(numeric[i] - jac[0, i])) <= 1e-6 * scale, name


def test_analytic_jacobians_match_finite_differences():
    schedules = default_schedules(6000, warmup_steps=500)
    lrs = [s.lr_array() for s in schedules.values()]
    steps = [np.arange(500, s.total_steps, 97) for s in schedules.values()]
    mpl = MultiPowerLaw()
    _check_jacobian(mpl, LUO_2025_MPL["100M"], mpl.make_sums(lrs, steps))
    momentum = MomentumLaw()
    _check_jacobian(momentum, {"L0": 3.0, "A": 0.5, "alpha": 0.5, "C": 0.7, "lambda": 0.998},
                    momentum.make_sums(lrs, steps))
    scaled = SizeScaled("mpl", scaled=("L0", "A", "alpha", "B"), reference_N=1e8)
    params = {**LUO_2025_MPL["100M"], "L0_N": -0.07, "A_N": 0.05, "alpha_N": -0.04, "B_N": 0.1}
    sizes = np.repeat([5e7, 2e8, 1e8, 4e8], [len(s) for s in steps])
    _check_jacobian(scaled, params, scaled.make_sums(lrs, steps, point_inputs={"N": sizes}))


@pytest.mark.parametrize("law", ["mpl", "momentum"])
def test_noise_free_curves_give_back_their_parameters(law):
    curves, truth = synthetic_curves(law, rng=0, noise=0.0)
    fit = fit_curves(curves, law)
    assert fit.status == 0
    for name, value in truth.items():
        assert fit.params[name] == pytest.approx(value, rel=1e-6), name


def test_noisy_momentum_curves_give_back_their_parameters():
    # 0.2% independent noise on 4 curves of ~170 points: alpha and lambda within 2%
    curves, truth = synthetic_curves("momentum", rng=1, noise=0.002)
    fit = fit_curves(curves, "momentum")
    assert fit.params["alpha"] == pytest.approx(truth["alpha"], rel=0.02)
    assert fit.params["lambda"] == pytest.approx(truth["lambda"], rel=0.002)


def test_size_scaled_law_recovers_its_power_laws():
    truth = {**LUO_2025_MPL["100M"], "L0_N": -0.07, "A_N": 0.04, "B_N": 0.09}
    law = SizeScaled("mpl", scaled=("L0", "A", "B"), reference_N=1e8)
    sizes = {"small": 3e7, "mid": 1e8, "large": 3e8}
    parts = []
    for i, (tag, size) in enumerate(sizes.items()):
        schedules = {f"{tag}_{k}": v for k, v in default_schedules().items()}
        curves, _ = synthetic_curves(law, truth, schedules=schedules, N=size, noise=0.0,
                                     every=256, rng=i)
        parts.append(curves)
    frame = np.concatenate([p.frame["run_id"].to_numpy() for p in parts])
    joined = load_curves({"run_id": frame,
                          "step": np.concatenate([p.frame["step"] for p in parts]),
                          "loss": np.concatenate([p.frame["loss"] for p in parts]),
                          "N": np.concatenate([p.frame["N"] for p in parts])})
    joined = joined.with_schedules({r: a for p in parts for r, a in p.schedules.items()})
    fit = fit_curves(joined, law, starts={**{k: [v] for k, v in LUO_2025_MPL["25M"].items()},
                                          "L0_N": [0.0], "A_N": [0.0], "B_N": [0.0]})
    for name, value in truth.items():
        assert fit.params[name] == pytest.approx(value, rel=1e-5, abs=1e-7), name
    # the fitted sizes are kept, and a prediction far outside them says so
    import warnings

    from scalinglaws import ExtrapolationWarning
    from scalinglaws.analysis.curves import FAR_SIZE, predict_curve

    assert tuple(fit.diagnostics["fitted_range"]["N"]) == (3e7, 3e8)
    wsd = default_schedules()["wsd"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExtrapolationWarning)
        predict_curve(fit, wsd, N=3e8 * FAR_SIZE)  # at the edge: quiet
        predict_curve(fit, wsd, N=3e7 / FAR_SIZE)
    for far in (3e8 * FAR_SIZE * 1.01, 7e10, 3e7 / FAR_SIZE / 1.01):
        with pytest.warns(ExtrapolationWarning, match=r"a model size N = .*outside the fitted "
                                                      r"curves' sizes \(3e\+07 to 3e\+08\)"):
            predict_curve(fit, wsd, N=far)


def test_laws_pickle_with_their_quadrature():
    """A size-scaled law keeps its base's quadrature options on the instance: a FrozenDict
    (a MappingProxyType cannot be pickled), so fits of it can go to parallel workers."""
    import pickle

    for law in (MultiPowerLaw(), MomentumLaw(), SizeScaled("mpl", scaled=("L0",),
                                                            reference_N=1e8)):
        twin = pickle.loads(pickle.dumps(law))
        assert twin.config() == law.config() and dict(twin.quadrature) == dict(law.quadrature)
        with pytest.raises(TypeError):
            twin.quadrature["nodes"] = 1


def test_a_different_law_under_a_registered_name_needs_overwrite(monkeypatch):
    """The registry rule of register_form too (laws/forms.register_named): the same law
    again is a no-op; another one under the name replaces it only with overwrite."""
    from scalinglaws.laws import curve_laws

    monkeypatch.setattr(curve_laws, "_REGISTRY", {})

    def probe(start):
        return define_curve_law("registry_probe", lambda lr_area, L0, A: L0 + A / lr_area,
                                params={"L0": Param(bounds=(0, None), start=start),
                                        "A": Param(bounds=(0, None), start=1.0)})

    first = register_curve_law(probe(2.0))
    assert register_curve_law(probe(2.0)) == first  # an equal law: no overwrite needed
    with pytest.raises(InputError, match="a different curve law named 'registry_probe' is "
                                         "already registered; pass overwrite=True"):
        register_curve_law(probe(3.0))
    replaced = register_curve_law(probe(3.0), overwrite=True)
    assert get_curve_law("registry_probe") is replaced


def test_user_defined_law_fits_by_finite_differences():
    law = define_curve_law(
        "area_and_gap",
        lambda lr_area, lr, lr_peak, L0, A, alpha, B: L0 + A * lr_area ** -alpha
        - B * (lr_peak - lr),
        features=("lr_area", "lr", "lr_peak"),
        params={"L0": Param(bounds=(0, None), start=[2.0, 3.0]),
                "A": Param(bounds=(0, None), start=[0.5], log=True),
                "alpha": Param(bounds=(0, 3), start=[0.3, 0.6]),
                "B": Param(bounds=(0, None), start=[100.0, 1000.0], log=True)})
    truth = {"L0": 3.1, "A": 0.6, "alpha": 0.45, "B": 300.0}
    curves, _ = synthetic_curves(law, truth, noise=0.0)
    fit = fit_curves(curves, law)
    for name, value in truth.items():
        assert fit.params[name] == pytest.approx(value, rel=1e-6)


def test_registry_and_binding_refuse_misuse():
    assert isinstance(get_curve_law("mpl", warmup="exclude"), MultiPowerLaw)
    assert get_curve_law("momentum").warmup == "exclude"
    with pytest.raises(InputError, match="`law` must be one of"):
        get_curve_law("power_mix")
    with pytest.raises(InputError, match="takes only `warmup`"):
        get_curve_law("mpl", beta=1)
    with pytest.raises(InputError, match="built-in curve law"):
        register_curve_law(MultiPowerLaw())
    with pytest.raises(InputError, match="not bound to schedule sums"):
        MultiPowerLaw().log_value_and_jacobian(np.zeros((1, 7)), {"point": np.arange(3)})
    lr = default_schedules()["constant"].lr_array()
    sums = MultiPowerLaw(warmup="exclude").make_sums([lr], [[3000]])
    with pytest.raises(InputError, match="made with warmup='exclude'"):
        MultiPowerLaw().bind(sums)
    with pytest.raises(InputError, match="LR area is 0"):
        MultiPowerLaw().make_sums([lr], [[0, 10]])
    with pytest.raises(InputError, match="unknown option"):
        MultiPowerLaw().make_sums([lr], [[10]], quadrature={"tolerance": 1e-3})
