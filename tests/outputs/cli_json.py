"""What the command-line tests share beside their fixtures (tests/conftest.py): the
bundled sweep they run the commands on, and the JSON document a command printed.

Imported by test_cli.py and by the files split from it under cli/ (test_cli_flags.py,
test_cli_isoflop.py, test_cli_optimal.py)."""

import json
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "datasets" / "synthetic_chinchilla_sweep.csv"


def _json(capsys):
    return json.loads(capsys.readouterr().out)
