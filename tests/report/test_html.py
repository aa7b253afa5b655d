"""The hand-over report: complete, self-contained, and rendering in a real browser."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import run_cli
from riskchain.analysis.report import build_report, main_target
from riskchain.analysis.uncertainty import DrawOptions
from riskchain.report.html import markdown_to_html, render_report

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios" / "korea_russia_2024.yaml"


@pytest.fixture(scope="module")
def report():
    return build_report(SCENARIOS)


@pytest.fixture(scope="module")
def page(report) -> str:
    return render_report(report)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_every_section_is_there(report, page):
    for heading in (
        "1. Scenarios",
        "2. Risk table",
        "3. Each outcome across the scenarios",
        "4. The network under the baseline scenario",
        f"5. What P({report.target} = {report.state}) rests on",
        "Indicators to watch",
        "6. The judgment explained",
        "7. Method",
    ):
        assert heading in page, heading
    spec = report.run.model.spec
    assert spec.title in page and spec.horizon in page
    for sid in report.run.file.scenarios:
        assert f"<b>{sid}</b>" in page
    for src in spec.sources.values():
        assert html.escape(src.title) in page


def test_self_contained(page):
    """No scripts, stylesheets, frames or pictures fetched from anywhere: links only."""
    parser = _Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        assert tag not in ("script", "iframe", "link", "object", "embed"), tag
        if tag in ("img", "image", "source", "use"):
            ref = attrs.get("src") or attrs.get("href") or attrs.get("xlink:href") or ""
            assert not re.match(r"https?:|//", ref), (tag, ref)
    assert "@import" not in page and "url(http" not in page
    assert page.count("<svg") >= 3  # the outcomes chart, the network, the tornado


def test_main_target_is_the_bottom_line(report):
    # the target with the most ancestors: the threat, in its worst reported state
    assert (report.target, report.state) == ("rok_security_threat", "severe")
    assert main_target(report.run, "nk_troop_dispatch", None) == ("nk_troop_dispatch", "yes")


def test_numbers_in_the_page_are_the_analyses(report, page):
    res = report.explanation
    assert f"P({report.target} = {report.state})" in page
    for ind in report.watch.indicators[:6]:
        assert f"<code>{ind.node}</code>" in page
        assert f"{ind.mutual_information:.3f}" in page
    assert markdown_to_html("**a** `b` *c*") == "<p><b>a</b> <code>b</code> <i>c</i></p>"
    assert "most probable explanation" in page.lower()
    assert f"{res.mpe.probability * 100:.1f}%" in page


def test_with_draws_the_chart_and_judgment_carry_intervals():
    rep = build_report(SCENARIOS, draws=DrawOptions(100, seed=4))
    text = render_report(rep, "intervals: central 90% of 100 parameter draws (seed 4)")
    assert "100 draws" in text and "seed 4" in text
    assert "thick bar is the central interval" in text


def test_cli_writes_and_refuses_to_clobber(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "report", str(SCENARIOS))
    assert code == 0, err
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
    code, _, err = run_cli(capsys, "report", str(SCENARIOS))
    assert code == 2 and "exists" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "report", str(SCENARIOS), "-o", "nope/r.html")
    assert code == 2 and "no such folder" in err
    code, _, err = run_cli(capsys, "report", str(SCENARIOS), "-t", "nope=yes", "-o", "x.html")
    assert code == 2 and "--target" in err


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_renders_in_headless_chromium(tmp_path, page):
    """Chromium loads the page offline and draws it: a tall screenshot, not blank."""
    from PIL import Image

    html_path = tmp_path / "report.html"
    html_path.write_text(page)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,6000",
            f"--screenshot={shot}",
            html_path.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    img = Image.open(shot).convert("L")
    assert img.size == (1280, 6000)
    # ink all the way down: the charts and tables were laid out, not an empty page
    for top in range(0, 6000, 1500):
        band = img.crop((0, top, 1280, top + 1500))
        assert band.getextrema()[0] < 100, f"nothing drawn between {top} and {top + 1500} px"
