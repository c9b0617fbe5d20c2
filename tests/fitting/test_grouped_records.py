"""What a grouped fit records for each group, as a single fit does for its runs: the
fitted range of inputs (whence predictions far beyond the group's runs warn) and the
FLOP accounting of the runs (k in C = k N D), kept through the JSON round trip."""

import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import ExtrapolationWarning


def _two_scales(flops_per_token=6.0):
    """Group ``small`` at budgets 1e17-1e19 FLOP, group ``large`` at 1e21-1e23: sizes about
    100x apart, so a size inside one group's runs is far beyond the other's."""
    small = sl.generate_sweep(budgets=[1e17, 1e18, 1e19], flops_per_token=flops_per_token,
                              rng=0).to_frame().assign(scale="small")
    large = sl.generate_sweep(budgets=[1e21, 1e22, 1e23], flops_per_token=flops_per_token,
                              rng=1).to_frame().assign(scale="large")
    return pd.concat([small, large], ignore_index=True)


@pytest.fixture(scope="module")
def frame():
    return _two_scales()


@pytest.fixture(scope="module", params=[(), ("alpha", "beta")], ids=["separate", "shared"])
def grouped(frame, request):
    return sl.fit(frame, groups="scale", shared=list(request.param))


def _range(part):
    """``{input: (smallest, largest)}`` of a group's rows, written out here."""
    n, d = part["N"].to_numpy(), part["D"].to_numpy()
    return {"N": (n.min(), n.max()), "D": (d.min(), d.max()), "N*D": ((n * d).min(), (n * d).max())}


def _warned(law, **inputs) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sl.predict(law, **inputs)
    return [w for w in caught if issubclass(w.category, ExtrapolationWarning)]


def test_each_group_records_the_range_of_its_own_runs(frame, grouped):
    for key, part in frame.groupby("scale"):
        recorded = dict(grouped[key].fitted_range)
        assert recorded.keys() == {"N", "D", "N*D"}
        for name, (low, high) in _range(part).items():
            assert recorded[name] == (low, high), name


@pytest.mark.parametrize("reloaded", [False, True], ids=["fitted", "loaded"])
def test_predicting_far_beyond_one_groups_runs_warns_and_inside_does_not(
        frame, grouped, reloaded, tmp_path):
    if reloaded:
        path = tmp_path / "grouped.json"
        grouped.save(path)
        grouped = sl.load_grouped(path)
        assert dict(grouped["small"].fitted_range) == _range(frame[frame.scale == "small"])
    large = frame[frame.scale == "large"]
    # the median run of the large group: inside its runs, 100x beyond the small group's
    N, D = float(large["N"].median()), float(large["D"].median())
    assert _warned(grouped["large"], N=N, D=D) == []
    caught = _warned(grouped["small"], N=N, D=D)
    assert len(caught) == 1 and "the largest compute" in str(caught[0].message)
    # one input alone far out: 50x above the small group's largest N at its own compute
    small = frame[frame.scale == "small"]
    n_top, nd_top = small["N"].max(), (small["N"] * small["D"]).max()
    caught = _warned(grouped["small"], N=50 * n_top, D=nd_top / (50 * n_top))
    assert len(caught) == 1 and "above the largest" in str(caught[0].message)
    assert _warned(grouped["small"], N=n_top, D=nd_top / n_top) == []


def test_a_file_without_group_ranges_still_loads_with_none(grouped):
    doc = grouped.to_dict()
    for entry in doc["groups"]:
        del entry["fitted_range"]
    from scalinglaws.outputs.io.grouped import grouped_from_dict

    old = grouped_from_dict(doc)
    assert all(dict(old[g].fitted_range) == {} for g in old.groups)


def test_a_broken_group_range_is_refused_naming_the_group(grouped):
    from scalinglaws.outputs.io.grouped import grouped_from_dict

    doc = grouped.to_dict()
    doc["groups"][1]["fitted_range"]["N"] = [5.0, 1.0]
    with pytest.raises(sl.InputError, match=r"groups\[1\].*fitted_range\.N"):
        grouped_from_dict(doc)



@pytest.mark.parametrize("shared", [(), ("alpha", "beta")], ids=["separate", "shared"])
def test_a_groups_allocation_uses_the_runs_flops_per_token(shared, tmp_path):
    runs = sl.load_runs(_two_scales(flops_per_token=8.0), flops_per_token=8.0)
    grouped = sl.fit(runs, groups="scale", shared=list(shared))
    assert grouped.options["flops_per_token"] == 8.0
    path = tmp_path / "grouped.json"
    grouped.save(path)
    loaded = sl.load_grouped(path)
    assert loaded.options["flops_per_token"] == 8.0
    C = 3e19  # 3x the small group's largest budget: no extrapolation warning
    for result in (grouped, loaded):
        law = result["small"]
        assert law.flops_per_token == 8.0
        optimum = sl.compute_optimal(law, C)
        N, D = float(optimum.N), float(optimum.D)
        assert 8.0 * N * D == pytest.approx(C, rel=1e-12)
        # the optimum itself, by brute force along C = 8 N D (grid steps of 0.07%)
        grid = np.logspace(np.log10(N) - 2, np.log10(N) + 2, 12001)
        losses = law.predict(N=grid, D=C / (8.0 * grid))
        assert N == pytest.approx(grid[np.argmin(losses)], rel=1e-3)


@pytest.mark.parametrize("shared", [(), ("alpha", "beta")], ids=["separate", "shared"])
def test_a_diverged_run_is_named_with_its_group(tmp_path, shared):
    """Row 20 of the bundled sweep with its loss tripled, in group 'a' of two: the plain
    fit names such a run (fitting.outliers); the grouped fit gave no warning. It names it
    now, with its group, its row and its line in the file, and records it in that group's
    diagnostics only."""
    table = pd.read_csv("datasets/synthetic_chinchilla_sweep.csv")
    table["half"] = np.where(np.arange(len(table)) % 2 == 0, "a", "b")  # row 20 is in 'a'
    table.loc[20, "loss"] *= 3
    table.to_csv(tmp_path / "halves.csv", index=False)
    with pytest.warns(sl.ScalingLawsWarning, match=r"halves\.csv, group half='a': 1 run lies "
                                                   r"more than 25 robust standard deviations "
                                                   r".*\(row 20 \(line 22\): loss 3") as caught:
        result = sl.fit(tmp_path / "halves.csv", groups="half", shared=list(shared))
    assert len([w for w in caught if "robust standard deviations" in str(w.message)]) == 1
    assert result["a"].diagnostics["outliers"]["rows"] == (20,)
    assert result["a"].diagnostics["outliers"]["lines"] == (22,)
    assert "outliers" not in result["b"].diagnostics
