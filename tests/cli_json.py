"""What the command-line tests (tests/outputs/test_cli.py, tests/outputs/cli/) share beside
their fixtures (tests/conftest.py), here in tests/ (on the path of every test module: a
helper beside one folder of tests is not importable from another folder): the
bundled sweep they run the commands on, and the JSON document a command printed."""

import json
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "datasets" / "synthetic_chinchilla_sweep.csv"


def _json(capsys):
    return json.loads(capsys.readouterr().out)
