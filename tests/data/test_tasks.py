"""load_tasks and TaskTable: validation with located messages, and each processing step
checked against a computation written independently here (pandas, by hand)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglaws import InputError, ScalingLawsWarning, UnitsWarning
from scalinglaws.data.tasks import MMLU_TEST_WEIGHTS, TaskTable, load_tasks


def _frame(n_runs=3, n_checkpoints=7, tasks=("x", "y"), seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n_runs):
        for c in range(n_checkpoints):
            for task in tasks:
                rows.append({"run": f"r{r}", "params": 1e8 * (r + 1), "tokens": 1e9 * (c + 1),
                             "step": 100 * (c + 1), "task": task,
                             "bpb": 1.5 - 0.05 * c + 0.01 * rng.normal(),
                             "acc": 0.3 + 0.02 * c + 0.01 * rng.normal(), "chance": 0.25})
    return pd.DataFrame(rows)


@pytest.fixture
def table():
    # rows shuffled: the table orders checkpoints by D itself
    return load_tasks(_frame().sample(frac=1.0, random_state=1))


def test_canonical_columns_and_order(table):
    frame = table.frame
    assert list(frame.columns[:11]) == ["run_id", "N", "D", "C", "step", "checkpoint", "task",
                                        "task_loss", "accuracy", "chance", "source_row"]
    assert table.tasks == ("y", "x") or set(table.tasks) == {"x", "y"}
    for _, run in frame.groupby(["task", "run_id"]):
        assert np.all(np.diff(run["D"].to_numpy()) > 0)
        assert run["checkpoint"].tolist() == list(range(len(run)))
    np.testing.assert_allclose(frame["C"], 6 * frame["N"] * frame["D"])
    assert table.derived == ("C",)


def test_values_survive_loading_unchanged():
    raw = _frame()
    table = load_tasks(raw)
    back = table.frame.sort_values("source_row")
    np.testing.assert_array_equal(back["task_loss"].to_numpy(), raw["bpb"].to_numpy())
    np.testing.assert_array_equal(back["accuracy"].to_numpy(), raw["acc"].to_numpy())


def test_accuracy_outside_zero_one_names_file_row_line_and_column(tmp_path):
    raw = _frame()
    raw.loc[4, "acc"] = 1.7
    path = tmp_path / "evals.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"evals.csv: row 4 \(line 6\), column 'acc' "
                                         r"\(accuracy\): value 1.7 is not in \[0, 1\]"):
        load_tasks(path)


def test_bad_task_loss_reports_like_load_runs(tmp_path):
    raw = _frame()
    raw["bpb"] = raw["bpb"].astype(object)
    raw.loc[2, "bpb"] = "abc"
    path = tmp_path / "evals.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"row 2 \(line 4\), column 'bpb'.*'abc' is not a "
                                         "number"):
        load_tasks(path)


def test_missing_accuracy_column_lists_columns_and_names():
    raw = _frame().drop(columns="acc")
    with pytest.raises(InputError, match="no accuracy column.*Columns: run, params.*"
                                         "Recognised names: accuracy, acc"):
        load_tasks(raw)


def test_explicit_columns_win_and_misspelling_is_suggested():
    raw = _frame().rename(columns={"acc": "acc_norm", "bpb": "answer_bits"})
    table = load_tasks(raw, columns={"accuracy": "acc_norm", "task_loss": "answer_bits"})
    assert table.has_task_loss
    with pytest.raises(InputError, match="Did you mean 'acc_norm'"):
        load_tasks(raw, columns={"accuracy": "acc_nrm"})


def test_missing_values_raise_or_are_dropped_with_a_count():
    raw = _frame()
    raw.loc[5, "acc"] = np.nan
    with pytest.raises(InputError, match=r"row 5, column 'acc' \(accuracy\): value is missing"):
        load_tasks(raw)
    with pytest.warns(ScalingLawsWarning, match="dropped 1 of 42 rows"):
        table = load_tasks(raw, nan_policy="omit")
    assert len(table) == 41 and table.n_dropped == 1


def test_missing_chance_is_allowed_but_bad_chance_is_not():
    raw = _frame()
    raw["chance"] = raw["chance"].astype(float)
    raw.loc[0, "chance"] = np.nan  # takes its task's level
    assert load_tasks(raw).frame.sort_values("source_row")["chance"].iloc[0] == 0.25
    raw["chance"] = np.nan
    assert math.isnan(load_tasks(raw).chance("x"))
    raw.loc[0, "chance"] = -0.1
    with pytest.raises(InputError, match="column 'chance'.*not in"):
        load_tasks(raw)


def test_a_task_has_one_chance_level():
    raw = _frame()
    raw.loc[(raw["task"] == "y") & (raw["run"] == "r1"), "chance"] = 0.5
    with pytest.raises(InputError, match="task 'y' has 2 chance levels \\(0.25, 0.5\\)"):
        load_tasks(raw)


def test_chance_argument_per_task_and_given_twice():
    raw = _frame().drop(columns="chance")
    table = load_tasks(raw, chance={"x": 0.3, "y": 0.2})
    assert table.chance("x") == 0.3 and table.chance("y") == 0.2
    assert math.isnan(load_tasks(raw).chance("x"))
    with pytest.raises(InputError, match="give chance levels once"):
        load_tasks(_frame(), chance=0.25)
    with pytest.raises(InputError, match=r"`chance\['x'\]` must be in \[0, 1\]"):
        load_tasks(raw, chance={"x": 2})


def test_duplicate_checkpoint_and_changing_size_are_refused():
    raw = _frame()
    twice = pd.concat([raw, raw.iloc[[3]]], ignore_index=True)
    with pytest.raises(InputError, match=r"row 42 repeats row 3\): a second copy of a "
                                         r"checkpoint on a task, which the table holds once; "
                                         r"set duplicates to 'drop' to keep the first of each$"):
        load_tasks(twice)  # 'keep' is not offered: a kept copy is refused below anyway
    for policy in ("keep", "warn"):  # were accepted, then refused as the same checkpoint
        with pytest.raises(InputError, match=r"`duplicates` must be one of 'raise', 'drop'"):
            load_tasks(raw, duplicates=policy)
    again = twice.assign(acc=lambda f: f["acc"].where(f.index < 42, 0.9))  # not a repeat
    with pytest.raises(InputError, match="row 3 and row 42 are the same checkpoint of run 'r0'"):
        load_tasks(again)
    raw.loc[raw.index[-1], "params"] = 5e9
    with pytest.raises(InputError, match="run 'r2' has 2 values of N"):
        load_tasks(raw)


def test_rows_repeated_in_every_column_raise_or_are_dropped():
    """duplicates= as in load_runs (it was accepted by the CLI and ignored)."""
    raw = _frame()
    twice = pd.concat([raw, raw.iloc[[3, 5]]], ignore_index=True)
    with pytest.raises(InputError, match=r"2 rows repeat an earlier row in every column "
                                         r"\(row 42 repeats row 3; row 43 repeats row 5\)"):
        load_tasks(twice)
    with pytest.warns(ScalingLawsWarning, match="dropped 2 rows that repeat an earlier row"):
        table = load_tasks(twice, duplicates="drop")
    assert len(table) == len(raw) and table.n_dropped == 2
    assert sorted(table.frame["source_row"]) == list(range(len(raw)))
    pd.testing.assert_frame_equal(table.frame, load_tasks(raw).frame)
    with pytest.raises(InputError, match="`duplicates` must be one of"):
        load_tasks(raw, duplicates="first")


def test_zero_tokens_raise_or_drop():
    raw = _frame()
    raw.loc[raw["step"] == 100, "tokens"] = 0
    with pytest.raises(InputError, match=r"row 0, column 'tokens': value 0 \(an untrained "
                                         r"checkpoint\? 6 rows are at 0\); to drop them, set "
                                         "zero_tokens to 'drop'"):
        load_tasks(raw)
    with pytest.warns(ScalingLawsWarning, match="dropped 6 rows at D = 0"):
        table = load_tasks(raw, zero_tokens="drop")
    assert len(table) == 36 and table.frame["D"].min() == 2e9
    with pytest.raises(InputError, match="`zero_tokens` must be one of"):
        load_tasks(raw, zero_tokens="keep")


def test_no_task_loss_is_allowed_and_said_when_needed():
    table = load_tasks(_frame().drop(columns="bpb"))
    assert not table.has_task_loss
    # in plain words that read the same in Python and on the command line (before:
    # "columns={'task_loss': ...}", no flag spells that)
    with pytest.raises(InputError, match=r"no task loss column: step 1 needs one \(say which "
                                         r"column holds it with the columns option, "
                                         r"task_loss=<column>\)$"):
        table.to_runs("x")


def test_a_table_without_tokens_is_refused_naming_the_column(tmp_path):
    """No D column (nor C) raised KeyError: 'D' from inside pandas."""
    path = tmp_path / "evals.csv"
    _frame().drop(columns="tokens").to_csv(path, index=False)
    with pytest.raises(InputError, match=r"evals.csv have no 'D' column \(tokens\); a task "
                                         r"table needs N and D at every checkpoint \(or C"):
        load_tasks(path)
    with pytest.raises(InputError, match=r"The file has: .*params \(read as N\).*bpb \(read as "
                                         r"task_loss\)"):
        load_tasks(path)
    with pytest.raises(InputError, match="Did you mean 'tokens_trained'.*columns option "
                                         r"\(D=tokens_trained\)"):
        load_tasks(_frame().rename(columns={"tokens": "tokens_trained"}))
    with pytest.raises(InputError, match="no 'N' column"):
        load_tasks(_frame().drop(columns="params"))
    # two of N, D, C are enough: the third is derived
    table = load_tasks(_frame().assign(C=lambda f: 6 * f["params"] * f["tokens"])
                       .drop(columns="tokens"))
    assert table.derived == ("D",) and table.frame["D"].min() == pytest.approx(1e9)


def test_sizes_in_millions_and_billions_warn_as_load_runs_does():
    """N in millions and D in billions (the reviewer's t2: a prediction of 0.9655 against
    0.8638) warn, as load_runs warns on the same values; the task loss is not judged."""
    raw = _frame().assign(params=lambda f: f["params"] / 1e6, tokens=lambda f: f["tokens"] / 1e9)
    with pytest.warns(UnitsWarning) as caught:
        load_tasks(raw)
    messages = [str(w.message) for w in caught if issubclass(w.category, UnitsWarning)]
    assert len(messages) == 2
    assert messages[0].startswith("<DataFrame>: every value of column 'params' (N) is below "
                                  "1e4 (largest 300, at row 28)")
    assert "column 'tokens' (D) is below 1e6 (largest 7" in messages[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitsWarning)
        load_tasks(_frame().rename(columns={"bpb": "task_bpb"}).assign(task_bpb=20.0))


def test_the_shared_task_tables_raise_no_units_warning(shared_dir):
    folder = shared_dir / "datasets" / "downstream_evals"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitsWarning)
        warnings.filterwarnings("ignore", ".*dropped", ScalingLawsWarning)
        load_tasks(folder / "olmo_ladder_tasks.csv", zero_tokens="drop")
        load_tasks(folder / "obsscaling_base_models.csv", columns={"run_id": "model"},
                   nan_policy="omit")


@pytest.mark.parametrize("header", ["run_name", "Run Name", "run-id", "name", "run_path"])
def test_common_run_headers_name_the_run(header):
    """The run headers load_curves recognises; each checkpoint is not a run of its own
    (which made the ladder's intervals about 5x too narrow)."""
    table = load_tasks(_frame().rename(columns={"run": header}))
    assert table.run_ids == ("r0", "r1", "r2")


def test_two_run_like_columns_must_be_chosen_unless_one_is_run_id():
    raw = _frame().assign(name=lambda f: "m-" + f["run"])
    with pytest.raises(InputError, match="columns 'run' and 'name' both look like run_id; "
                                         r"say which .*\(run_id=run or run_id=name\)"):
        load_tasks(raw)
    assert load_tasks(raw, columns={"run_id": "name"}).run_ids == ("m-r0", "m-r1", "m-r2")
    assert load_tasks(raw.rename(columns={"run": "run_id"})).run_ids == ("r0", "r1", "r2")


def test_checkpoints_without_a_run_column_are_refused_naming_the_candidates():
    raw = _frame().rename(columns={"run": "model"}).assign(family="f")
    with pytest.raises(InputError) as error:
        load_tasks(raw)
    message = str(error.value)
    assert message.startswith("<DataFrame>: no run column, and N = 1e+08 has 7 values of D "
                              "on task 'x' (row 0, row 2, row 4 and 4 more)")
    assert "(21 runs of 3 sizes here)" in message
    # 'model' has one N per value; 'family' (one value) and 'task' are not runs
    assert "(run_id=<column>): 'model' could be it (one N each)" in message
    assert "Recognised names: run_id, run, run_name, name, run_path" in message
    assert "run_id=None (on the command line --columns run_id=)" in message
    # said knowingly, each (N, D) is a run
    assert len(load_tasks(raw, columns={"run_id": None}).run_ids) == 21
    # one D per N: a table of final evaluations, one row per run and task
    final = raw[raw["step"] == 700].drop(columns="model")
    assert load_tasks(final).run_ids == ("N=1e+08,D=7e+09", "N=2e+08,D=7e+09",
                                         "N=3e+08,D=7e+09")


def test_same_n_and_d_twice_without_a_run_column_says_to_name_it():
    raw = _frame(n_checkpoints=1)
    twice = pd.concat([raw, raw.assign(run="other", acc=raw["acc"] + 0.01)], ignore_index=True)
    with pytest.raises(InputError, match="same checkpoint of run 'N=1e\\+08,D=1e\\+09'.*no run "
                                         r"column.*\(run_id=<column>\)"):
        load_tasks(twice.drop(columns="run"))


def test_columns_option_messages_list_the_files_own_columns():
    """The loader's working columns (__accuracy__, __task__...) never reach a message."""
    with pytest.raises(InputError, match="maps run_id to 'model', but there is no such "
                                         "column.*Columns: run, params, tokens, step, task, "
                                         "bpb, acc, chance$") as error:
        load_tasks(_frame(), columns={"run_id": "model"})
    assert "__" not in str(error.value)
    with pytest.raises(InputError, match="column 'task' would be both run_id and task; say "
                                         "which with the columns option"):
        load_tasks(_frame(), columns={"run_id": "task"})
    with pytest.raises(InputError, match="column 'acc' would be both task_loss and accuracy"):
        load_tasks(_frame(), columns={"task_loss": "acc"})
    with pytest.raises(InputError, match="names 'loss', not one of task, task_loss, accuracy, "
                                         r"chance, run_id, N, D, C, step \(a task table's loss "
                                         "is task_loss\)"):
        load_tasks(_frame(), columns={"loss": "bpb"})


def test_bad_arguments_name_themselves():
    with pytest.raises(InputError, match="`nan_policy`"):
        load_tasks(_frame(), nan_policy="drop")
    with pytest.raises(InputError, match="data must be a file path"):
        load_tasks([1, 2])
    with pytest.raises(InputError, match="`sep`.*applies only when data is a file path"):
        load_tasks(_frame(), sep=";")


# ----------------------------------------------------------------------------- processing


def test_aggregate_is_the_weighted_mean_of_the_subsets(table):
    out = table.aggregate("xy", {"x": 1.0, "y": 3.0})
    frame = table.frame
    x = frame[frame.task == "x"].set_index(["run_id", "D"])
    y = frame[frame.task == "y"].set_index(["run_id", "D"])
    mine = out.only(tasks="xy").frame.set_index(["run_id", "D"]).sort_index()
    expected = ((x["accuracy"] + 3 * y["accuracy"]) / 4).sort_index()
    np.testing.assert_allclose(mine["accuracy"], expected, rtol=1e-15)
    expected_loss = ((x["task_loss"] + 3 * y["task_loss"]) / 4).sort_index()
    np.testing.assert_allclose(mine["task_loss"], expected_loss, rtol=1e-15)
    assert "aggregate xy" in out.history[-1] and len(out.tasks) == 3


def test_aggregate_needs_every_subset_at_every_checkpoint(table):
    partial = table.select(~((table.frame["task"] == "y") & (table.frame["D"] == 3e9)
                             & (table.frame["run_id"] == "r1")).to_numpy())
    with pytest.raises(InputError, match="run 'r1' at D = 3e\\+09 has no row for y"):
        partial.aggregate("xy", {"x": 1, "y": 1})
    with pytest.raises(InputError, match="no task 'z'"):
        table.aggregate("xz", {"x": 1, "z": 1})


def test_drop_early_drops_ceil_fraction_of_each_run(table):
    out = table.drop_early(0.1)  # 7 checkpoints: ceil(0.7) = 1 dropped per run and task
    assert len(out) == len(table) - 6
    assert out.frame.groupby(["task", "run_id"])["D"].min().eq(2e9).all()
    assert len(table.drop_early(0.3)) == len(table) - 6 * 3  # ceil(2.1) = 3


def test_moving_average_is_pandas_rolling_per_run(table):
    frame = table.frame
    expected = (frame.groupby(["task", "run_id"], sort=False)["accuracy"]
                .transform(lambda s: s.rolling(3, min_periods=1).mean()))
    out = table.moving_average(3)
    np.testing.assert_allclose(out.frame["accuracy"], expected, rtol=1e-12)
    strict = table.moving_average(3, partial=False).frame
    full = (frame.groupby(["task", "run_id"], sort=False)["task_loss"]
            .transform(lambda s: s.rolling(3).mean())).dropna()
    np.testing.assert_allclose(strict["task_loss"], full, rtol=1e-12)


def test_last_k_is_the_mean_of_the_last_checkpoints(table):
    out = table.last(3).frame.set_index(["task", "run_id"]).sort_index()
    frame = table.frame
    tail = frame.groupby(["task", "run_id"]).tail(3).groupby(["task", "run_id"])
    np.testing.assert_allclose(out["accuracy"], tail["accuracy"].mean().sort_index())
    assert (out["D"] == 7e9).all()
    assert len(table.last(50)) == 6  # fewer checkpoints than k: all of them


def test_tables_are_frozen(table):
    frame = table.frame
    frame.loc[0, "accuracy"] = 0.99
    assert table.frame.loc[0, "accuracy"] != 0.99
    with pytest.raises(AttributeError):  # frozen dataclass
        table.source = "x"
    assert isinstance(table.drop_early(0.5), TaskTable)


def test_query_and_only(table):
    assert table.query("N > 1.5e8").run_ids == ("r1", "r2")
    with pytest.raises(InputError, match="query 'nonsense ==' failed"):
        table.query("nonsense ==")
    with pytest.raises(InputError, match="no run 'r9'"):
        table.only(runs=["r9"])


# ----------------------------------------------------------------------------- the ladder


@pytest.fixture(scope="module")
def ladder(shared_dir):
    with pytest.warns(ScalingLawsWarning, match="dropped 40 rows at D = 0"):
        return load_tasks(shared_dir / "datasets" / "downstream_evals" / "olmo_ladder_tasks.csv",
                          zero_tokens="drop")


def test_the_ladder_file_loads(ladder):
    # 77,000 rows in the file (data README), 40 of them the 7B/13B step-0 checkpoints
    assert len(ladder) == 77_000 - 40
    assert len(ladder.run_ids) == 33 and len(ladder.tasks) == 20
    assert ladder.chance("piqa_val") == 0.5
    assert ladder.chance("socialiqa_val") == pytest.approx(1 / 3)


def test_mmlu_aggregate_reproduces_the_observed_13b_task_loss(ladder):
    # The data README's "actual bpb" of the 13B on mmlu_avg_test: 0.7488 (the mean of its
    # last 5 checkpoints of the weighted MMLU average), to its 4 printed decimals.
    mmlu = ladder.aggregate("mmlu_avg_test", MMLU_TEST_WEIGHTS)
    last5 = mmlu.only(tasks="mmlu_avg_test", runs="olmo2-13B-5T").last(5).frame
    assert last5["task_loss"].iloc[0] == pytest.approx(0.7488, abs=5e-5)
    assert last5["accuracy"].iloc[0] == pytest.approx(0.5161, abs=5e-5)


def test_a_task_wholly_below_chance_is_named():
    # the audit's case: every hellaswag accuracy set to 0.05 against chance 0.25; the fit
    # then predicted 1.0 with only a condition-number warning
    frame = _frame()
    frame.loc[frame["task"] == "y", "acc"] = 0.05
    with pytest.warns(ScalingLawsWarning, match=r"every accuracy of task 'y' \(column 'acc'\) "
                                                r"is below its chance level 0\.25 \(the highest "
                                                r"is 0\.05\)"):
        load_tasks(frame)
    # a few rows below chance are noise: quiet
    frame = _frame()
    frame.loc[frame.index[:3], "acc"] = 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScalingLawsWarning)
        load_tasks(frame)


def test_the_table_records_which_column_it_read_as_the_task_loss():
    # (figures name it, with its unit: the OLMo ladder's task_bpb is bits per byte)
    frame = pd.DataFrame({"run_id": ["a", "a"], "N": [1e8, 1e8], "D": [1e9, 2e9],
                          "task": ["t", "t"], "bpb": [1.1, 1.0], "acc": [0.6, 0.62]})
    table = load_tasks(frame)
    assert table.task_loss_column == "bpb"
    assert table.select(lambda f: f["D"] > 1.5e9).task_loss_column == "bpb"
    assert load_tasks(frame.drop(columns="bpb")).task_loss_column is None


def test_a_missing_run_lists_the_runs_like_it_first():
    """Review s35: `tasks fit ... --target-run peteish7` listed the first 20 of the
    ladder's 33 runs, the OLMo 2 7B runs beyond them; now those sharing a number or a word
    with the name come first, with the count."""
    frame = _frame(n_runs=25, tasks=("x",))
    names = {f"r{r}": f"ladder-{100 + r}M" for r in range(22)}
    names.update({"r22": "olmo2-7B-stage1", "r23": "olmo2-7B-4T-anneal", "r24": "olmo2-13B-5T"})
    table = load_tasks(frame.assign(run=frame["run"].map(names)))
    with pytest.raises(InputError) as caught:
        table.only(runs=["peteish7"])
    message = str(caught.value)
    assert message.startswith("no run 'peteish7' in <DataFrame>; did you mean "
                              "'olmo2-7B-stage1' or 'olmo2-7B-4T-anneal'? The 25 runs: "
                              "olmo2-7B-stage1, olmo2-7B-4T-anneal, ladder-100M, ladder-101M, ")
    assert message.endswith(", ladder-117M and 5 more")
    with pytest.raises(InputError,
                       match=r"did you mean .ladder-103M.\? The 25 runs: ladder-103M, "):
        table.only(runs=["Ladder-103m"])
