"""Tests of scalinglaws.report: the self-contained HTML report and save_figure.

The report's numbers are checked against values computed here (Hoffmann et al. 2022 Eq 4
from the fitted parameters, the bootstrap percentiles); the limits, the fingerprint
warning, the progress bar and the file-safety rules each have a test.
"""

from __future__ import annotations

import base64
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import scalinglaws as sl  # noqa: E402
from scalinglaws import InputError, Runs, ScalingLawsWarning, __version__, fit, load, save
from scalinglaws.outputs.report import FIGURE_KINDS, DataMismatchWarning, make_report, save_figure

IMG = '<img src="data:image/png;base64,'


@pytest.fixture(autouse=True)
def _close_figures():
    plt.close("all")
    yield
    plt.close("all")


def _section(text, heading):
    return text.split(f"<h2>{heading}</h2>")[1].split("<h2>")[0]


def _eq4(params, compute):
    """Hoffmann et al. 2022 Eq 4 (C = 6ND): N_opt, D_opt."""
    A, B, alpha, beta = (params[k] for k in ("A", "B", "alpha", "beta"))
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    x = np.asarray(compute) / 6
    return G * x ** (beta / (alpha + beta)), x ** (alpha / (alpha + beta)) / G


@pytest.fixture(scope="module")
def report_text(result, runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert make_report(result, runs, out, dpi=40) == out
    return out.read_text(encoding="utf-8")


def test_report_holds_every_figure(report_text):
    text = report_text
    assert text.startswith("<!DOCTYPE html>")
    # fit (against N and C), residuals, frontier, landscape, IsoFLOP, corner, in that order
    idents = re.findall(r'<figure id="fig-([a-z_]+)">', text)
    assert idents == ["fit", "fit_c", "residuals", "frontier", "landscape", "isoflop", "corner"]
    assert text.count(IMG) == 7
    images = re.findall(r'data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert all(base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n" for data in images)
    assert 'src="http' not in text and "<script" not in text  # self-contained, no scripts


def test_report_tables_carry_the_fit(report_text, result):
    coefficients = _section(report_text, "Coefficients")
    for name in result.form.param_names:
        assert f"<td><code>{name}</code></td><td>{result.params[name]:.6g}</td>" in coefficients
    # every interval column names its kind and level (an audit: the frontier's said neither)
    assert "<th>95% bootstrap percentile interval low</th>" in coefficients
    low, high = result.bootstrap.intervals["alpha"]
    assert f"<td>{low:.6g}</td><td>{high:.6g}</td>" in coefficients
    frontier = coefficients.split("<h3>Efficient frontier")[1]
    boot = result.bootstrap
    assert f"<th>95% bootstrap percentile interval ({len(boot.draws)} draws)</th>" in frontier
    # ...and it is that: the 2.5th and 97.5th percentiles of a = beta / (alpha + beta) over
    # the draws (Hoffmann et al. 2022 Eq 4), computed here from the draws themselves
    names = list(result.form.param_names)
    alpha, beta = boot.draws[:, names.index("alpha")], boot.draws[:, names.index("beta")]
    a_low, a_high = np.percentile(beta / (alpha + beta), [2.5, 97.5])
    assert f"<td>[{a_low:.6g}, {a_high:.6g}]</td>" in frontier
    allocation = _section(report_text, "Compute-optimal allocation")
    assert allocation.count("<tr>") == 7  # header + the 6 default budgets
    # the Gopher budget's row: N_opt and D_opt of Eq 4 from the fitted parameters
    n_opt, d_opt = _eq4(result.params, 5.76e23)
    row = next(r for r in allocation.split("<tr>") if r.startswith("<td>5.76e+23</td>"))
    assert f"<td>{n_opt:.3g} " in row and f"<td>{d_opt:.3g} " in row
    assert 'class="ci"' in row
    assert "brackets: 95% bootstrap percentile interval over 100 draws" in allocation
    diagnostics = report_text.split("<h2>Fit diagnostics</h2>")[1]
    for word in ("objective", "status", "condition number", "data fingerprint",
                 "matches the runs shown", result.data_fingerprint, f"scalinglaws {__version__}"):
        assert word in diagnostics
    size = result.diagnostics["residuals"]  # the bundled sweep's 1% noise: RMS about 1%
    assert f"<th>residuals</th><td>RMS {100 * size['rms']:.2g}%" in diagnostics
    assert 0.008 < size["rms"] < 0.011
    assert "<th>lack of fit</th><td>none found</td>" in diagnostics


def test_report_escapes_text_and_single_variable_law(runs, tmp_path):
    with pytest.warns(ScalingLawsWarning, match="is a law of N alone"), \
            pytest.warns(sl.LackOfFitWarning, match="misfits the runs"):  # D varies here
        kaplan = fit(runs, "kaplan_n")
    out = make_report(kaplan, runs, tmp_path / "k.html", title="<script>alert(1)</script> & co",
                      dpi=40)
    text = out.read_text(encoding="utf-8")
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text
    # fit vs data, residuals and the (law-free) IsoFLOP figure; no allocation
    assert re.findall(r'<figure id="fig-([a-z_]+)">', text) == ["fit", "residuals", "isoflop"]
    assert "no allocation table" in text
    for name in kaplan.form.param_names:
        assert f"<code>{name}</code>" in text
    assert "<th>lack of fit</th><td>the residuals trend with C" in text


def test_report_of_a_loaded_fit_without_bootstrap(plain_result, runs, tmp_path):
    save(plain_result, tmp_path / "fit.json")
    loaded = load(tmp_path / "fit.json")
    # without runs: only the figures of the law itself, no corner plot without draws
    text = make_report(loaded, None, tmp_path / "r.html", budgets=[1e22], dpi=40).read_text("utf-8")
    assert re.findall(r'<figure id="fig-([a-z_]+)">', text) == ["frontier", "landscape"]
    assert "No bootstrap draws" in text
    assert "<td>1e+22</td>" in text


def test_report_arguments_are_checked_first(plain_result, runs, tmp_path):
    out = tmp_path / "r.html"
    for kwargs, argument in (({"budgets": [-1]}, "`budgets`"), ({"budgets": "big"}, "`budgets`"),
                             ({"dpi": 100000}, "`dpi`"), ({"dpi": 5}, "`dpi`"),
                             ({"title": 3}, "`title`"), ({"progress": "yes"}, "`progress`"),
                             ({"force": 1}, "`force`")):
        with pytest.raises(InputError, match=argument):
            make_report(plain_result, runs, out, **kwargs)
        assert not out.exists() and plt.get_fignums() == []
    with pytest.raises(InputError, match="`result` must be a FitResult"):
        make_report("not a fit", runs, out)
    # 2,000 dpi on the 7.2 x 5.4 inch frontier is 14,400 x 10,800 pixels: refused, not a
    # page of missing figures
    with pytest.raises(InputError, match="`dpi` = 2000 makes this 7.2 x 5.4 inch figure"):
        make_report(plain_result, None, out, dpi=2000)
    assert not out.exists() and plt.get_fignums() == []
    with pytest.raises(InputError, match="folder .* does not exist"):
        make_report(plain_result, runs, tmp_path / "missing" / "r.html")


# ------------------------------------------------------------------ data fingerprints
def _other_runs(runs):
    """The same sweep with one loss changed by 1%: another data set to the fit."""
    loss = runs.loss.copy()
    loss[0] *= 1.01
    return Runs.from_arrays(N=runs.N, D=runs.D, loss=loss)


def test_runs_that_are_not_the_fits_data_warn(plain_result, runs, tmp_path):
    assert issubclass(DataMismatchWarning, ScalingLawsWarning)
    other = _other_runs(runs)
    with pytest.warns(DataMismatchWarning, match="108 runs.*not the data this fit was made on"):
        text = make_report(plain_result, other, tmp_path / "r.html", dpi=40).read_text("utf-8")
    assert "DIFFERS from the runs shown" in text
    with pytest.warns(DataMismatchWarning):
        save_figure("fit", plain_result, other, tmp_path / "fit.png", dpi=40)
    # the law-free IsoFLOP figure and the runs-free frontier do not compare data
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataMismatchWarning)
        save_figure("frontier", plain_result, other, tmp_path / "f.png", dpi=40,
                    known_models=False)
        # the fit's own data: silent
        save_figure("residuals", plain_result, runs, tmp_path / "res.png", dpi=40)
        # a weighted fit's fingerprint is the data's plus "+weights": still the same data
        weighted = fit(runs, "chinchilla", weights=np.ones(len(runs)))
        assert weighted.data_fingerprint.endswith("+weights")
        save_figure("fit", weighted, runs, tmp_path / "w.png", dpi=40)


def test_the_warning_names_the_data_file(plain_result, runs, tmp_path):
    path = tmp_path / "other.csv"
    _other_runs(runs).frame.to_csv(path, index=False)
    with pytest.warns(DataMismatchWarning, match=re.escape(str(path))):
        save_figure("fit", plain_result, path, tmp_path / "fit.png", dpi=40)


# ------------------------------------------------------------------ progress
def test_report_progress_moves_over_the_figures(result, runs, tmp_path, capsys):
    make_report(result, runs, tmp_path / "r.html", dpi=30, progress=True)
    err = capsys.readouterr().err
    # 7 figures then the tables: 8 steps, each shown as it completes
    for step in range(9):
        assert f"{step}/8" in err
    assert "report" in err
    law_only = result.with_bootstrap(None)  # two figures: enough to see a bar or not
    make_report(law_only, None, tmp_path / "q.html", dpi=30, progress=False)
    assert capsys.readouterr().err == ""
    make_report(law_only, None, tmp_path / "s.html", dpi=30)  # default: off when not a terminal
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------------ save_figure
@pytest.mark.parametrize("kind", sorted(FIGURE_KINDS))
def test_save_figure_every_kind(kind, result, runs, tmp_path):
    out = save_figure(kind, result, runs, tmp_path / f"{kind}.png", dpi=50)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = (int.from_bytes(out.read_bytes()[i:i + 4], "big") for i in (16, 20))
    assert 100 < width < 2000 and 100 < height < 2000  # 50 dpi, figures of 6-14 inches
    assert plt.get_fignums() == []  # closed after writing


def test_save_figure_errors(plain_result, runs, tmp_path):
    with pytest.raises(InputError, match="unknown figure kind 'pie'"):
        save_figure("pie", plain_result, runs, tmp_path / "x.png")
    with pytest.raises(InputError, match="`out` .*x.nope.: end the name with the image format"):
        save_figure("fit", plain_result, runs, tmp_path / "x.nope")
    with pytest.raises(InputError, match="needs bootstrap draws"):
        save_figure("corner", plain_result, runs, tmp_path / "x.png")
    with pytest.raises(InputError, match="needs the runs"):
        save_figure("fit", plain_result, None, tmp_path / "x.png")
    out = save_figure("frontier", plain_result, None, tmp_path / "f.svg", known_models=False)
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    out = save_figure("fit", plain_result, runs, tmp_path / "sized.png", dpi=20, figsize=(5, 3))
    width = int.from_bytes(out.read_bytes()[16:20], "big")
    # bbox_inches="tight" trims to the drawn content and pads 0.1 inch each side
    assert 4 * 20 <= width <= (5 + 2 * 0.1) * 20


def test_save_figure_refuses_huge_images_before_drawing(plain_result, runs, tmp_path,
                                                        monkeypatch):
    from matplotlib.figure import Figure

    def no_savefig(*args, **kwargs):
        raise AssertionError("savefig reached: the limit was not checked first")

    monkeypatch.setattr(Figure, "savefig", no_savefig)
    out = tmp_path / "x.png"
    # issue 19: `plot --dpi 100000` died with MemoryError: std::bad_alloc
    with pytest.raises(InputError, match="`dpi` must be an integer from 10 to 2400"):
        save_figure("fit", plain_result, runs, out, dpi=100000)
    assert plt.get_fignums() == []  # refused before any figure existed
    with pytest.raises(InputError, match="`figsize` sides must be numbers from 1 to 100"):
        save_figure("fit", plain_result, runs, out, figsize=(1000, 1000))
    assert plt.get_fignums() == []
    with pytest.raises(InputError, match="`dpi` = 2000 makes this 40 x 30 inch figure"):
        save_figure("fit", plain_result, runs, out, dpi=2000, figsize=(40, 30))
    assert plt.get_fignums() == []
    # the default 13.5 x 5 inch IsoFLOP figure at 2400 dpi: 389M pixels, refused after
    # drawing (its size is known then) but before savefig allocates the image
    with pytest.raises(InputError, match="`dpi` = 2400 makes this 13.5 x 5 inch figure"):
        save_figure("isoflop", plain_result, runs, out, dpi=2400)
    assert plt.get_fignums() == [] and not out.exists()


def test_cli_plot_with_absurd_dpi_is_a_clean_error(plain_result, runs, tmp_path, capsys):
    from scalinglaws.outputs.cli import main

    save(plain_result, tmp_path / "fit.json")
    runs.frame.to_csv(tmp_path / "runs.csv", index=False)
    status = main(["plot", "fit", str(tmp_path / "fit.json"), "--data", str(tmp_path / "runs.csv"),
                   "--dpi", "100000", "--out", str(tmp_path / "fit.png")])
    assert status == 2
    assert "dpi` must be an integer from 10 to 2400, got 100000" in capsys.readouterr().err
    assert not (tmp_path / "fit.png").exists()


def test_outputs_never_replace_an_input_or_another_kind(plain_result, runs, tmp_path):
    table = tmp_path / "runs.csv"
    runs.frame.to_csv(table, index=False)
    before = table.read_bytes()
    with pytest.raises(InputError, match="image format"):  # a table is never an image
        save_figure("fit", plain_result, table, table)
    with pytest.raises(InputError, match="also an input"):
        make_report(plain_result, table, table)
    assert table.read_bytes() == before
    fit_file = tmp_path / "fit.json"
    save(plain_result, fit_file)
    with pytest.raises(InputError, match="holds a fit file, not an HTML file"):
        make_report(plain_result, runs, fit_file)
    assert load(fit_file).params == plain_result.params
    # a report or figure the package wrote (signed) is replaced unasked; a page or picture
    # it did not write (a reviewer's hand-written report.html was replaced) needs force
    make_report(plain_result, None, tmp_path / "r.html", dpi=30)
    make_report(plain_result, None, tmp_path / "r.html", dpi=30)
    mine = tmp_path / "mine.html"
    mine.write_text("<!DOCTYPE html><html><body>my notes</body></html>")
    with pytest.raises(InputError, match="holds a web page that may be data"):
        make_report(plain_result, None, mine, dpi=30)
    assert "my notes" in mine.read_text()
    png = tmp_path / "x.png"
    png.write_bytes(b"not really")
    with pytest.raises(InputError, match="holds an image that may be data"):
        save_figure("frontier", plain_result, None, png, dpi=30, known_models=False)
    import matplotlib.pyplot as plt

    figure = plt.figure()
    figure.savefig(tmp_path / "theirs.png")  # a matplotlib PNG, not the package's
    plt.close(figure)
    with pytest.raises(InputError, match="holds an image that may be data"):
        save_figure("frontier", plain_result, None, tmp_path / "theirs.png", dpi=30,
                    known_models=False)
    save_figure("frontier", plain_result, None, png, dpi=30, known_models=False, force=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    save_figure("frontier", plain_result, None, png, dpi=30, known_models=False)  # its own
    for suffix in ("pdf", "svg"):  # every format is signed
        path = save_figure("frontier", plain_result, None, tmp_path / f"f.{suffix}", dpi=30,
                           known_models=False)
        save_figure("frontier", plain_result, None, path, dpi=30, known_models=False)
    make_report(plain_result, None, fit_file, dpi=30, force=True)
    assert fit_file.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_of_a_calibrated_fit_with_a_rollout(runs, tmp_path):
    law = sl.calibrate(sl.fit(runs), runs, n_resamples=20, rng=0, progress=False)
    page = make_report(law, runs, tmp_path / "law.html", dpi=30, rollout=True,
                       progress=False).read_text()
    assert "<h2>Uncertainty of predictions</h2>" in page
    assert f"tau = {law.calibration.tau:.4g}" in page
    assert 'id="fig-rollout"' in page and "<h2>Rollout back-test</h2>" in page
    assert 'id="fig-corner"' in page  # the calibrated fit's bootstrap draws
    with pytest.raises(sl.InputError, match="`rollout`"):
        make_report(law, runs, tmp_path / "bad.html", rollout="yes")


def _one_ratio_runs(seed=0):
    """Every run at D = N/2 (a sweep along one tokens-per-parameter line): N and D grow
    together, so no data can separate the N term of the law from its D term."""
    from scalinglaws.laws.forms import get_form
    from scalinglaws.laws.published import HOFFMANN_2022_TEX

    rng = np.random.default_rng(seed)
    n = np.geomspace(1e8, 1e10, 20)
    loss = get_form("chinchilla").predict(dict(HOFFMANN_2022_TEX), N=n, D=n / 2) * np.exp(
        0.005 * rng.standard_normal(n.size))
    return Runs.from_arrays(N=n, D=n / 2, loss=loss)


def test_a_fit_the_runs_cannot_identify_is_flagged_above_every_table(tmp_path):
    # before: the allocation table (N_opt alike at every budget) with no warning beside it,
    # and "converged: yes" in the diagnostics at the bottom
    runs = _one_ratio_runs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fit(runs, "chinchilla")
    # the design is degenerate by construction; the fit's diagnostics say so, while the
    # optimiser converged inside the bounds and an allocation table can be computed
    assert result.diagnostics["identifiable"] is False
    assert result.success and not result.at_bounds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = make_report(result, runs, tmp_path / "r.html", dpi=30).read_text("utf-8")
    alert = text.index('<div class="alert" id="identifiability">')
    assert alert < text.index("<h2>Coefficients</h2>") < text.index("<table")
    box = text[alert:text.index("</div>", alert)]
    pair = result.diagnostics["most_correlated"]
    assert f"{pair['correlation']:+.4f}" in box and " and ".join(pair["params"]) in box
    assert f"{result.diagnostics['condition_number']:.3g}" in box
    assert "D/N from 0.5 to 0.5" in box  # the cause: one tokens-per-parameter ratio
    assert "vary N and D independently" in box and "--fix" in box  # what to do
    allocation = _section(text, "Compute-optimal allocation")
    assert allocation.index("Not identified") < allocation.index("<table")
    assert allocation.count("<tr>") == 7  # the table is still shown, under its warning
    assert "the parameters are not identified" in text.split("<h2>Fit diagnostics</h2>")[1]


def test_an_identified_fit_has_no_warning_box(report_text):
    assert 'class="alert"' not in report_text and "Not identified" not in report_text


def test_the_landscape_caption_states_the_fits_own_flops_per_token(runs, tmp_path):
    # before: a fit made with C = 8 N D had its landscape drawn and captioned with C = 6ND
    # while the page's own allocation table said C = 8·N·D
    from scalinglaws import load_runs

    law = fit(load_runs(runs.frame[["N", "D", "loss"]], flops_per_token=8), "chinchilla")
    page = make_report(law, None, tmp_path / "k8.html", dpi=20, progress=False).read_text()
    caption = page.split('id="fig-landscape"')[1].split("</figcaption>")[0]
    assert "iso-compute lines C = 8·N·D" in caption and "6ND" not in caption
    assert "C = 8·N·D;" in _section(page, "Compute-optimal allocation")
    assert "6ND" not in page and "6·N·D" not in page


def test_the_residuals_caption_says_runs_outside_the_huber_zone_are_down_weighted(report_text):
    # before: "points outside count as outliers", of a band (δ = 1e-3) that most runs of a
    # fit with ~1% residuals lie outside: Huber counts them linearly, it sets none aside
    caption = report_text.split('id="fig-residuals"')[1].split("</figcaption>")[0]
    assert "quadratic zone ±δ" in caption and "down-weighted" in caption
    assert "count as outliers" not in caption


# ------------------------------------------------------------------ the rows of the fit
SWEEP = sl.outputs.report.Path(__file__).resolve().parents[2] / "datasets" / \
    "synthetic_chinchilla_sweep.csv"


def test_the_report_states_the_rows_read_fitted_and_left_out(tmp_path):
    """review s38: a report of a fit made with --exclude-top-loss said "(103 runs)" of a
    108-row file and never named the runs left out, which the fit's summary lists."""
    import pandas as pd

    table = pd.read_csv(SWEEP)
    table.loc[[3, 40], "loss"] = np.nan
    path = tmp_path / "holes.csv"
    table.to_csv(path, index=False)
    with pytest.warns(ScalingLawsWarning, match="dropped 2"):
        runs = sl.load_runs(path, nan_policy="omit").exclude_top_loss(5)
    result = fit(runs, "chinchilla")
    largest = sorted(table["loss"].nlargest(5).index.tolist())
    left_out = ("101 of the 108 rows read; not fitted: 2 row(s) dropped on loading (rows 3, "
                "40); the 5 of largest loss excluded (--exclude-top-loss: rows "
                f"{', '.join(map(str, largest))})")
    for shown in (runs, None):  # the fit's own record: with the runs or without
        text = make_report(result, shown, tmp_path / "r.html", dpi=30).read_text("utf-8")
        assert f"fitted to {left_out}." in text
        assert f"<th>runs</th><td>{left_out}</td>" in _section(text, "Fit diagnostics")
    # nothing left out: the count alone, as before
    plain = make_report(fit(sl.load_runs(SWEEP), "chinchilla"), None, tmp_path / "p.html",
                        dpi=30).read_text("utf-8")
    assert "fitted to 108 runs." in plain and "not fitted" not in plain


def test_a_table_given_by_path_is_read_with_the_fits_column_mapping(tmp_path, two_size_columns):
    """review s38: make_report / save_figure / the plot functions given a path read it
    without the mapping the fit was made with (``params`` as N): a DataMismatchWarning."""
    path = two_size_columns
    result = fit(sl.load_runs(path, columns={"N": "nonembedding_params"}), "chinchilla")
    text = make_report(result, path, tmp_path / "r.html", dpi=30).read_text("utf-8")
    assert "(matches the runs shown)" in text
    save_figure("fit", result, path, tmp_path / "fit.png", dpi=30)
    sl.plot.residuals(result, path)
    sl.plot.fit_vs_data(result, str(path))
    # runs loaded with another mapping are used as given, with a warning naming both
    with pytest.warns(sl.ScalingLawsWarning, match="looks like N too"):  # the loader's
        runs = sl.load_runs(path)
    with pytest.warns(DataMismatchWarning) as caught:
        save_figure("fit", result, runs, tmp_path / "fit.png", dpi=30)
    said = [str(w.message) for w in caught]
    assert any(re.search(r"N from column 'params'.*'nonembedding_params'", m) for m in said)
    assert any("not the data this fit was made on" in m for m in said)
    # a table without the recorded column: the message says where the mapping came from
    with pytest.raises(InputError, match=r"no such column.*the column mapping the fit records"):
        save_figure("fit", result, sl.generate_sweep(rng=0).frame, tmp_path / "x.png", dpi=30)
