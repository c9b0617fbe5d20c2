"""The IsoFLOP document's schema, shipped as a file (outputs/io/isoflop.py and
scalinglaws/schema/isoflop.schema.json); the loader's checks are tested with IsoFLOPResult in
tests/fitting/test_isoflop.py."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

import scalinglaws as sl
from scalinglaws.fitting._profile import CURVES
from scalinglaws.fitting.isoflop import DOCUMENT_KIND, FLOP_MODELS, SCHEMA_VERSION, STATUSES
from scalinglaws.outputs.io.isoflop import (BUDGET_COLUMNS, ISOFLOP_SCHEMA, isoflop_schema,
                                            load_isoflop)
from scalinglaws.outputs.io.validate import check_json_schema


def _shipped() -> dict:
    text = resources.files("scalinglaws").joinpath("schema/isoflop.schema.json").read_text()
    return json.loads(text)


def test_the_schema_ships_as_a_file_like_the_other_documents():
    """The fit, curve-fit and task schemas ship in scalinglaws/schema/; the IsoFLOP one was
    only a Python dict."""
    shipped = _shipped()
    assert ISOFLOP_SCHEMA == shipped and isoflop_schema() == shipped
    copy = isoflop_schema()
    copy["required"].append("x")
    assert isoflop_schema() == shipped  # a fresh copy each time
    jsonschema.Draft202012Validator.check_schema(shipped)


def test_the_schema_s_enums_are_the_package_s():
    """Typed twice (the file and the package's constants): they must agree."""
    shipped = _shipped()
    properties, defs = shipped["properties"], shipped["$defs"]
    assert properties["kind"] == {"const": DOCUMENT_KIND}
    # version 2 writes flops_per_token null beside its range where no one k made D_opt;
    # version 1 still loads (tests/fitting/test_isoflop_compute.py)
    assert properties["schema_version"] == {"enum": [1, SCHEMA_VERSION]}
    assert properties["flop_model"]["enum"] == list(FLOP_MODELS)
    assert defs["budget_row"]["properties"]["status"]["enum"] == list(STATUSES)
    assert defs["options"]["properties"]["curve"]["enum"] == list(CURVES)
    assert defs["budget_row"]["required"] == list(BUDGET_COLUMNS)
    assert list(defs["budget_row"]["properties"]) == list(BUDGET_COLUMNS)


@pytest.fixture(scope="module")
def documents():
    sweep = sl.generate_sweep(rng=0)
    plain = sl.isoflop_fit(sweep, budget="budget")
    resampled = sl.isoflop_fit(sweep, budget="budget", n_resamples=20, rng=0)
    return [json.loads(plain.to_json()), json.loads(resampled.to_json())]


def test_what_the_package_writes_meets_the_shipped_schema(documents, tmp_path):
    """An independent validator (jsonschema) and the loader's own agree on the file."""
    shipped = _shipped()
    for doc in documents:
        jsonschema.validate(doc, shipped)
        check_json_schema(doc, shipped, "doc")
        path = tmp_path / "isoflop.json"
        path.write_text(json.dumps(doc))
        assert load_isoflop(path).to_dict() == doc
    bad = json.loads(json.dumps(documents[1]))
    bad["budgets"][0]["status"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, shipped)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(sl.InputError, match=r"budgets\[0\]\.status"):
        load_isoflop(path)
