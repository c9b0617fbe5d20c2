"""The fit file's record of how its runs were read (scalinglaws.outputs.io.fit and
schema/fit.schema.json): ``options.flops_per_token`` and ``options.rows`` round-trip,
files without them (older versions) still load, and malformed ones are refused."""

import copy
from pathlib import Path

import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.outputs.io import fit_from_dict

DATA = Path(__file__).resolve().parents[3] / "datasets" / "synthetic_chinchilla_sweep.csv"


@pytest.fixture(scope="module")
def document():
    doc = sl.fit(sl.load_runs(DATA, flops_per_token=8)).to_dict()
    doc = copy.deepcopy(doc)
    doc["options"] = dict(doc["options"])
    doc["options"]["rows"] = {"nan_policy": "omit", "dropped_rows": [3],
                              "exclude_top_loss": 2, "excluded_rows": [0, 7]}
    return doc


def test_the_record_round_trips(document):
    assert document["options"]["flops_per_token"] == 8.0
    loaded = fit_from_dict(document)
    assert loaded.flops_per_token == 8.0
    assert dict(loaded.options["rows"]) == {"nan_policy": "omit", "dropped_rows": (3,),
                                            "exclude_top_loss": 2, "excluded_rows": (0, 7)}
    again = loaded.to_dict()["options"]
    assert again["flops_per_token"] == 8.0 and list(again["rows"]["excluded_rows"]) == [0, 7]


def test_a_file_without_the_record_loads_with_k_6(document):
    old = copy.deepcopy(document)
    del old["options"]["flops_per_token"], old["options"]["rows"]
    loaded = fit_from_dict(old)
    assert loaded.flops_per_token == 6.0 and "rows" not in loaded.options


@pytest.mark.parametrize("edit, field", [
    (lambda o: o.__setitem__("flops_per_token", 0), "options.flops_per_token"),
    (lambda o: o.__setitem__("flops_per_token", "8"), "options.flops_per_token"),
    (lambda o: o["rows"].__setitem__("exclude_top_loss", -1), "options.rows.exclude_top_loss"),
    (lambda o: o["rows"].__setitem__("nan_policy", "drop"), "options.rows.nan_policy"),
    (lambda o: o["rows"].__setitem__("excluded_rows", [1.5]), "options.rows.excluded_rows"),
    (lambda o: o["rows"].__setitem__("bogus", 1), "options.rows.bogus"),
])
def test_a_malformed_record_is_refused_naming_its_field(document, edit, field):
    bad = copy.deepcopy(document)
    edit(bad["options"])
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        fit_from_dict(bad, source="f.json")


def test_the_loss_units_round_trip_and_a_bad_one_is_refused(document):
    doc = copy.deepcopy(document)
    doc["options"]["rows"]["loss_units"] = "bits"
    assert fit_from_dict(doc).options["rows"]["loss_units"] == "bits"
    assert fit_from_dict(doc).to_dict()["options"]["rows"]["loss_units"] == "bits"
    doc["options"]["rows"]["loss_units"] = "ppl"
    with pytest.raises(InputError, match=r"options\.rows\.loss_units"):
        fit_from_dict(doc, source="f.json")
    schema = sl.outputs.io.schema()["properties"]["options"]["properties"]["rows"]
    assert schema["properties"]["loss_units"]["enum"] == ["nats", "bits", "perplexity"]


def test_the_column_mapping_round_trips_and_a_bad_one_is_refused(document):
    """options.rows.columns (load_runs columns, fit --columns): canonical name -> the header
    read, null for "no such column" (review s38: the mapping was not recorded)."""
    doc = copy.deepcopy(document)
    doc["options"]["rows"]["columns"] = {"N": "nonembedding_params", "C": None}
    loaded = fit_from_dict(doc)
    assert dict(loaded.options["rows"]["columns"]) == {"N": "nonembedding_params", "C": None}
    assert loaded.to_dict()["options"]["rows"]["columns"] == {"N": "nonembedding_params",
                                                              "C": None}
    for bad in ({"N": 3}, "N=nonembedding_params", {}):
        doc["options"]["rows"]["columns"] = bad
        with pytest.raises(InputError, match=r"options\.rows\.columns"):
            fit_from_dict(doc, source="f.json")


def test_files_hold_schema_version_3_and_version_2_files_still_load(document):
    """The column mapping is a field older readers refuse: the files that can hold it say
    they are version 3, so that such a reader says "newer version" (as for version 2's
    fitted_range); version 2 files (without it) load unchanged."""
    from scalinglaws.outputs.io import SCHEMA_VERSION, SUPPORTED_VERSIONS

    assert SCHEMA_VERSION == 3 and SUPPORTED_VERSIONS == (1, 2, 3)
    assert document["schema_version"] == 3
    old = copy.deepcopy(document)
    old["schema_version"] = 2
    assert fit_from_dict(old).params == fit_from_dict(document).params
