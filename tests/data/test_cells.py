"""Tests of scalinglaws.data.cells: cells read as numbers (decimal commas, unit suffixes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws import InputError, load_runs

N = np.geomspace(2e7, 2e9, 6)
D = 20.0 * N
LOSS = 1.82 + 482.0 / N**0.348 + 2085.0 / D**0.366  # 2.4 to 4.0 nats


def _comma_loss(values) -> list:
    return [f"{value:.3f}".replace(".", ",") for value in values]


def test_a_decimal_comma_loss_in_a_comma_file_is_refused(tmp_path):
    """Review s27 F8: a Google Sheets export in a decimal-comma locale quotes "3,426" in a
    ','-separated file; it was read as 3426 and the warning blamed a perplexity."""
    path = tmp_path / "eu.csv"
    pd.DataFrame({"N": N, "D": D, "loss": _comma_loss(LOSS)}).to_csv(path, index=False)
    assert '"' + _comma_loss(LOSS)[0] + '"' in path.read_text()  # quoted, as Sheets writes
    first = _comma_loss(LOSS)[0]
    with pytest.raises(InputError) as caught:
        load_runs(path)
    assert str(caught.value) == (
        f"{path}: row 0 (line 2), column 'loss' (loss): '{first}' reads as "
        f"{first.replace(',', '')} with a comma separating thousands, and 6 of the column's "
        f"cells are written so; as a loss it is probably {first.replace(',', '.')} written "
        f"with a decimal comma. Write the loss with a decimal point, or read the file with "
        f"pandas.read_csv(path, decimal=',') and pass the DataFrame; if the values are "
        f"thousands, write them without the comma")
    # the fix it names reads the losses (to the 3 decimals written)
    runs = load_runs(pd.read_csv(path, decimal=","))
    np.testing.assert_allclose(runs.loss, LOSS, atol=5e-4)


def test_commas_that_read_as_a_loss_either_way_are_refused_in_any_table():
    table = {"N": N[:3], "D": D[:3], "sum_loss": ["2,500", "3,000", "1,200"]}
    with pytest.raises(InputError, match=r"^<dict>: row 0, column 'sum_loss' \(loss\): "
                                         r"'2,500' reads as 2500 with a comma separating "
                                         r"thousands, and 3 of the column's cells"):
        load_runs(table, columns={"loss": "sum_loss"})


@pytest.mark.parametrize("cells", [
    ["2,500.5", "3,000", "1,200"],  # a decimal point says the commas separate thousands
    ["25,000", "30,000", "12,000"],  # 25.000 is more than any loss per token: thousands
])
def test_commas_that_are_thousands_are_left_alone(cells):
    import warnings

    from scalinglaws import UnitsWarning

    table = {"N": N[:3], "D": D[:3], "sum_loss": cells}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnitsWarning)  # a loss of 1200+ nats: said elsewhere
        runs = load_runs(table, columns={"loss": "sum_loss"})
    assert runs.loss.tolist() == [float(cell.replace(",", "")) for cell in cells]


def test_a_perplexity_with_thousands_is_not_a_decimal_comma():
    ppl = ["1,234", "2,000", "1,500"]
    runs = load_runs({"N": N[:3], "D": D[:3], "ppl": ppl}, columns={"loss": "ppl"},
                     loss_units="perplexity")
    np.testing.assert_allclose(runs.loss, np.log([1234.0, 2000.0, 1500.0]), rtol=1e-15)


def test_unit_suffixes_are_seen_in_text_cells_only():
    from scalinglaws.data.cells import has_unit_suffix

    assert has_unit_suffix(pd.Series(["22.36M", "1.4B"]))
    assert has_unit_suffix(pd.Series(["2.2e7", "1.4 b"]))
    assert not has_unit_suffix(pd.Series(["22.36", "1,400"]))
    assert not has_unit_suffix(pd.Series([22.36, 1.4]))


def test_a_repeated_header_is_named_as_one(tmp_path):
    # the audit's case: two CSVs joined with their headers; the row, line and column were
    # right, but the message said "value 'params' is not a number"
    path = tmp_path / "joined.csv"
    path.write_text("params,tokens,loss\n1e8,2e9,3.1\n2e8,4e9,2.9\n"
                    "params,tokens,loss\n4e8,8e9,2.7\n8e8,1.6e10,2.6\n")
    with pytest.raises(InputError, match=r"row 2 \(line 4\), column 'params' \(N\): this row "
                                         r"repeats the header: remove it"):
        load_runs(path)
    # a single text cell is still a cell that is not a number
    path.write_text("params,tokens,loss\n1e8,2e9,3.1\nparams,4e9,2.9\n")
    with pytest.raises(InputError, match=r"value 'params' is not a number"):
        load_runs(path)


def test_a_decimal_comma_with_fewer_than_three_decimals_is_named(tmp_path):
    """Review s35: "3,28" quoted in a ','-separated file is no number (a comma separating
    thousands takes three digits), and the message said only "is not a number", where
    "3,426" got the decimal-comma explanation."""
    path = tmp_path / "eu2.csv"
    path.write_text('N,D,loss\n70M,1.4B,"3,28"\n400M,8B,"2,91"\n1B,20B,"2,70"\n')
    with pytest.raises(InputError) as caught:
        load_runs(path)
    assert str(caught.value) == (
        f"{path}: row 0 (line 2), column 'loss' (loss): value '3,28' is not a number (give "
        f"digits, optionally with a k/M/B/G/T/P suffix); is it 3.28 written with a decimal "
        f"comma? Here a comma inside a number separates thousands (groups of three digits): "
        f"write numbers with a decimal point, or read the file with pandas.read_csv(path, "
        f"decimal=',') and pass the DataFrame; and 2 more bad cells in column 'loss'")
    # the fix it names reads the losses
    runs = load_runs(pd.read_csv(path, decimal=","))
    assert runs.loss.tolist() == [3.28, 2.91, 2.70]


def test_text_that_is_no_number_gets_no_decimal_comma_hint():
    with pytest.raises(InputError) as caught:
        load_runs({"N": N[:2], "D": D[:2], "loss": ["abc", "3,28,1"]})
    assert "decimal comma" not in str(caught.value)
