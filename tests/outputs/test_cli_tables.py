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
    """``--json`` and ``--out x.json`` share json_document: a table becomes its kind, what
    its attrs say of the rows and the rows at full precision; a dict is named unless it
    names itself, several results under the list they name too; a bare list, which has no
    place for a kind (a re-run asked for --force), is refused."""
    import pandas as pd

    from scalinglaws.outputs.cli._tables import json_document

    frame = pd.DataFrame({"N": [7e9], "loss": [2.0123456789012345], "loss_low": [1.9],
                          "loss_high": [float("nan")]})
    frame.attrs.update(interval="confidence", confidence_level=0.8, n_draws=30)
    assert json_document(frame, "scalinglaws.predict") == {
        "kind": "scalinglaws.predict", "interval": "confidence", "confidence_level": 0.8,
        "n_draws": 30,
        "rows": [{"N": 7e9, "loss": 2.0123456789012345, "loss_low": 1.9, "loss_high": None}]}
    assert json_document({"a": 1}, "scalinglaws.x") == {"kind": "scalinglaws.x", "a": 1}
    assert json_document({"kind": "scalinglaws.fit"}, "scalinglaws.x") == \
        {"kind": "scalinglaws.fit"}
    assert json_document({"models": [{"a": 1}, {"a": 2}]}, "scalinglaws.x") == \
        {"kind": "scalinglaws.x", "models": [{"a": 1}, {"a": 2}]}
    with pytest.raises(TypeError, match="got list"):
        json_document([{"a": 1}], "scalinglaws.x")
