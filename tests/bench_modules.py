"""``bench/<name>.py`` as a module, for tests that check a bench's own code and record
(the simulation lives once, in the bench, never copied into a test)."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


@functools.cache
def load_bench(name: str):
    """``bench/<name>.py`` imported as the module ``name`` (once per session)."""
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
