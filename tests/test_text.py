"""_text.counted: a count and its noun in the right number, in every message that counts
runs (before: "1 runs cannot determine 5 free parameters", "1 runs (1 distinct sizes)");
_text.named_list: the first few of many named and how many more, one wording in every
message (before: ", ...", ", ... (25 in all)", " and 3 more", "; +3 more" by the site)."""

from __future__ import annotations

import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws._text import counted, named_list


@pytest.mark.parametrize("n, noun, plural, text", [
    (1, "run", None, "1 run"), (0, "run", None, "0 runs"), (2, "run", None, "2 runs"),
    (1, "distinct size", None, "1 distinct size"), (3, "matrix", "matrices", "3 matrices"),
    (1, "matrix", "matrices", "1 matrix"), (1.0, "run", None, "1.0 run"),
])
def test_counted(n, noun, plural, text):
    assert counted(n, noun, plural) == text


@pytest.mark.parametrize("items, shown, text", [
    ([], 3, ""), (["a"], 3, "a"), (["a", "b", "c"], 3, "a, b, c"),  # exactly shown: no count
    (["a", "b", "c", "d"], 3, "a, b, c and 1 more"), (list("abcdefg"), 3, "a, b, c and 4 more"),
    ([1, 2.5, None], 2, "1, 2.5 and 1 more"),  # each written with str
    (list("abcdef"), 5, "a, b, c, d, e and 1 more"),  # shown defaults to 5 below
])
def test_named_list(items, shown, text):
    assert named_list(items, shown) == text
    if shown == 5:
        assert named_list(items) == text


def test_named_list_takes_only_the_shown_from_a_generator_given_the_total():
    taken = []

    def rows():
        for i in range(10 ** 6):
            taken.append(i)
            yield f"row {i}"

    assert named_list(rows(), 2, total=10 ** 6) == "row 0, row 1 and 999998 more"
    assert taken == [0, 1]
    with pytest.raises(TypeError):  # a generator has no length: say the total
        named_list(rows(), 2)


def test_named_list_separators_and_nouns():
    # a "; " list keeps its separator before "and"; a ", " list has none (no serial comma)
    assert named_list(["a (x, y)", "b", "c"], 2, sep="; ") == "a (x, y); b; and 1 more"
    assert named_list(["a (x, y)", "b"], 2, sep="; ") == "a (x, y); b"
    assert named_list(list("abc"), 1, noun="run") == "a and 2 more runs"
    assert named_list(list("ab"), 1, noun="run") == "a and 1 more run"
    # the first of many named in full, the rest counted; the plural given where the noun
    # is not the last word
    bad = dict(noun="bad cell in column 'x'", plural="bad cells in column 'x'")
    assert named_list(["row 1: 'a'"], total=1, sep="; ", **bad) == "row 1: 'a'"
    assert named_list(["row 1: 'a'"], total=2, sep="; ", **bad) == (
        "row 1: 'a'; and 1 more bad cell in column 'x'")
    assert named_list(["row 1: 'a'"], total=4, sep="; ", **bad) == (
        "row 1: 'a'; and 3 more bad cells in column 'x'")


def test_a_single_run_is_one_run_in_the_message():
    runs = sl.load_runs({"N": [1e9], "D": [2e10], "loss": [2.5]})
    with pytest.raises(InputError, match=r"^<dict>: 1 run cannot determine 5 free parameters"):
        sl.fit(runs)
    with pytest.raises(InputError, match=r"would drop all 1 run$"):
        runs.exclude_top_loss(1)
