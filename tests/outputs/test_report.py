"""Tests of scalinglaws.report: the self-contained HTML report and save_figure."""

from __future__ import annotations

import base64
import re

import matplotlib

matplotlib.use("Agg")

import pytest

from scalinglaws import InputError, fit, load, save
from scalinglaws.outputs.report import FIGURE_KINDS, make_report, save_figure

IMG = '<img src="data:image/png;base64,'


def test_report_holds_every_figure_and_table(result, runs, tmp_path):
    out = make_report(result, runs, tmp_path / "report.html", dpi=40)
    assert out == tmp_path / "report.html"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    # fit (against N and C), residuals, frontier, landscape, IsoFLOP, corner
    assert text.count(IMG) == 7
    for ident in ("fit", "fit_c", "residuals", "frontier", "landscape", "isoflop", "corner"):
        assert f'id="fig-{ident}"' in text
    images = re.findall(r'data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert all(base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n" for data in images)
    coefficients = text.split("<h2>Coefficients</h2>")[1].split("<h2>")[0]
    for name in result.form.param_names:
        assert f"<code>{name}</code>" in coefficients
    assert "95% interval low" in coefficients
    low, high = result.bootstrap.intervals["alpha"]
    assert f"{low:.6g}" in coefficients and f"{high:.6g}" in coefficients
    allocation = text.split("<h2>Compute-optimal allocation</h2>")[1].split("<h2>")[0]
    assert "5.76e+23" in allocation and allocation.count("<tr>") == 7  # header + 6 budgets
    assert 'class="ci"' in allocation
    diagnostics = text.split("<h2>Fit diagnostics</h2>")[1]
    for word in ("objective", "status", "condition number", "data fingerprint",
                 "matches the runs shown", result.data_fingerprint, "scalinglaws 0.1.0"):
        assert word in diagnostics
    assert "src=\"http" not in text and "<script" not in text  # self-contained, no scripts


def test_report_escapes_text_and_single_variable_law(runs, tmp_path):
    kaplan = fit(runs, "kaplan_n")
    out = make_report(kaplan, runs, tmp_path / "k.html", title="<script>alert(1)</script> & co",
                      dpi=40)
    text = out.read_text(encoding="utf-8")
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text
    assert text.count(IMG) == 3  # fit vs data, residuals and the (law-free) IsoFLOP figure
    assert 'id="fig-frontier"' not in text and 'id="fig-landscape"' not in text
    assert "no allocation table" in text
    for name in kaplan.form.param_names:
        assert f"<code>{name}</code>" in text


def test_report_of_a_loaded_fit_without_bootstrap(plain_result, runs, tmp_path):
    save(plain_result, tmp_path / "fit.json")
    loaded = load(tmp_path / "fit.json")
    # without runs: only the figures of the law itself, no corner plot without draws
    text = make_report(loaded, None, tmp_path / "r.html", budgets=[1e22], dpi=40).read_text("utf-8")
    assert text.count(IMG) == 2
    assert 'id="fig-frontier"' in text and 'id="fig-landscape"' in text
    assert "No bootstrap draws" in text
    assert "1e+22" in text
    with pytest.raises(InputError, match="budgets"):
        make_report(plain_result, runs, tmp_path / "r.html", budgets=[-1])
    with pytest.raises(InputError):
        make_report("not a fit", runs, tmp_path / "r.html")


@pytest.mark.parametrize("kind", sorted(FIGURE_KINDS))
def test_save_figure_every_kind(kind, result, runs, tmp_path):
    out = save_figure(kind, result, runs, tmp_path / f"{kind}.png", dpi=50)
    assert out.stat().st_size > 2000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_figure_errors(plain_result, runs, tmp_path):
    with pytest.raises(InputError, match="unknown figure kind"):
        save_figure("pie", plain_result, runs, tmp_path / "x.png")
    with pytest.raises(InputError, match="suffix"):
        save_figure("fit", plain_result, runs, tmp_path / "x.nope")
    with pytest.raises(InputError, match="bootstrap"):
        save_figure("corner", plain_result, runs, tmp_path / "x.png")
    with pytest.raises(InputError, match="runs"):
        save_figure("fit", plain_result, None, tmp_path / "x.png")
    out = save_figure("frontier", plain_result, None, tmp_path / "f.svg", known_models=False)
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml")
