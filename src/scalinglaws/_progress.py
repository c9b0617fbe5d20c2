"""One way to make a progress bar: tqdm, without its notebook warning.

``tqdm.auto`` picks the notebook widget inside Jupyter, and *importing* it in a notebook
without ipywidgets prints ``TqdmWarning: IProgress not found`` even when the bar is
disabled. A disabled bar therefore comes from ``tqdm.std`` (nothing to draw), and an
enabled one from ``tqdm.auto`` with that one warning silenced (tqdm then falls back to
a text bar by itself).
"""

from __future__ import annotations

import warnings

__all__ = ["progress_bar"]


def progress_bar(*args, disable: bool = False, **kwargs):
    """``tqdm(*args, disable=disable, **kwargs)``: the widget in a notebook that has
    ipywidgets, a text bar elsewhere, and no warning either way."""
    if disable:
        from tqdm.std import tqdm

        return tqdm(*args, disable=True, **kwargs)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*IProgress not found.*")
        from tqdm.auto import tqdm

        return tqdm(*args, **kwargs)
