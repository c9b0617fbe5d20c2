"""Old import paths of modules that moved into the stage folders.

Until 0.1 the package was a flat folder (``scalinglaws.fit``, ``scalinglaws.extrapolate``,
``scalinglaws.bootstrap``...). Those paths keep working: importing one returns the module
at its new place (``scalinglaws.analysis.extrapolate``...), so
``from scalinglaws.bootstrap import bootstrap`` still works. New code should import the
verbs from the top level (``from scalinglaws import bootstrap``) or the module from its
stage. Three old module names are also top-level functions (``fit``, ``backtest``,
``bootstrap``); the package keeps the function under that attribute (see
:class:`_Package`), so ``scalinglaws.fit`` is always the function.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

#: old module name -> its module now (relative to the package)
MOVED = {
    "runs": "data.runs", "datasets": "data.public",
    "synthetic": "laws.synthetic", "forms": "laws.forms", "custom": "laws.custom",
    "datablations": "laws.datablations", "losses": "laws.losses", "flops": "laws.flops",
    "published": "laws.published",
    "optimize": "fitting.engine", "fit": "fitting.estimator", "isoflop": "fitting.isoflop",
    "bootstrap": "uncertainty.bootstrap", "asymptotic": "uncertainty.asymptotic",
    "backtest": "uncertainty.backtest",
    "extrapolate": "analysis.extrapolate",
    "io": "outputs.io", "plot": "outputs.plot", "report": "outputs.report",
    "reproduce": "outputs.reproduce", "cli": "outputs.cli",
}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self.spec = module.__spec__
        return module

    def exec_module(self, module):
        # already executed at its new place; undo the import system's relabelling
        module.__spec__ = self.spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    def __init__(self, package: str):
        self.prefix = package + "."

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(self.prefix):
            return None
        new = MOVED.get(fullname[len(self.prefix):])
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(self.prefix + new))


class _Package(types.ModuleType):
    """The package module: importing an old submodule path must not replace the
    top-level function of the same name (``scalinglaws.fit``, ``scalinglaws.bootstrap``)."""

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and name in MOVED and name in self._verbs:
            return
        super().__setattr__(name, value)


def install(package: str, verbs) -> None:
    """Install the old-path finder for ``package`` and protect its ``verbs``."""
    if not any(isinstance(f, _AliasFinder) and f.prefix == package + "." for f in sys.meta_path):
        sys.meta_path.append(_AliasFinder(package))
    module = sys.modules[package]
    module.__class__ = _Package
    object.__setattr__(module, "_verbs", frozenset(verbs))
