"""_progress.progress_bar: tqdm without the notebook's IProgress warning."""

from __future__ import annotations

import sys
import warnings

from scalinglaws._progress import progress_bar


def test_a_disabled_bar_never_imports_tqdm_auto(monkeypatch):
    # importing tqdm.auto in a notebook without ipywidgets is what printed the warning
    for name in [m for m in sys.modules if m.startswith("tqdm.auto") or m == "tqdm.autonotebook"]:
        monkeypatch.delitem(sys.modules, name)
    bar = progress_bar(range(3), disable=True)
    assert list(bar) == [0, 1, 2]
    assert "tqdm.auto" not in sys.modules and "tqdm.autonotebook" not in sys.modules


def test_an_enabled_bar_in_a_notebook_without_widgets_warns_nothing(monkeypatch, capsys):
    # tqdm.autonotebook warns so inside IPython when ipywidgets is missing (on import);
    # here the stand-in warns when the bar is made, which the same guard covers
    from tqdm import TqdmWarning
    from tqdm.std import tqdm

    def raise_like_a_notebook_without_widgets(*args, **kwargs):
        warnings.warn("IProgress not found. Please update jupyter and ipywidgets.",
                      TqdmWarning, stacklevel=2)
        return tqdm(*args, **kwargs)

    monkeypatch.setattr("tqdm.auto.tqdm", raise_like_a_notebook_without_widgets)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bar = progress_bar(range(3), desc="work")
        assert list(bar) == [0, 1, 2]
    assert "work" in capsys.readouterr().err
