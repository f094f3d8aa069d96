"""The HTML report: self-contained, deterministic, complete; and it renders in a real browser
with the partnership graph visible (where Debian's chromium is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from icorules.cli import cli
from icorules.output.drawing import type_colours

ROOT = Path(__file__).resolve().parents[1]
MARKET = str(ROOT / "examples/markets/morecambe-bay.json")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A batch of every example (with the Morecambe Bay market) plus one unreadable file."""
    folder = tmp_path_factory.mktemp("bids")
    for path in (ROOT / "examples").glob("bay-*.json"):
        shutil.copy(path, folder / path.name)
    shutil.copy(ROOT / "examples/church-view-defects.json", folder)
    (folder / "broken.json").write_text("{")
    out = tmp_path_factory.mktemp("html")
    code, _, err = run("check", str(folder), "-m", MARKET, "--format", "html", "-o", str(out))
    assert code == 2 and "broken.json" in err
    return out


def test_a_page_per_proposal_and_an_index(pages: Path) -> None:
    names = sorted(p.name for p in pages.iterdir())
    assert names == sorted(
        ["index.html", "church-view-defects.html"]
        + [p.stem + ".html" for p in (ROOT / "examples").glob("bay-*.json")]
    )
    index = (pages / "index.html").read_text()
    assert index.count('<a href="') == len(names) - 1
    assert "could not be read" in index and "broken.json" in index


def test_a_page_has_verdict_findings_by_area_waived_passed_graph_and_markets(
    pages: Path,
) -> None:
    page = (pages / "church-view-defects.html").read_text()
    assert "Does not pass" in page
    for heading in ("Findings", "The partnership", "Passing checks"):
        assert f">{heading}" in page
    assert ">Markets" not in page  # the Morecambe Bay file knows nothing of Sunderland
    assert re.search(r"<h3>Governance</h3>", page) and "GOV-001" in page
    assert "<svg" in page and "Fix:</strong>" in page and "Source:" in page
    clean = (pages / "bay-clean.html").read_text()
    assert "Passes" in clean and ">Markets" in clean and "<td>general practice</td>" in clean


def test_pages_are_self_contained(pages: Path) -> None:
    for page in pages.iterdir():
        text = page.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), page.name
        assert "<link" not in text and "@import" not in text


def test_pages_are_byte_identical_across_runs(tmp_path: Path) -> None:
    bid = str(ROOT / "examples/bay-cross-boundary.json")
    first = run("check", bid, "-m", MARKET, "--format", "html")[1]
    assert first.startswith("<!DOCTYPE html>")
    assert first == run("check", bid, "-m", MARKET, "--format", "html")[1]


def test_html_batch_needs_a_directory() -> None:
    examples = str(ROOT / "examples")
    code, _, err = run("check", examples, "--format", "html")
    assert code == 2 and "needs --output DIRECTORY" in err


def _chromium(url: str, screenshot: Path, profile: Path) -> str:
    """Load `url` headless; return what the browser logged (console messages included)."""
    result = subprocess.run(
        [
            CHROMIUM or "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,3000",
            f"--screenshot={screenshot}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stderr


def _console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_renders_in_headless_chromium_with_the_graph_visible(pages: Path, tmp_path: Path) -> None:
    from matplotlib.colors import to_rgb
    from matplotlib.image import imread

    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>notDefined();</script></body></html>")
    log = _chromium(broken.as_uri(), tmp_path / "broken.png", tmp_path / "p0")
    assert _console_errors(log), "the console check must be able to see an error"

    for name in ("index.html", "bay-clean.html"):
        shot = tmp_path / f"{name}.png"
        log = _chromium((pages / name).as_uri(), shot, tmp_path / name)
        assert _console_errors(log) == [], name
        assert shot.stat().st_size > 10_000
    image = imread(tmp_path / "bay-clean.html.png")[..., :3]
    practice = to_rgb(type_colours()["gp_practice"])
    close = (abs(image - practice) < 0.02).all(axis=-1)
    assert close.sum() > 200, "the partner practices are drawn in their colour"


def test_names_with_formula_characters_are_drawn_as_text(tmp_path: Path) -> None:
    import json

    from tests.proposals import clean_proposal

    bid = clean_proposal()
    bid["pct_areas"][0]["name"] = "Area $\\frac{$ and 100%"
    path = tmp_path / "bid.json"
    path.write_text(json.dumps(bid))
    code, out, err = run("check", str(path), "--format", "html")
    assert code == 0, err
    assert "Area $\\frac{$ and 100%" in out
