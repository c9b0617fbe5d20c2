"""Tests of scalinglaws.outputs.plot._formats: every image format the suffix check accepts
is written (``save_figure`` in Python, ``plot --out`` and ``--figure`` on the command line),
signed where its format has a field for it, and a format that cannot be written here is
refused before any work.

Each written file is checked against its format's own magic bytes (the file format
specifications, not this package's code) and, for raster formats, opened with Pillow.
"""

from __future__ import annotations

import gzip
import io
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from scalinglaws import InputError  # noqa: E402
from scalinglaws.outputs.cli import main  # noqa: E402
from scalinglaws.outputs.figures import save_figure  # noqa: E402
from scalinglaws.outputs.plot._formats import image_formats  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "datasets" / "synthetic_chinchilla_sweep.csv"

#: how each format's file begins (from the formats' specifications)
MAGIC = {
    "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-", "eps": b"%!PS-Adobe", "ps": b"%!PS-Adobe",
    "jpg": b"\xff\xd8\xff", "jpeg": b"\xff\xd8\xff", "gif": b"GIF8", "svgz": b"\x1f\x8b",
    "tif": (b"II*\x00", b"MM\x00*"), "tiff": (b"II*\x00", b"MM\x00*"),
}
#: formats whose file carries a signature this package reads back (re-run replaces them)
SIGNED = {"png", "pdf", "svg", "eps", "ps", "jpg", "jpeg", "gif"}


def _writable():
    tex = shutil.which(matplotlib.rcParams["pgf.texsystem"]) is not None
    return [f for f in image_formats() if f != "pgf" or tex]


@pytest.fixture(autouse=True)
def _close_figures():
    plt.close("all")
    yield
    plt.close("all")


def test_the_suffix_check_lists_the_formats_matplotlib_writes():
    # (before: the check advertised .jpg, .tiff, .webp..., and writing them raised a bare
    # ValueError "metadata not supported for format 'jpeg'" after the drawing)
    formats = image_formats()
    assert {"png", "pdf", "svg", "jpg", "jpeg", "tiff", "webp", "gif", "eps"} <= set(formats)
    assert formats == sorted(formats)


@pytest.mark.parametrize("fmt", _writable())
def test_every_advertised_format_is_written(fmt, plain_result, tmp_path):
    out = save_figure("frontier", plain_result, None, tmp_path / f"f.{fmt}", dpi=30,
                      known_models=False)
    data = out.read_bytes()
    assert len(data) > 100
    magic = MAGIC.get(fmt)
    if magic is not None:
        assert data.startswith(magic)
    if fmt == "svg":
        assert b"<svg" in data[:2000]
    if fmt == "svgz":
        assert b"<svg" in gzip.decompress(data)[:2000]
    if fmt in ("webp", "avif", "tif", "tiff", "jpg", "jpeg", "gif", "png"):
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
        assert 100 < width < 1000 and 60 < height < 1000  # 7.2 x 5.4 inches at 30 dpi
    if fmt in ("raw", "rgba"):  # 4 bytes a pixel, no header
        assert len(data) % 4 == 0
    assert plt.get_fignums() == []


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg", "eps", "jpg", "gif", "tiff", "webp",
                                 "svgz"])  # each kind of signature, and unsigned ones
def test_a_rerun_replaces_its_own_signed_figure_and_needs_force_for_the_others(
        fmt, plain_result, tmp_path):
    out = tmp_path / f"f.{fmt}"
    draw = dict(dpi=20, known_models=False)
    save_figure("frontier", plain_result, None, out, **draw)
    if fmt in SIGNED:
        save_figure("frontier", plain_result, None, out, **draw)
    else:  # no signature it can read: perhaps somebody's picture
        with pytest.raises(InputError, match="may be data.*force=True"):
            save_figure("frontier", plain_result, None, out, **draw)
        save_figure("frontier", plain_result, None, out, force=True, **draw)


def test_a_picture_of_someone_else_is_not_taken_for_a_signed_one(plain_result, tmp_path):
    from PIL import Image

    for name in ("theirs.jpg", "theirs.gif"):
        Image.new("RGB", (8, 8)).save(tmp_path / name, comment=b"holiday")
        with pytest.raises(InputError, match="may be data"):
            save_figure("frontier", plain_result, None, tmp_path / name, dpi=20,
                        known_models=False)
    eps = tmp_path / "theirs.eps"
    eps.write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%Creator: inkscape\n")
    with pytest.raises(InputError, match="may be data"):
        save_figure("frontier", plain_result, None, eps, dpi=20, known_models=False)


def test_pgf_without_tex_is_refused_before_drawing(plain_result, tmp_path, monkeypatch):
    import matplotlib.figure

    def refuse(*args, **kwargs):
        raise AssertionError("drew before refusing")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", refuse)
    with pytest.raises(InputError, match=r"`out` '.*f\.pgf': a \.pgf figure needs xelatex"):
        save_figure("frontier", plain_result, None, tmp_path / "f.pgf")
    with pytest.raises(InputError, match="`out` '.*f.bmp': end the name with the image format"):
        save_figure("frontier", plain_result, None, tmp_path / "f.bmp")
    assert not list(tmp_path.iterdir())


def test_plot_and_figure_flags_write_a_jpeg(tmp_path, monkeypatch, capsys):
    # before: `plot fit ... --out x.jpg` and `compare ... --figure cc.jpg` ended in
    # "error: ValueError: metadata not supported for format 'jpeg'", compare after its
    # bootstrap and after writing its JSON
    import pandas as pd

    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(DATA), "--out", "fit.json"]) == 0
    for suffix in ("jpg", "tiff", "webp"):
        assert main(["plot", "fit", "fit.json", "--data", str(DATA), "--out",
                     f"x.{suffix}"]) == 0
        assert (tmp_path / f"x.{suffix}").stat().st_size > 1000
    frame = pd.read_csv(DATA)
    frame["recipe"] = ["a", "b"] * (len(frame) // 2) + ["a"] * (len(frame) % 2)
    frame.to_csv("recipes.csv", index=False)
    capsys.readouterr()
    assert main(["compare", "recipes.csv", "--group", "recipe", "--bootstrap", "20",
                 "--out", "cc.json", "--figure", "cc.jpg"]) == 0
    assert (tmp_path / "cc.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    assert "error" not in capsys.readouterr().err
