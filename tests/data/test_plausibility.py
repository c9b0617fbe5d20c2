"""Tests of scalinglaws.data._plausibility: units warnings, loss_units and duplicates."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws._exceptions import InputError, ScalingLawsWarning, UnitsWarning
from scalinglaws.data._plausibility import loss_name_units
from scalinglaws.data.runs import load_runs


def sweep() -> pd.DataFrame:
    """40 runs of a Chinchilla-like law on five IsoFLOP budgets (N, D, C, loss in nats)."""
    rng = np.random.default_rng(1)
    rows = []
    for C in [1e18, 3e18, 1e19, 3e19, 1e20]:
        for N in np.geomspace(2e7, 8e8, 8):
            D = C / (6 * N)
            loss = (1.82 + 482.0 / N**0.348 + 2085.0 / D**0.366) * np.exp(rng.normal(0, 0.01))
            rows.append((N, D, C, loss))
    return pd.DataFrame(rows, columns=["N", "D", "C", "loss"])


SWEEP_CSV = Path(__file__).resolve().parents[2] / "datasets" / "synthetic_chinchilla_sweep.csv"


def units_warnings(caught) -> list:
    return [str(w.message) for w in caught if issubclass(w.category, UnitsWarning)]


def quiet_load(*args, **kwargs):
    """load_runs, returning the runs and the messages of the UnitsWarnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = load_runs(*args, **kwargs)
    return runs, units_warnings(caught)


def test_units_warning_is_a_package_warning_exported_at_the_top():
    assert issubclass(sl.UnitsWarning, sl.ScalingLawsWarning)
    assert "UnitsWarning" in sl.__all__


def test_the_sweep_in_its_units_is_quiet(tmp_path):
    path = tmp_path / "sweep.csv"
    sweep().to_csv(path, index=False)
    runs, said = quiet_load(path)
    assert said == [] and len(runs) == 40


# ----------------------------------------------------------------------------- N, D, C


def test_parameters_in_millions_without_compute_warn_naming_file_and_column(tmp_path):
    table = sweep().drop(columns="C")
    table["N"] = table["N"] / 1e6  # 20 .. 800, as a paper's table gives them
    path = tmp_path / "millions.csv"
    table.to_csv(path, index=False)
    with pytest.warns(UnitsWarning, match=r"millions\.csv: every value of column 'N' \(N\) is "
                                          r"below 1e4 \(largest 800, at row 7 \(line 9\)\)"):
        runs = load_runs(path)
    assert runs.N.max() == 800  # a warning: the values are kept as given


def test_parameters_in_millions_with_compute_blame_n_once():
    table = sweep()
    table["N"] = table["N"] / 1e6
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_runs(table)
    said = units_warnings(caught)
    assert len(said) == 1 and "column 'N' (N)" in said[0]
    # the C = 6ND check still says C disagrees
    assert any("C differs from 6·N·D" in str(w.message) for w in caught)


def test_tokens_in_billions_warn_about_d():
    table = sweep().drop(columns="C")
    table["D"] = table["D"] / 1e9
    said = quiet_load(table)[1]
    assert len(said) == 1 and "every value of column 'D' (D) is below 1e6" in said[0]
    assert "tokens written in millions or billions" in said[0]


def test_compute_in_pf_days_blames_the_given_column_not_the_derived_one():
    table = sweep().drop(columns="D")
    table["C"] = table["C"] / 8.64e19  # PF-days
    runs, said = quiet_load(table)
    assert runs.derived == ("D",)
    assert len(said) == 1 and "column 'C' (C)" in said[0] and "PF-days" in said[0]


def test_a_sweep_to_70b_in_millions_is_caught_by_tokens_per_parameter():
    # The largest N (7e4 "millions") passes the 1e4 floor; D/N is 1e6 times too large.
    N = np.geomspace(1e8, 7e10, 12)
    table = pd.DataFrame({"N": N / 1e6, "D": 20 * N, "loss": np.linspace(3.5, 2.0, 12)})
    said = quiet_load(table)[1]
    assert len(said) == 1
    assert "median tokens per parameter D/N is 2e+07" in said[0]
    assert "is column 'N' (N) in millions or billions" in said[0]
    said = quiet_load(table.assign(N=N))[1]  # in parameters: quiet
    assert said == []


def test_tokens_in_millions_are_caught_by_tokens_per_parameter():
    N = np.geomspace(1e8, 7e10, 12)
    table = pd.DataFrame({"N": N, "D": 20 * N / 1e6, "loss": np.linspace(3.5, 2.0, 12)})
    assert table["D"].max() > 1e6  # above the D floor: only the ratio can tell
    said = quiet_load(table)[1]
    assert len(said) == 1 and "is column 'D' (D) in millions or billions" in said[0]


def test_swapped_n_and_d_warn_and_say_how_to_map_them(tmp_path):
    # The reviewer's case: Chinchilla's sweep with N and D exchanged fits A and B, alpha
    # and beta exchanged without a word; its median D/N (0.054) was inside 0.01..1e5.
    project = Path(__file__).resolve().parents[2]
    table = pd.read_csv(project / "datasets" / "synthetic_chinchilla_sweep.csv")
    path = tmp_path / "swapped.csv"
    pd.DataFrame({"params": table.D, "tokens": table.N, "loss": table.loss}).to_csv(
        path, index=False)
    said = quiet_load(path)[1]
    assert len(said) == 1
    assert "90 of 108 runs with fewer tokens than parameters (median tokens per " \
           "parameter D/N 0.0544)" in said[0]
    assert "are N and D swapped (if so, set the columns option (N=tokens, D=params))" \
        in said[0]
    runs, said = quiet_load(path, columns={"N": "tokens", "D": "params"})
    assert said == [] and runs.N.tolist() == table.N.tolist()


def test_fewer_tokens_than_parameters_in_every_run_warns():
    table = sweep().drop(columns="C")
    table["D"] = table["N"] / 2  # D/N = 0.5 everywhere: inside the old 0.01..1e5 window
    said = quiet_load(table)[1]
    assert len(said) == 1 and "40 of 40 runs with fewer tokens than parameters" in said[0]


@pytest.mark.parametrize("share, warned", [(0.45, False), (0.55, True)])
def test_the_swap_check_asks_most_runs(share, warned):
    # Porian et al.'s IsoFLOP budgets have up to 44% of their runs with D < N; a sweep is
    # suspect only when most of them do.
    n_below = round(40 * share)
    N = np.geomspace(1e7, 1e9, 40)
    ratio = np.where(np.arange(40) < n_below, 0.3, 20.0)
    said = quiet_load({"N": N, "D": ratio * N, "loss": np.linspace(4, 3, 40)})[1]
    assert bool(said) == warned
    if warned:
        assert f"{n_below} of 40 runs with fewer tokens than parameters" in said[0]


def test_a_header_naming_a_scale_warns_for_the_column_it_names(tmp_path):
    # The reviewer's case: params (M) mapped as N was quiet (its largest value, 5e4, is above
    # the 1e4 floor) while tokens_B warned; the fit gave A = 3.86 instead of 431.9.
    project = Path(__file__).resolve().parents[2]
    table = pd.read_csv(project / "datasets" / "synthetic_chinchilla_sweep.csv")
    path = tmp_path / "units.csv"
    pd.DataFrame({"params (M)": table.N / 1e6, "tokens_B": table.D / 1e9,
                  "loss": table.loss}).to_csv(path, index=False)
    runs, said = quiet_load(path, columns={"N": "params (M)", "D": "tokens_B"})
    assert len(said) == 2  # one per column, no second warning from the floors or C
    assert "column 'params (M)' (N): its header says millions, while N is read as a count " \
           "of parameters: multiply the values by 1e6 before loading" in said[0]
    assert "column 'tokens_B' (D): its header says billions" in said[1]
    assert "multiply the values by 1e9" in said[1]
    assert runs.N.max() == table.N.max() / 1e6  # a warning: values used as given
    # N alone in millions: the values pass every value check, only the header tells
    only_n = pd.DataFrame({"params (M)": table.N / 1e6, "D": table.D, "loss": table.loss})
    said = quiet_load(only_n, columns={"N": "params (M)"})[1]
    assert len(said) == 1 and "column 'params (M)' (N): its header says millions" in said[0]


def test_compute_in_pf_days_named_so_says_the_factor_once():
    table = sweep().drop(columns="D")
    table["C (PF-days)"] = table.pop("C") / 8.64e19
    said = quiet_load(table, columns={"C": "C (PF-days)"})[1]
    assert len(said) == 1  # not also the C floor, nor the derived D
    assert "column 'C (PF-days)' (C): its header says PF-days, while C is read as a count " \
           "of FLOP: multiply the values by 8.64e19 before loading, or if" in said[0]


@pytest.mark.parametrize("header, scale", [
    ("params (M)", (1e6, "millions")), ("params_M", (1e6, "millions")),
    ("tokens_B", (1e9, "billions")), ("N [billions]", (1e9, "billions")),
    ("Params (B)", (1e9, "billions")), ("tokens (in billions)", (1e9, "billions")),
    ("num_params_millions", (1e6, "millions")), ("tokens (1e9)", (1e9, "units of 1e9")),
    ("tokens_k", (1e3, "thousands")), ("C (PF-days)", (8.64e19, "PF-days")),
    ("pf_days", (8.64e19, "PF-days")),
    # no scale: canonical names, the public tables' headers, a lone letter, a leading one
    ("N", None), ("M", None), ("B", None), ("n_params", None), ("m_params", None),
    ("tokens", None), ("Model Size", None), ("Training FLOP", None), ("total_flops", None),
    ("param_count", None), ("tokens_seen", None), ("n_params_nonembedding", None),
    ("unique_tokens", None),
])
def test_header_scale(header, scale):
    from scalinglaws.data._plausibility import header_scale

    assert header_scale(header) == scale


def test_compute_derived_from_n_and_d_in_millions_blames_n_and_d():
    # The reviewer's case: both in millions, N reaches 5e4 and D 1e6, not below their
    # floors; only the derived C is below 6e10, and the file has no C column to fix.
    project = Path(__file__).resolve().parents[2]
    table = pd.read_csv(project / "datasets" / "synthetic_chinchilla_sweep.csv")
    table = pd.DataFrame({"N": table.N / 1e6, "D": table.D / 1e6, "loss": table.loss})
    assert table["N"].max() > 1e4 and table["D"].max() >= 1e6
    said = quiet_load(table)[1]
    assert len(said) == 1
    assert "every value of C (derived from C = k·N·D) is below 6e10" in said[0]
    assert "so N and D are not both in parameters and tokens: is column 'N' (N) (largest " \
           "5e+04) or column 'D' (D) (largest 1e+06)" in said[0]
    assert "written in millions or billions" in said[0] and "PF-days" not in said[0]


@pytest.mark.parametrize("name, floor", [("N", 1e4), ("D", 1e6), ("C", 6e10)])
def test_the_floors_are_strict(name, floor):
    said = quiet_load({name: [floor / 2, floor], "loss": [3.0, 2.9]})[1]
    assert said == []  # the largest value at the floor is quiet
    said = quiet_load({name: [floor / 2, floor * 0.999], "loss": [3.0, 2.9]})[1]
    assert len(said) == 1 and f"every value of column '{name}'" in said[0]


def test_toy_sweeps_are_warned_not_refused():
    # Kaplan-style tiny models (768 parameters) with everything small: loads, warns.
    table = {"N": [768, 3072], "D": [1e5, 2e5], "loss": [5.0, 4.8]}
    with pytest.warns(UnitsWarning):
        runs = load_runs(table)
    assert runs.N.tolist() == [768, 3072]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UnitsWarning)  # as the message says
        load_runs(table)


# ----------------------------------------------------------------------------- loss


def test_perplexity_saved_as_loss_warns_on_its_values(tmp_path):
    table = sweep()
    table["loss"] = np.exp(table["loss"])  # 12.9 .. 60.9
    path = tmp_path / "ppl_as_loss.csv"
    table.to_csv(path, index=False)
    with pytest.warns(UnitsWarning, match=r"ppl_as_loss\.csv: column 'loss' \(loss\) exceeds "
                                          r"14\.45 nats per token in 36 of 40 rows \(largest "
                                          r"60\.91, at row 7 \(line 9\)\).*loss_units to "
                                          r"'perplexity'"):
        load_runs(path)


def test_the_loss_limit_sits_above_a_real_model_at_initialisation():
    # OLMo-2 13B at step 0: 12.58 nats (shared olmo_ladder_checkpoints.csv); limit ln(256k)+2
    base = {"N": [1e8, 2e8], "D": [1e10, 2e10]}
    assert quiet_load({**base, "loss": [12.58, 3.0]})[1] == []
    assert quiet_load({**base, "loss": [math.log(256_000) + 1.99, 3.0]})[1] == []
    assert len(quiet_load({**base, "loss": [math.log(256_000) + 2.01, 3.0]})[1]) == 1


@pytest.mark.parametrize("column, units", [
    ("perplexity", "perplexity"), ("val_ppl", "perplexity"), ("Val PPL", "perplexity"),
    ("eval/perplexity", "perplexity"), ("loss_bits", "bits"), ("bits", "bits"),
    ("loss (bits)", "bits"), ("bpt", "bits"), ("bpb", "bits per byte"),
    ("val_bpc", "bits per byte"), ("bits_per_byte", "bits per byte"),
    ("loss", None), ("val_loss", None), ("loss (nats)", None), ("orbit_loss", None),
    ("habits", None), ("pplx_free", None),
    # the logarithm of a perplexity is a loss already (the audit's log_ppl column of nats
    # was called a perplexity, and following the hint took its log again)
    ("log_ppl", None), ("ln(perplexity)", None), ("val_log_ppl", None), ("logppl", None),
    ("log2_ppl", "bits"), ("log10_ppl", "perplexity"),
])
def test_loss_names_that_say_other_units(column, units):
    assert loss_name_units(column) == units


@pytest.mark.parametrize("column, advice", [
    ("perplexity", r"nats = ln\(perplexity\): pass loss_units='perplexity' to convert it, or "
                   r"loss_units='nats' if it already holds nats$"),
    ("loss_bits", r"nats = bits × ln 2 \(0\.693\): pass loss_units='bits' to convert it, or "
                  r"loss_units='nats' if it already holds nats$"),
    ("bpb", "bits per byte .* are per byte, not per token"),
])
def test_a_mapped_loss_named_in_other_units_warns(column, advice):
    table = sweep().rename(columns={"loss": column})
    with pytest.warns(UnitsWarning, match=rf"<DataFrame>: column '{column}' \(loss\) is named "
                                          rf"like .*{advice}"):
        load_runs(table, columns={"loss": column})


def test_loss_units_convert_to_nats_as_the_truth():
    truth = sweep()
    nats = truth["loss"].to_numpy()
    in_bits = truth.assign(loss=nats / math.log(2)).rename(columns={"loss": "loss_bits"})
    runs, said = quiet_load(in_bits, columns={"loss": "loss_bits"}, loss_units="bits")
    assert said == []  # saying the units silences the name warning
    np.testing.assert_allclose(runs.loss, nats, rtol=1e-14)
    as_ppl = truth.assign(loss=np.exp(nats)).rename(columns={"loss": "perplexity"})
    runs, said = quiet_load(as_ppl, columns={"loss": "perplexity"}, loss_units="perplexity")
    assert said == []
    np.testing.assert_allclose(runs.loss, nats, rtol=1e-14)
    # "nats" says the column already holds nats: kept, quiet
    runs, said = quiet_load(truth.rename(columns={"loss": "ppl"}), columns={"loss": "ppl"},
                            loss_units="nats")
    assert said == [] and runs.loss.tolist() == nats.tolist()


def test_a_perplexity_not_above_one_is_refused_naming_the_cell(tmp_path):
    path = tmp_path / "ppl.csv"
    path.write_text("N,D,perplexity\n1e8,1e10,20\n2e8,2e10,0.9\n")
    with pytest.raises(InputError, match=r"ppl\.csv: row 1 \(line 3\), column 'perplexity' "
                                         r"\(loss\): perplexity 0\.9 is not above 1"):
        load_runs(path, columns={"loss": "perplexity"}, loss_units="perplexity")


def test_nats_read_as_perplexities_warn(tmp_path):
    # before: accepted silently, every loss then ln(nats) = 0.6 .. 0.95 nats per token.
    # Large models' nats (1.9 .. 2.6, below e): as perplexities, every run under 1 nat,
    # where no public run is (the lowest in ../shared: 1.018, OLMo's code loss)
    table = pd.DataFrame({"N": [1e9, 3e9, 1e10, 7e10], "D": [2e10, 6e10, 2e11, 1.4e12],
                          "loss": [2.6, 2.35, 2.1, 1.9]})
    path = tmp_path / "nats.csv"
    table.to_csv(path, index=False)
    with pytest.warns(UnitsWarning, match=r"nats\.csv: column 'loss' \(loss\) read as "
                                          r"perplexities \(loss_units\) puts every run below 1 "
                                          r"nat per token \(the largest perplexity is 2\.6, at "
                                          r"row 0 \(line 2\), below e = 2\.718\).*drop "
                                          r"loss_units, or set it to 'nats'"):
        load_runs(path, loss_units="perplexity")
    # real perplexities: the sweep's own (12.9 .. 60.9), and one run just above e, are quiet
    assert quiet_load(sweep().assign(loss=np.exp(sweep()["loss"])), loss_units="perplexity")[1] == []
    assert quiet_load(table.assign(loss=[2.72, 2.35, 2.1, 1.9]), loss_units="perplexity")[1] == []


def test_perplexity_with_missing_cells_omitted():
    table = {"N": [1e8, 2e8, 4e8], "D": [1e10, 2e10, 4e10], "ppl": [30.0, None, 20.0]}
    with pytest.warns(ScalingLawsWarning, match="dropped 1 of 3 rows"):
        runs = load_runs(table, columns={"loss": "ppl"}, loss_units="perplexity",
                         nan_policy="omit")
    np.testing.assert_allclose(runs.loss, np.log([30.0, 20.0]))


@pytest.mark.parametrize("kwargs, argument", [
    ({"loss_units": "nat"}, "loss_units"), ({"loss_units": "Bits"}, "loss_units"),
    ({"duplicates": "first"}, "duplicates"), ({"duplicates": None}, "duplicates"),
])
def test_bad_options_are_named(kwargs, argument):
    with pytest.raises(InputError, match=argument):
        load_runs({"N": [1e8], "D": [1e10], "loss": [3.0]}, **kwargs)


def test_loss_units_cannot_apply_to_loaded_runs():
    runs = load_runs({"N": [1e8], "D": [1e10], "loss": [3.0]})
    with pytest.raises(InputError, match="loss_units=.* applies when loading a table"):
        sl.data.runs.as_runs(runs, loss_units="bits")


# ----------------------------------------------------------------------------- duplicates


def test_exact_copies_warn_naming_rows_and_lines(tmp_path):
    table = sweep()
    path = tmp_path / "dups.csv"
    pd.concat([table, table.iloc[:5]]).to_csv(path, index=False)
    with pytest.warns(ScalingLawsWarning, match=r"dups\.csv: 5 rows repeat an earlier row in "
                                                r"every column \(row 40 \(line 42\) repeats row "
                                                r"0 \(line 2\); row 41 \(line 43\) repeats row 1"):
        runs = load_runs(path)
    assert len(runs) == 45  # kept, as the warning says


def test_duplicates_drop_keeps_the_first_of_each(tmp_path):
    table = sweep()
    path = tmp_path / "dups.csv"
    pd.concat([table.iloc[:3], table, table.iloc[[7]]]).to_csv(path, index=False)
    with pytest.warns(ScalingLawsWarning, match=r"dropped 4 rows that repeat an earlier row .*"
                                                r"the first is row 3 \(line 5\), a copy of row 0"):
        runs = load_runs(path, duplicates="drop")
    assert len(runs) == 40 and runs.n_dropped == 4
    assert runs.dropped_rows == (3, 4, 5, 43)
    assert runs.row_numbers[:4] == (0, 1, 2, 6)
    assert runs.row_label(3) == f"row 6 (line 8) of {path}"
    assert runs.fingerprint() == load_runs(table).fingerprint()  # the sweep, once


def test_duplicates_raise_and_keep():
    table = pd.concat([sweep(), sweep().iloc[[0]]])
    with pytest.raises(InputError, match=r"<DataFrame>: 1 row repeats an earlier row in every "
                                         r"column \(row 40 repeats row 0\).*set duplicates "
                                         r"to 'drop'"):
        load_runs(table, duplicates="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_runs(table, duplicates="keep")) == 41


def test_seeds_are_not_duplicates():
    # same N and D, different loss (seeds): legitimate, quiet
    table = {"N": [1e8, 1e8, 2e8], "D": [1e10, 1e10, 2e10], "loss": [3.01, 3.02, 2.9]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_runs(table)) == 3
        # same values, told apart by a seed column
        assert len(load_runs({**table, "loss": [3.0, 3.0, 2.9], "seed": [0, 1, 0]})) == 3


def test_copies_after_parsing_are_copies_and_missing_rows_are_not_counted():
    # "70M" and 70000000 are the same number; the NaN row is dropped first (omit)
    table = {"N": ["70M", 70_000_000, 1e8, 1e8], "D": [1.4e9, 1.4e9, None, 2e9],
             "loss": [3.9, 3.9, 3.5, 3.4]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = load_runs(table, nan_policy="omit", duplicates="drop")
    assert len(runs) == 2 and runs.dropped_rows == (1, 2) and runs.row_numbers == (0, 3)
    assert sum("an earlier row in every column" in str(w.message) for w in caught) == 1


def test_unhashable_cells_from_json_records(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"N": 1e8, "D": 1e10, "loss": 3.0, "tags": ["a"]}\n'
                    '{"N": 1e8, "D": 1e10, "loss": 3.0, "tags": ["a"]}\n'
                    '{"N": 1e8, "D": 1e10, "loss": 3.0, "tags": ["b"]}\n')
    with pytest.warns(ScalingLawsWarning, match=r"1 row repeats an earlier row in every column "
                                                r"\(row 1 \(line 2\) repeats row 0 \(line 1\)\)"):
        assert len(load_runs(path)) == 3


# ----------------------------------------------------------------------------- real data


def test_public_tables_raise_no_units_or_duplicate_warning(shared_dir):
    from scalinglaws.data import public

    root = shared_dir / "datasets"
    loads = [
        lambda: public.epoch_chinchilla(root / "chinchilla_epoch" / "svg_extracted_data.csv"),
        lambda: load_runs(root / "chinchilla_epoch" / "svg_extracted_data.csv"),
        lambda: public.porian2024(root / "porian2024" / "porian2024_isoflop.csv"),
        lambda: public.muennighoff2023(
            root / "muennighoff2023_datablations" / "datablations_c4_runs.csv"),
        lambda: load_runs(root / "lr_schedule_curves" / "mpl_luo2025_curves.csv",
                          columns={"N": "n_params", "D": "tokens"}),
        lambda: load_runs(pd.read_csv(root / "downstream_evals" / "olmo_ladder_checkpoints.csv")
                          .query("tokens > 0"),
                          columns={"N": "n_params", "D": "tokens", "C": "flops",
                                   "loss": "c4_en_loss"}),
    ]
    project = Path(__file__).resolve().parents[2]
    loads.append(lambda: load_runs(project / "datasets" / "synthetic_chinchilla_sweep.csv"))
    # Parts a user may fit alone: each IsoFLOP budget of each of Porian et al.'s settings
    # (up to 44% of a budget's runs have D < N), each OLMo ladder run's checkpoints (early
    # checkpoints have D far below N), the compute-optimal pairs.
    porian = pd.read_csv(root / "porian2024" / "porian2024_isoflop.csv")
    for _, budget in porian.groupby(["setting", "C"]):
        loads.append(lambda budget=budget: load_runs(budget[["N", "D", "C", "loss"]]))
    olmo = pd.read_csv(root / "downstream_evals" / "olmo_ladder_checkpoints.csv")
    for _, run in olmo.query("tokens > 0").groupby("run_id"):
        loads.append(lambda run=run: load_runs(run, columns={
            "N": "n_params", "D": "tokens", "C": "flops", "loss": "c4_en_loss"}))
    pairs = pd.read_csv(root / "porian2024" / "porian2024_optimal_pairs_repo.csv")
    loads.append(lambda: load_runs(pairs, columns={"N": "N_opt", "D": "D_opt",
                                                   "loss": "loss_opt"}, nan_policy="omit"))
    # Review s38: every other table of ../shared a user may load as runs, under its
    # recognised headers (the two N of Luo et al.'s curves named), and the bundled tables of
    # datasets/ that hold N, D or C but no loss (a constant loss added: only their counts
    # are checked)
    olmo_all = olmo.query("tokens > 0")
    for loss in [column for column in olmo.columns if column.endswith("_loss")]:
        loads.append(lambda loss=loss: load_runs(olmo_all, columns={"loss": loss}))
    loads.append(lambda: load_runs(root / "downstream_evals" / "olmo_ladder_tasks.csv",
                                   columns={"loss": "c4_loss"}, zero_tokens="drop"))
    curves = root / "lr_schedule_curves" / "mpl_luo2025_curves.csv"
    for n in ("n_params", "n_params_nonembedding"):
        loads.append(lambda n=n: load_runs(curves, columns={"N": n}))
    loads.append(lambda: load_runs(root / "porian2024" / "porian2024_isoflop.csv"))
    loads.append(lambda: load_runs(
        root / "muennighoff2023_datablations" / "datablations_c4_runs.csv",
        nan_policy="omit"))
    for name in ("gpt3_table_d1.csv", "hoffmann2022_table3.csv", "hoffmann2022_table_a9.csv"):
        table = pd.read_csv(project / "datasets" / name, comment="#").assign(loss=3.0)
        loads.append(lambda table=table: load_runs(table, duplicates="keep"))
    for load in loads:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load()
        assert units_warnings(caught) == []
        assert not [w for w in caught if "an earlier row in every column" in str(w.message)]
        # nor do they look like checkpoints without a run id, or hold two columns of N
        assert not [w for w in caught if "look like checkpoints" in str(w.message)
                    or "looks like N too" in str(w.message)]


def test_a_header_naming_a_scale_is_quiet_when_the_cells_carry_suffixes(tmp_path):
    """Review s27 F17: '22.36M' under 'model_params_M' is read as 2.236e7 already, yet the
    advice said to multiply by 1e6 before loading, which would make N 1e6 times too large."""
    table = sweep()
    path = tmp_path / "units2.csv"
    pd.DataFrame({"model_params_M": [f"{n / 1e6:.2f}M" for n in table.N], "D": table.D,
                  "loss": table.loss}).to_csv(path, index=False)
    runs, said = quiet_load(path, columns={"N": "model_params_M"})
    assert said == []
    np.testing.assert_allclose(runs.N, table.N, rtol=5e-4)  # 2 decimals of millions
    # the same numbers without the suffix still get the advice
    plain = pd.DataFrame({"model_params_M": table.N / 1e6, "D": table.D, "loss": table.loss})
    said = quiet_load(plain, columns={"N": "model_params_M"})[1]
    assert len(said) == 1 and "multiply the values by 1e6 before loading" in said[0]


def test_a_missing_column_message_gives_no_scale_advice_for_suffixed_cells():
    """The close column a missing N suggests: 'params_M' holding 22.36M needs mapping only."""
    table = sweep()
    suffixed = {"params_M": [f"{n / 1e6:.2f}M" for n in table.N], "loss": table.loss}
    with pytest.raises(sl.InputError) as caught:
        _ = load_runs(suffixed).N
    assert str(caught.value).endswith("or say which column holds it with the columns option "
                                      "(N=params_M)")
    plain = {"params_M": table.N / 1e6, "loss": table.loss}
    with pytest.raises(sl.InputError, match=r"\(N=params_M\)\. Mind the units of 'params_M': "
                                            r"its header says millions.*multiply the values "
                                            r"by 1e6"):
        _ = load_runs(plain).N


def test_one_row_in_other_units_is_named(tmp_path):
    # the audit's case: one row's params written "183" where the others carry "M"; the
    # column-wide checks (largest value, median D/N) could not see it, and the fit failed
    # on a bound with advice about starts
    frame = sweep().drop(columns="C").astype({"N": object})
    frame["N"] = [f"{n / 1e6:.4g}M" for n in sweep()["N"]]
    frame.loc[3, "N"] = f"{sweep()['N'][3] / 1e6:.4g}"
    path = tmp_path / "one_row.csv"
    frame.to_csv(path, index=False)
    _, said = quiet_load(path)
    assert len(said) == 1
    assert "column 'N' (N) is 97.19 at row 3 (line 5)" in said[0]
    assert "2.06e+05 times below the smallest value of any other row" in said[0]
    # and at the top end: one D written in tokens among D in thousands would be far above
    big = sweep()
    big.loc[big["D"].idxmax(), "D"] *= 1e4
    assert any("times above the largest value of any other row" in text for text in quiet_load(
        big.drop(columns="C"))[1])
    # every public sweep's sizes sit within half a decade of their neighbours: quiet
    assert quiet_load(sweep())[1] == []


def test_a_few_rows_in_other_units_are_named_together_with_the_unit(tmp_path):
    """Review s38: two rows' N typed in millions (78.5 and 211 among counts from 2.2e7) were
    named only as diverged runs, "loss 0.54x the law's", with E on a bound: the check saw
    the smallest value alone, 2.7 times below the next (the other slip)."""
    table = pd.read_csv(SWEEP_CSV)
    table.loc[[3, 50], "N"] /= 1e6
    path = tmp_path / "mixed.csv"
    table.to_csv(path, index=False)
    said = quiet_load(path)[1]
    assert said == [
        f"{path}: column 'N' (N) is 78.51 at row 3 (line 5) and 210.9 at row 50 (line 52), "
        "1.06e+05 times below the smallest value of any other row: are they written in "
        "millions (times 1e6 they lie among the other rows' values, 2.236e+07 to 5e+10)? "
        "Write parameters as numbers or with a suffix (70M, 1.4B, 2T); if the values are "
        "right, they are used as given: in Python, silence this with "
        "warnings.filterwarnings('ignore', category=scalinglaws.UnitsWarning); on the "
        "command line it is a warning only"]
    # tokens in billions in three rows of one budget (and no C to compare them with)
    tokens = pd.read_csv(SWEEP_CSV).drop(columns="C")
    tokens.loc[[0, 1, 2], "D"] /= 1e9
    said = quiet_load(tokens)[1]
    assert len(said) == 1 and said[0].startswith("<DataFrame>: column 'D' (D) is 44.72 at "
                                                 "row 0, 29.42 at row 1 and 19.36 at row 2")
    assert "are they written in billions (times 1e9" in said[0]
    # the rows beyond the gap must be fewer than the rest: two halves three decades apart
    # are two sweeps, not a slip
    halves = pd.DataFrame({"N": np.r_[np.geomspace(1e5, 1e6, 6), np.geomspace(1e9, 1e10, 6)],
                           "D": np.r_[np.geomspace(2e8, 2e9, 6), np.geomspace(2e10, 2e11, 6)],
                           "loss": np.linspace(4.0, 2.5, 12)})
    halves.loc[:5, "N"] = np.geomspace(1e5, 5e5, 6)  # 3.3 decades below the other half
    assert [text for text in quiet_load(halves)[1] if "of any other row" in text] == []


def test_isolated_rows_need_a_gap_of_three_decades():
    # 1e6 beside sizes from 1.1e9 (3.04 decades) warns; from 9e8 (2.95 decades) does not
    def said(smallest_next):
        frame = pd.DataFrame({"N": [1e6, smallest_next, 2e9, 4e9, 8e9],
                              "D": [2e7, 2e10, 4e10, 8e10, 1.6e11],
                              "loss": [4.0, 3.0, 2.9, 2.8, 2.7]})
        return [text for text in quiet_load(frame)[1] if "of any other row" in text]
    assert len(said(1.1e9)) == 1 and said(9e8) == []


def test_units_warnings_point_at_the_users_line():
    # the audit's case: sl.fit(DataFrame) in other units warned from data/runs.py, not from
    # the line that called it, however deep the loader sat (load_runs, as_runs, fit)
    frame = sweep().drop(columns="C").assign(N=lambda f: f["N"] / 1e6)
    for call in (lambda: load_runs(frame), lambda: sl.fit(frame)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        units = [w for w in caught if issubclass(w.category, UnitsWarning)]
        assert units and all(w.filename == __file__ for w in units), [w.filename for w in units]


def test_parameters_in_millions_beside_tokens_in_billions_both_warn(tmp_path):
    """Review s35: N in millions up to 5e4 (a 50B model) passes N's floor of 1e4, and the
    D/N check that would see it waits for D's units, so only D was named."""
    table = sweep().drop(columns="C")
    table["N"] = np.geomspace(2e7, 5e10, len(table)) / 1e6  # 20 .. 50,000 "millions"
    table["D"] = table["D"] / 1e9
    path = tmp_path / "mb.csv"
    table.to_csv(path, index=False)
    said = quiet_load(path)[1]
    assert len(said) == 2
    assert said[0].startswith(f"{path}: every value of column 'D' (D) is below 1e6")
    assert said[1].startswith(f"{path}: every value of column 'N' (N) is below 1e6 (largest "
                              f"5e+04, at row 39 (line 41)), and column 'D' (D) is written in "
                              f"other units: parameters written in millions or billions")
    # N in parameters beside D in billions: D alone is named
    said = quiet_load(table.assign(N=table["N"] * 1e6))[1]
    assert len(said) == 1 and "column 'D' (D)" in said[0]


def test_tokens_in_millions_beside_parameters_in_billions_both_warn():
    table = sweep().drop(columns="C")
    # tokens to 8.3e12 (as 8.3e6 "millions", above D's own floor of 1e6), N in billions
    table["N"], table["D"] = table["N"] / 1e9, 10 * table["D"] / 1e6
    said = quiet_load(table)[1]
    assert len(said) == 2
    assert "column 'N' (N) is below 1e4" in said[0]
    assert "every value of column 'D' (D) is below 1e9" in said[1]
    assert "tokens written in millions or billions" in said[1]


def test_a_toy_sweep_in_counts_warns_once():
    """Beside a column that is no scale the other's floor stays its own: a toy sweep of
    small models (N up to 5e5, D up to 1e8) is not flagged twice."""
    n = np.geomspace(1e3, 5e5, 8)
    said = quiet_load({"N": n, "D": 200 * n, "loss": np.linspace(4.0, 3.0, 8)})[1]
    assert said == []
