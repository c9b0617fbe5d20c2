"""Which rows a bootstrap resample draws: multiplicities of runs or of whole clusters.

A resample is a vector of multiplicities, one per row of the runs (drawing rows with
replacement is weighting each by how often it was drawn). Rows are drawn one by one,
optionally within strata (``groups``), or, when several rows are checkpoints of one
training run (rows sharing a ``run_id``, as
:func:`~scalinglaws.analysis.curves.anytime_points` makes them), as whole clusters: every
row of a drawn cluster comes with it, so the strongly correlated errors of one run's
checkpoints are not taken for independent ones. Within strata, clusters are resampled
inside each stratum (a cluster spanning two strata is two clusters, one in each).

:func:`resolve_clusters` reads ``clusters=`` (``"auto"``, a column, or None);
:func:`resample_counts` draws; :func:`leave_one_out` gives the jackknife's weights (one
row per cluster left out); :func:`resampled_text` says what was resampled, in every
summary alike.
"""

from __future__ import annotations

import numpy as np

from .._exceptions import InputError
from .._text import named_list
from ..data.run_ids import checkpoint_runs
from ..data.run_ids import run_numbers as _numbered

__all__ = ["resample_counts", "distinct_points", "design_points", "resolve_clusters",
           "leave_one_out", "resampled_text", "CLUSTERS_DEFAULT"]

#: ``clusters=`` by default: whole runs when ``run_id`` repeats, else rows
CLUSTERS_DEFAULT = "auto"
_COUNT_BLOCK = 1 << 17  # runs x resamples drawn at a time by resample_counts


def resampled_text(clusters: str | None) -> str:
    """What a bootstrap resampled, as summaries say it: ``"whole runs (run_id) resampled"``
    or ``"rows resampled"`` (``clusters`` None).

    Examples
    --------
    >>> resampled_text("run_id"), resampled_text(None)
    ('whole runs (run_id) resampled', 'rows resampled')
    """
    return "rows resampled" if clusters is None else f"whole runs ({clusters}) resampled"


def distinct_points(counts: np.ndarray, point_of_run: np.ndarray) -> np.ndarray:
    """Distinct design points drawn by each resample (row of ``counts``), ``(n_resamples,)``.

    ``point_of_run`` numbers each run's design point (runs at the same inputs share one),
    as :func:`design_points` returns it.

    Examples
    --------
    >>> distinct_points(np.array([[2., 0., 1.], [0., 3., 0.]]), np.array([0, 1, 1]))
    array([2, 1])
    """
    counts = np.asarray(counts)
    n_points = int(point_of_run.max()) + 1 if point_of_run.size else 0
    if n_points == point_of_run.size:  # every run at its own inputs: count the runs drawn
        return np.count_nonzero(counts, axis=1)
    drawn = np.zeros((counts.shape[0], n_points))
    for run, point in enumerate(point_of_run):
        drawn[:, point] += counts[:, run]
    return np.count_nonzero(drawn, axis=1)


def design_points(inputs: dict) -> np.ndarray:
    """Number of each run's design point: runs with equal values of every input (replicas,
    e.g. seeds) share one. ``inputs`` maps input names to arrays, as ``Runs.inputs`` gives."""
    table = np.column_stack([np.asarray(v, dtype=float) for v in inputs.values()])
    return np.unique(table, axis=0, return_inverse=True)[1].ravel()


def resample_counts(n_runs: int, n_resamples: int, rng, groups=None,
                    clusters=None) -> np.ndarray:
    """Multiplicity of each run in each resample, ``(n_resamples, n_runs)``.

    Within ``groups`` (an array of labels), each group is resampled to its own
    size, so every resample keeps the design (e.g. runs per compute budget). With
    ``clusters`` (each row's cluster number, ``0..n_clusters - 1``, as
    :func:`resolve_clusters` gives them: numbered by first appearance, never spanning
    two groups), whole clusters are drawn (within ``groups``: each group's clusters, as
    many as it has) and each row gets its cluster's multiplicity. Clusters of one row
    each, numbered in row order, give the draws of rows, bit for bit.

    Examples
    --------
    >>> counts = resample_counts(4, 3, np.random.default_rng(0), clusters=np.array([0, 0, 1, 1]))
    >>> bool(np.all(counts[:, 0] == counts[:, 1]) and np.all(counts.sum(axis=1) == 4))
    True
    """
    if groups is not None:
        _check_labelled(groups)
    if clusters is not None:
        codes = np.asarray(clusters)
        first = np.unique(codes, return_index=True)[1]  # a row of each cluster, in order
        strata = None if groups is None else np.asarray(groups)[first]
        return resample_counts(first.size, n_resamples, rng, strata)[:, codes]
    rows = np.arange(n_resamples)[:, None] * n_runs
    if groups is None:
        # in blocks of resamples: the same draws as one call (the generator's stream does
        # not depend on how it is split), without four (n_resamples, n_runs) temporaries,
        # whose fresh pages cost more than the counting (10,000 x 240: 130 ms against 30)
        counts = np.empty((n_resamples, n_runs))
        block = max(1, _COUNT_BLOCK // max(n_runs, 1))
        for lo in range(0, n_resamples, block):
            hi = min(lo + block, n_resamples)
            picks = rng.integers(0, n_runs, size=(hi - lo, n_runs)) + rows[:hi - lo]
            counts[lo:hi] = np.bincount(picks.ravel(), minlength=(hi - lo) * n_runs).reshape(
                hi - lo, n_runs)
        return counts
    counts = np.zeros(n_resamples * n_runs)
    labels = np.asarray(groups)
    for label in sorted(set(labels.tolist()), key=str):
        members = np.flatnonzero(labels == label)
        picks = members[rng.integers(0, members.size, size=(n_resamples, members.size))]
        counts += np.bincount((rows + picks).ravel(), minlength=n_resamples * n_runs)
    return counts.reshape(n_resamples, n_runs)


def _check_labelled(groups) -> None:
    """Refuse ``groups`` with a missing label (NaN, None): its run would match no stratum
    and never be drawn. Runs' columns are checked first, naming the file's rows
    (:meth:`~scalinglaws.data.runs.Runs.labels`); this guards the positions given here."""
    import pandas as pd

    missing = np.flatnonzero(pd.isna(np.asarray(groups, dtype=object)))
    if missing.size:
        where = ("row " if missing.size == 1 else "rows ") + named_list(missing.tolist(), 5)
        raise InputError(f"`groups` is missing at {where} (a run with no stratum would never "
                         "be drawn): give every run a label")


def leave_one_out(clusters, n_runs: int) -> np.ndarray:
    """The jackknife's weights, ``(n_left_out, n_runs)``: each row leaves out one run, or,
    given ``clusters`` (each row's cluster number), one whole cluster.

    Examples
    --------
    >>> leave_one_out(np.array([0, 0, 1]), 3)
    array([[0., 0., 1.],
           [1., 1., 0.]])
    """
    if clusters is None:
        return 1.0 - np.eye(n_runs)
    codes = np.asarray(clusters)
    return (codes[None, :] != np.arange(int(codes.max()) + 1)[:, None]).astype(float)


def runs_column(runs, name: str) -> str | None:
    """The runs' column that ``name`` names: a column as the runs hold it, or the header it
    was read from (``"run"``, read as ``run_id``; ``"flops"``, read as ``C``); None if
    neither."""
    if name in runs.columns:
        return name
    read_as = [column for column, header in runs.source_columns.items() if header == name
               and column in runs.columns]
    return read_as[0] if read_as else None


def _column(runs, clusters: str) -> str:
    """:func:`runs_column` of ``clusters``, or the InputError that names it."""
    import difflib

    column = runs_column(runs, clusters)
    if column is not None:
        return column
    names = [str(c) for c in runs.columns]
    close = difflib.get_close_matches(clusters, names, n=1)
    raise InputError(f"`clusters` (--cluster) names column {clusters!r}, which the runs do "
                     f"not have"
                     + (f": did you mean {close[0]!r}?" if close else "")
                     + f" (columns: {', '.join(names)}); give a column whose value is shared "
                     "by the rows of one run, 'auto' (run_id when it repeats) or None "
                     "(--cluster none on the command line: every row a run of its own)")


def resolve_clusters(runs, clusters=CLUSTERS_DEFAULT, groups=None):
    """``(column, codes)``: the column whose rows are resampled together and each row's
    cluster number (numbered by first appearance, within ``groups``' strata when given),
    or ``(None, None)`` to resample rows.

    ``clusters`` is ``"auto"`` (``run_id`` when some run id repeats, rows otherwise; a
    row with no run id is a run of its own), a column name (the runs' name or the header
    it was read from; a missing value is refused, naming the row) or None (rows).

    Examples
    --------
    >>> import scalinglaws as sl
    >>> runs = sl.load_runs({"N": [1e8, 1e8, 2e8], "D": [1e9, 2e9, 4e9],
    ...                      "loss": [3.2, 3.0, 2.8], "run": ["a", "a", "b"]})
    >>> resolve_clusters(runs)
    ('run_id', array([0, 0, 1]))
    >>> resolve_clusters(runs, None)
    (None, None)
    """
    if clusters is None:
        return None, None
    if not isinstance(clusters, str):
        raise InputError(f"`clusters` (--cluster) must be 'auto', a column name or None, got "
                         f"{type(clusters).__name__} {clusters!r}")
    if clusters == CLUSTERS_DEFAULT:
        codes = checkpoint_runs(runs)
        if codes is None:  # no run id repeats
            return None, None
        column = "run_id"
    else:
        column = _column(runs, clusters)
        codes = _numbered(runs.labels(column, "clusters"))
    if groups is not None:  # a cluster within each stratum
        strata = _numbered(groups)
        codes = _numbered(codes * (int(strata.max()) + 1) + strata)
    return column, codes
