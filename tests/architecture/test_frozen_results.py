"""Results stay deeply frozen after a pickle round trip (worker processes, caches)."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import pkgutil

import numpy as np
import pytest

import scalinglaws
import scalinglaws as sl
from scalinglaws._validation import FrozenDict, FrozenOnUnpickle


def _frozen_dataclasses_with_arrays():
    found = []
    for info in pkgutil.walk_packages(scalinglaws.__path__, "scalinglaws."):
        if info.name.endswith("__main__"):
            continue  # running it would start the CLI
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if (inspect.isclass(cls) and cls.__module__ == module.__name__
                    and dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
                    and any("ndarray" in str(f.type) for f in dataclasses.fields(cls))):
                found.append(cls)
    return found


def test_every_frozen_dataclass_holding_arrays_relocks_them_on_unpickling():
    classes = _frozen_dataclasses_with_arrays()
    assert len(classes) > 20  # the walk found the package's results
    missing = sorted(f"{c.__module__}.{c.__qualname__}" for c in classes
                     if not issubclass(c, FrozenOnUnpickle))
    assert not missing, missing


def _arrays(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _arrays(item)


@pytest.fixture(scope="module")
def fitted():
    runs = sl.generate_sweep(noise=0.01, rng=5)
    return runs, sl.fit(runs)


def test_a_fit_and_its_bootstrap_come_back_read_only(fitted):
    runs, result = fitted
    boot = sl.bootstrap(result, runs, 20, rng=0)
    for original in (result, result.with_bootstrap(boot), boot):
        copy = pickle.loads(pickle.dumps(original))
        arrays = [a for f in dataclasses.fields(copy) for a in _arrays(getattr(copy, f.name))]
        assert arrays, type(copy).__name__
        assert not any(a.flags.writeable for a in arrays), type(copy).__name__
    copy = pickle.loads(pickle.dumps(result))
    assert isinstance(copy.params, FrozenDict)
    with pytest.raises(ValueError, match="read-only"):
        copy.residuals[0] = 0.0
    np.testing.assert_array_equal(copy.residuals, result.residuals)


def test_a_calibrated_prediction_comes_back_read_only(fitted):
    runs, result = fitted
    calibrated = sl.calibrate(result, runs)
    for original in (calibrated, calibrated.interval(N=[1e9, 1e10], D=[2e10, 2e11])):
        copy = pickle.loads(pickle.dumps(original))
        arrays = [a for f in dataclasses.fields(copy) for a in _arrays(getattr(copy, f.name))]
        assert arrays and not any(a.flags.writeable for a in arrays), type(copy).__name__
