"""Result tables as a terminal shows them (outputs/cli/_tables.py)."""

from scalinglaws.outputs.cli._tables import format_table


def test_format_table_pairs_intervals_and_reads_counts():
    import pandas as pd

    frame = pd.DataFrame({"C": [1e24], "N": [7.03e10], "N_low": [5e10], "N_high": [9e10],
                          "loss": [1.94731], "at_search_edge": [False]})
    text = format_table(frame)
    assert text.splitlines()[1].split() == ["1e+24", "70.3B", "[50B,", "90B]", "1.9473"]
