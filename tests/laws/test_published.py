"""Tests of laws/published.py: the papers' tables are typed in once and stay as typed."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Mapping

import pytest

from scalinglaws._validation import FrozenDict
from scalinglaws.laws import kaplan
from scalinglaws.laws import published as pub

TABLES = [name for name in pub.__all__ if isinstance(getattr(pub, name), Mapping)]


def _mappings(value):
    if isinstance(value, Mapping):
        yield value
        for item in value.values():
            yield from _mappings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _mappings(item)


def test_every_published_table_is_read_only_all_the_way_down():
    assert len(TABLES) >= 17  # every dict constant, not a subset that happened to be frozen
    for name in TABLES:
        table = getattr(pub, name)
        for inner in _mappings(table):
            assert isinstance(inner, FrozenDict), name
        assert not any(isinstance(v, list) for v in table.values()), name


@pytest.mark.parametrize("change", [
    lambda: pub.KAPLAN_2020_FRONTIER.__setitem__("p_N", 0.5),
    lambda: pub.KAPLAN_2020["N"].__setitem__("alpha_N", 0.5),       # nested
    lambda: pub.LUO_2025_MPL["25M"].update(A=1.0),
    lambda: pub.HOFFMANN_2022_TEX.pop("E"),
    lambda: pub.PEARCE_SONG_2024["local_exponent"].clear(),
])
def test_a_published_value_cannot_be_changed_in_place(change):
    with pytest.raises(TypeError, match="cannot be changed"):
        change()


def test_an_attempted_edit_changes_no_later_result():
    """A reviewer's D10: ``KAPLAN_2020_FRONTIER["p_N"] = 0.5`` moved every later
    ``compute_efficient`` (37.5B -> 13B parameters at 100 PF-days)."""
    before = float(kaplan.compute_efficient(8.64e21).N)
    with pytest.raises(TypeError):
        pub.KAPLAN_2020_FRONTIER["p_N"] = 0.5
    assert float(kaplan.compute_efficient(8.64e21).N) == before
    # Table 6: N_opt = 1.3e9 * C_min^0.73 with C_min = 100 PF-days, by hand
    assert before == pytest.approx(1.3e9 * 100 ** 0.73, rel=1e-12)


def test_copies_and_plain_uses_still_work():
    mine = {**pub.HOFFMANN_2022_TEX, "E": 1.8}
    mine["A"] = 1.0  # a copy is the user's own dict
    assert type(mine) is dict and pub.HOFFMANN_2022_TEX["E"] != 1.8
    assert dict(pub.KAPLAN_2020_ND) == pub.KAPLAN_2020_ND
    assert json.loads(json.dumps(pub.LUO_2025_MPL)) == pub.LUO_2025_MPL
    for name in TABLES:
        table = getattr(pub, name)
        assert pickle.loads(pickle.dumps(table)) == table
        assert isinstance(copy.deepcopy(table), FrozenDict)
    assert pub.KAPLAN_2020_TABLE6["N"] == (1.3e9, 0.73)
