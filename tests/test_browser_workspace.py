"""The workspace in a real browser: Debian's chromium driven by Playwright (never a browser
Playwright downloads). Upload a bid and read its findings; browse the rules; edit a rule until
it fires. Screenshots go to the test's temporary folder, and the final ones also to
$ICORULES_SCREENSHOTS when that is set (for people to look at)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from tests.serving import ROOT, Server, serving  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
    ),
]


def keep(shot: Path) -> None:
    """Copy a final screenshot where people can look at it, if they asked."""
    folder = os.environ.get("ICORULES_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(folder) / shot.name)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with serving(
        "--examples", "examples", "--market", "examples/markets/morecambe-bay.json"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        try:
            launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Exception as exc:  # a chromium Playwright cannot drive
            pytest.skip(f"Playwright cannot start {CHROMIUM}: {exc}")
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    opened = context.new_page()
    errors: list[str] = []
    # a 400 is the API's answer to a bad bid, shown on the page: not an error of the page
    opened.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and "status of 400" not in m.text else None
        ),
    )
    opened.on("pageerror", lambda e: errors.append(str(e)))
    opened.set_default_timeout(30_000)
    yield opened
    context.close()
    assert errors == [], errors


def ready(page: Any, server: Server, where: str) -> None:
    page.goto(f"{server.url}/#{where}")
    page.wait_for_selector("body[data-ready=true]")


def test_check_a_bid_upload_it_and_read_its_findings(
    page: Any, server: Server, tmp_path: Path
) -> None:
    ready(page, server, "check")
    page.set_input_files("#check-file", str(ROOT / "examples/church-view-defects.json"))
    page.locator("#check-status", has_text="Checked").wait_for()
    assert page.inner_text("#check-status") == "Checked: does not pass."
    report = page.frame_locator("#check-report")
    report.locator("h1").wait_for()
    assert "Does not pass" in report.locator(".verdict").inner_text()
    assert report.locator("#GOV-002-1").count() == 1  # a finding, with its id on the page
    # the drawing marks the trust with findings and links to them
    marked = report.locator('a.org.marked[data-org="CHS-FT"]')
    assert marked.count() == 1 and marked.get_attribute("href").startswith("#")
    shot = tmp_path / "workspace-check-church-view-defects.png"
    page.screenshot(path=str(shot), full_page=True)
    drawing = tmp_path / "drawing-church-view-defects.png"
    report.locator(".drawing").screenshot(path=str(drawing))
    keep(shot)
    keep(drawing)
    # a bad bid, pasted: located problems instead of a report
    page.fill("#check-text", '{"id": "x",}')
    page.click("#check-run")
    page.locator("#check-problems li").first.wait_for()
    assert "trailing comma" in page.inner_text("#check-problems")


def test_check_with_a_market_draws_the_other_providers(
    page: Any, server: Server, tmp_path: Path
) -> None:
    ready(page, server, "check")
    page.select_option("#check-market", "morecambe-bay")
    page.select_option("#check-example", "bay-clean.json")
    page.locator("#check-status", has_text="Checked").wait_for()
    assert page.inner_text("#check-status") == "Checked: passes."
    report = page.frame_locator("#check-report")
    report.locator(".drawing figure svg").wait_for()
    assert report.locator("svg g.other").count() > 20  # pale providers, each with a tooltip
    assert (
        "Morecambe Bay Hospitals NHS Foundation Trust"
        in report.locator(".drawing figure svg").text_content()
    )
    drawing = tmp_path / "drawing-bay-clean.png"
    report.locator(".drawing").screenshot(path=str(drawing))
    keep(drawing)
    box = report.locator(".drawing figure svg").bounding_box()
    legend = report.locator(".drawing .legend").bounding_box()
    assert legend["x"] > box["x"] + box["width"] - 5, "the key sits beside the drawing"


def test_browse_rules(page: Any, server: Server, tmp_path: Path) -> None:
    ready(page, server, "rules")
    assert page.locator("#rules-table tbody tr").count() == 49
    page.fill("#rules-filter", "dispute")
    visible = page.locator("#rules-table tbody tr:visible")
    assert 0 < visible.count() < 49
    page.fill("#rules-filter", "")
    page.click("tr[data-rule='ELIG-003']")
    detail = page.locator("#rule-detail")
    detail.locator("h3", has_text="ELIG-003").wait_for()
    text = detail.inner_text()
    assert "Source" in text and "Fires when" in text
    assert "max_pct_population_share" in text and "60%" in text  # a share shown as one
    shot = tmp_path / "workspace-rules.png"
    page.screenshot(path=str(shot))
    keep(shot)


def test_try_a_rule_edit_it_until_it_fires(page: Any, server: Server, tmp_path: Path) -> None:
    ready(page, server, "try")
    page.select_option("#try-start", "GOV-002")
    page.locator("#try-loads").wait_for()
    results = page.locator("#try-results")
    results.wait_for()
    church = page.locator('.bid[data-bid="church-view.json"]')
    assert "does not fire" in church.inner_text()
    # edit the condition, as an analyst types: it fires on the clean bid too
    draft = page.input_value("#try-text")
    page.fill(
        "#try-text",
        draft.replace("condition: not in_dispute_procedure", "condition: in_dispute_procedure"),
    )
    page.locator('.bid[data-bid="church-view.json"] .fires').wait_for()
    assert "fires" in church.inner_text()
    assert page.locator('.bid[data-bid="church-view.json"] pre.explain').count() >= 1
    church.scroll_into_view_if_needed()
    shot = tmp_path / "workspace-try-fires.png"
    page.screenshot(path=str(shot))
    keep(shot)
    # a slip: the problem is located, and selecting it goes to the line
    page.fill(
        "#try-text",
        draft.replace("condition: not in_dispute_procedure", "condition: not in_dispute"),
    )
    page.locator("#try-problems li").first.wait_for()
    problems = page.inner_text("#try-problems")
    assert "draft.yaml:" in problems and "in_dispute" in problems
    shot = tmp_path / "workspace-try-problem.png"
    page.screenshot(path=str(shot))
    keep(shot)
    # download: the draft as a file, only when asked
    with page.expect_download() as download:
        page.click("#try-download")
    assert download.value.suggested_filename == "draft-governance.yaml"
