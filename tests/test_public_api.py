"""The names ``import scalinglaws`` exports (``scalinglaws/__init__.py``): each resolves,
lazily, to the object its module defines."""

from __future__ import annotations

import importlib
import subprocess
import sys

import scalinglaws as sl


def test_every_exported_name_resolves_to_its_module_s_object():
    for name, module in sl._PUBLIC.items():
        assert name in sl.__all__, name
        defined = getattr(importlib.import_module(f"scalinglaws.{module}"), name)
        assert getattr(sl, name) is defined, name


def test_load_isoflop_is_exported_beside_the_other_loaders(tmp_path):
    """Every loader was exported but load_isoflop (read from scalinglaws.outputs.io.isoflop
    only); an IsoFLOP analysis saved by the package loads back through it."""
    from scalinglaws.outputs.io.isoflop import load_isoflop

    assert "load_isoflop" in sl.__all__ and "load_isoflop" in dir(sl)
    assert sl.load_isoflop is load_isoflop
    iso = sl.isoflop_fit(sl.generate_sweep(rng=0), budget="budget")
    iso.save(tmp_path / "isoflop.json")
    assert sl.load_isoflop(tmp_path / "isoflop.json").to_dict() == iso.to_dict()


def test_exporting_it_keeps_import_instant():
    code = ("import sys, scalinglaws; "
            "print(any(m.startswith(('scalinglaws.outputs', 'pandas', 'scipy')) "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
