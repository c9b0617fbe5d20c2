"""The image formats a figure is written in: the check of a figure's file name, before any
work, and the ``savefig`` call that writes and signs it.

Every format matplotlib lists (:func:`image_formats`: ``.png``, ``.pdf``, ``.svg``,
``.jpg``, ``.tiff``, ``.webp``...) is written; PGF only where its TeX program is installed
(matplotlib measures the text with it), which the check says before any work. A figure is
signed where its format has a field for it (:func:`scalinglaws._files.figure_signature`),
so that a later run replaces it unasked; a TIFF, WebP, AVIF, raw or PGF figure carries no
signature (an SVGZ one's is compressed, unread) and is replaced only with ``--force`` /
``force=True``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..._exceptions import InputError

__all__ = ["check_image_format", "image_formats", "write_figure"]


def image_formats() -> list:
    """The suffixes (without the dot) of the formats matplotlib writes, sorted."""
    from matplotlib.backend_bases import FigureCanvasBase

    return sorted(FigureCanvasBase.get_supported_filetypes())


def check_image_format(path, argument: str) -> str:
    """The format of a figure named ``path`` (its suffix, lower case), or an InputError
    naming ``argument`` (``--out``, ``--figure``, ```out```) when matplotlib cannot write
    it here."""
    fmt = Path(os.fspath(path)).suffix.lower().lstrip(".")
    formats = image_formats()
    if fmt not in formats:
        raise InputError(f"{argument} {os.fspath(path)!r}: end the name with the image format, "
                         f"one of .{', .'.join(formats)}")
    if fmt == "pgf":
        import matplotlib

        tex = matplotlib.rcParams["pgf.texsystem"]
        if shutil.which(tex) is None:
            raise InputError(f"{argument} {os.fspath(path)!r}: a .pgf figure needs {tex} (TeX, "
                             "matplotlib's pgf.texsystem) on the PATH to measure its text; "
                             "install it or choose another format (.pdf, .svg, .eps for "
                             "LaTeX)")
    return fmt


def write_figure(fig, target, fmt: str, **options) -> None:
    """``fig.savefig(target)`` in format ``fmt`` (checked by :func:`check_image_format`),
    signed where the format allows; ``options`` (``dpi``, ``bbox_inches``) go to
    ``savefig``."""
    from ..._files import figure_signature

    fig.savefig(target, format=fmt, **options, **figure_signature(fmt))
