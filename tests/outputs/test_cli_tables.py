"""Result tables as a terminal shows them (outputs/cli/_tables.py)."""

import pytest

from scalinglaws.outputs.cli._tables import format_table


def test_format_table_pairs_intervals_and_reads_counts():
    import pandas as pd

    frame = pd.DataFrame({"C": [1e24], "N": [7.03e10], "N_low": [5e10], "N_high": [9e10],
                          "loss": [1.94731], "at_search_edge": [False]})
    text = format_table(frame)
    assert text.splitlines()[1].split() == ["1e+24", "70.3B", "[50B,", "90B]", "1.9473"]


def test_a_table_is_printed_and_written_as_one_document():
    """``--json`` and ``--out x.json`` share json_document: a table becomes its header
    (kind, schema_version, package_version), what its attrs say of the rows and the rows at
    full precision; a dict is headed unless it names another kind, several results under
    the list they name too; a bare list, which has no place for a kind (a re-run asked for
    --force), is refused, and so is a document without an int schema_version."""
    import pandas as pd

    import scalinglaws
    from scalinglaws.outputs.cli._tables import json_document

    frame = pd.DataFrame({"N": [7e9], "loss": [2.0123456789012345], "loss_low": [1.9],
                          "loss_high": [float("nan")]})
    frame.attrs.update(interval="confidence", confidence_level=0.8, n_draws=30,
                       kind="not the header's")  # an attr never overrides the header
    version = scalinglaws.__version__
    header = {"kind": "scalinglaws.predict", "schema_version": 3, "package_version": version}
    assert json_document(frame, "scalinglaws.predict", 3) == {
        **header, "interval": "confidence", "confidence_level": 0.8, "n_draws": 30,
        "rows": [{"N": 7e9, "loss": 2.0123456789012345, "loss_low": 1.9, "loss_high": None}]}
    assert list(json_document(frame, "scalinglaws.predict", 3))[:3] == list(header)
    assert json_document({"a": 1}, "scalinglaws.x", 1) == {
        "kind": "scalinglaws.x", "schema_version": 1, "package_version": version, "a": 1}
    assert json_document({"kind": "scalinglaws.fit"}, "scalinglaws.x", 1) == \
        {"kind": "scalinglaws.fit"}
    # a document of the command's kind keeps its own version (an IsoFLOP analysis's)
    assert json_document({"kind": "scalinglaws.x", "schema_version": 5}, "scalinglaws.x", 1) \
        == {"kind": "scalinglaws.x", "schema_version": 5, "package_version": version}
    assert json_document({"models": [{"a": 1}, {"a": 2}]}, "scalinglaws.x", 2) == \
        {"kind": "scalinglaws.x", "schema_version": 2, "package_version": version,
         "models": [{"a": 1}, {"a": 2}]}
    with pytest.raises(TypeError, match="got list"):
        json_document([{"a": 1}], "scalinglaws.x", 1)
    for bad in (None, True, 1.0):
        with pytest.raises(TypeError, match="needs an int schema_version"):
            json_document({"a": 1}, "scalinglaws.x", bad)
