"""The HTML report: self-contained, deterministic, complete; and it renders in a real browser
with the partnership graph visible (where Debian's chromium is installed)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from icorules.cli import cli
from icorules.output.drawing import MAX_ORGANISATIONS, WIDTH, type_colours

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


def _png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) bytes of a PNG chromium wrote (8-bit RGB or RGBA,
    not interlaced): enough of PNG to count pixels of a colour without an imaging library."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks, header = 8, [], b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        at += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0
    size = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * size
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - size] if x >= size else 0
            b = previous[x]
            c = previous[x - size] if x >= size else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, size, rows


def _count_colour(path: Path, hex_colour: str, tolerance: int = 6) -> int:
    width, size, rows = _png_pixels(path)
    want = bytes.fromhex(hex_colour.lstrip("#"))
    found = 0
    for row in rows:
        for x in range(0, width * size, size):
            if all(abs(row[x + i] - want[i]) <= tolerance for i in range(3)):
                found += 1
    return found


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_renders_in_headless_chromium_with_the_graph_visible(pages: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>notDefined();</script></body></html>")
    log = _chromium(broken.as_uri(), tmp_path / "broken.png", tmp_path / "p0")
    assert _console_errors(log), "the console check must be able to see an error"

    for name in ("index.html", "bay-clean.html"):
        shot = tmp_path / f"{name}.png"
        log = _chromium((pages / name).as_uri(), shot, tmp_path / name)
        assert _console_errors(log) == [], name
        assert shot.stat().st_size > 10_000
    practices = _count_colour(tmp_path / "bay-clean.html.png", type_colours()["gp_practice"])
    assert practices > 200, "the partner practices are drawn in their colour"


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


# -- the drawing ----------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"
EXAMPLES = sorted([*(ROOT / "examples").glob("*.json"), *(ROOT / "examples").glob("*.yaml")])


def _page(path: Path, *extra: str) -> str:
    args = ["check", str(path), "--format", "html", *extra]
    if path.name.startswith("bay-"):
        args += ["-m", MARKET]
    code, out, err = run(*args)
    assert code in (0, 1), err
    return out


def _svg(page: str) -> ET.Element:
    start = page.index('<svg xmlns="http://www.w3.org/2000/svg"')
    end = page.index("</svg>", start) + len("</svg>")
    return ET.fromstring(page[start:end])  # XML 1.0 well-formed, or this raises


def _segments(svg: ET.Element) -> list[tuple[float, float, float, float]]:
    """The straight pieces of the agreement lines (paths of M, H and V only)."""
    out = []
    for path in svg.iter(f"{SVG}path"):
        if path.get("fill") != "none":
            continue  # the lane heads' diamonds
        x = y = 0.0
        for op, value in re.findall(r"([MHV])\s*([-\d.]+(?:\s+[-\d.]+)?)", path.get("d", "")):
            numbers = [float(v) for v in value.split()]
            if op == "M":
                x, y = numbers
                continue
            nx, ny = (numbers[0], y) if op == "H" else (x, numbers[0])
            out.append((x, y, nx, ny))
            x, y = nx, ny
    return out


def _circles(svg: ET.Element, kind: str) -> list[tuple[float, float, float]]:
    found = []
    for group in svg.iter():
        if kind in (group.get("class") or "").split():
            circle = [c for c in group.iter(f"{SVG}circle") if c.get("stroke") == "#1f2933"]
            circle = circle or list(group.iter(f"{SVG}circle"))
            c = circle[0]
            found.append((float(c.get("cx", 0)), float(c.get("cy", 0)), float(c.get("r", 0))))
    return found


def _labels(svg: ET.Element) -> list[tuple[float, float, float, float]]:
    """Boxes around the partners' names (x0, y0, x1, y1), from their text and font size."""
    boxes = []
    for group in svg.iter():
        if "org" in (group.get("class") or "").split():
            for text in group.iter(f"{SVG}text"):
                if text.get("font-size") == "12":
                    x, y = float(text.get("x", 0)), float(text.get("y", 0))
                    boxes.append((x, y - 11, x + 7 * len(text.text or ""), y + 3))
    return boxes


def _crosses_box(seg: tuple[float, float, float, float], box: tuple[float, ...]) -> bool:
    x0, y0, x1, y1 = seg
    lo_x, hi_x, lo_y, hi_y = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
    return lo_x <= box[2] and hi_x >= box[0] and lo_y <= box[3] and hi_y >= box[1]


def _distance(seg: tuple[float, float, float, float], cx: float, cy: float) -> float:
    x0, y0, x1, y1 = seg
    dx, dy = x1 - x0, y1 - y0
    t = (
        0.0
        if dx == dy == 0
        else max(0.0, min(1.0, ((cx - x0) * dx + (cy - y0) * dy) / (dx * dx + dy * dy)))
    )
    return float(((x0 + t * dx - cx) ** 2 + (y0 + t * dy - cy) ** 2) ** 0.5)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_no_agreement_line_crosses_an_organisation_or_a_name(path: Path) -> None:
    svg = _svg(_page(path))
    segments = _segments(svg)
    nodes = _circles(svg, "org") + _circles(svg, "other")
    assert nodes
    for seg in segments:
        end = (seg[2], seg[3])
        for cx, cy, r in nodes:
            if seg[0] == seg[2] and abs(end[0] - cx) <= r and abs(end[1] - (cy - r)) < 0.01:
                continue  # the drop into this organisation, from above
            assert _distance(seg, cx, cy) > r, (path.name, seg, (cx, cy))
        for box in _labels(svg):
            assert not _crosses_box(seg, box), (path.name, seg, box)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_nothing_is_clipped(path: Path) -> None:
    svg = _svg(_page(path))
    width, height = float(svg.get("width", 0)), float(svg.get("height", 0))
    assert width == WIDTH and svg.get("viewBox") == f"0 0 {WIDTH} {int(height)}"
    for circle in svg.iter(f"{SVG}circle"):
        cx, cy, r = (float(circle.get(k, 0)) for k in ("cx", "cy", "r"))
        assert r <= cx <= width - r and r <= cy <= height - r, (path.name, cx, cy)
    for rect in svg.iter(f"{SVG}rect"):
        x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
        assert x >= 0 and x + float(rect.get("width", 0)) <= width
        assert y >= 0 and y + float(rect.get("height", 0)) <= height
    for text in svg.iter(f"{SVG}text"):
        x, y = float(text.get("x", 0)), float(text.get("y", 0))
        size = float(text.get("font-size", 12))
        assert y - size >= 0 and y <= height, (path.name, text.text)  # titles are not cut off
        if text.get("text-anchor") != "middle":
            # a generous width per character (bold 14px titles, 12px names and notes)
            wide = 0.62 * size * len(text.text or "") + sum(
                0.62 * float(span.get("font-size", size)) * len(span.text or "")
                for span in text.iter(f"{SVG}tspan")
            )
            assert x + wide <= width + 2, (path.name, text.text)


def test_names_on_the_drawing_ids_in_tooltips_findings_marked_and_linked() -> None:
    page = _page(ROOT / "examples/church-view-defects.json")
    svg = _svg(page)
    texts = " ".join("".join(t.itertext()) for t in svg.iter(f"{SVG}text"))
    assert "Church View Medical Centre" in texts and "5KL Sunderland Teaching PCT" in texts
    assert "CHURCH-VIEW" not in texts  # ids are in the tooltips
    tips = [t.text or "" for t in svg.iter(f"{SVG}title")]
    assert any("Church View Medical Centre (CHURCH-VIEW), GP practice" in t for t in tips)
    marked = [a for a in svg.iter(f"{SVG}a") if "marked" in (a.get("class") or "")]
    assert {a.get("data-org") for a in marked} == {"CHS-FT", "NHS-SUNDERLAND", "AGE-CONCERN"}
    for a in marked:
        anchor = (a.get("href") or "").lstrip("#")
        assert f'id="{anchor}"' in page, anchor
        (title,) = a.iter(f"{SVG}title")
        assert re.search(r"\d+ (error|warning|note)", title.text or "")
    ids = re.findall(r'class="finding \w+" id="([^"]+)"', page)
    assert len(ids) == len(set(ids)) > 0  # one id per finding, for the links
    # the key is beside the drawing, in the page
    assert '<aside class="legend"' in page and "AG-PILOT" in page


def test_a_partnership_too_large_to_draw_is_summarised(tmp_path: Path) -> None:
    import json

    from tests.proposals import clean_proposal

    bid = clean_proposal()
    for i in range(MAX_ORGANISATIONS + 5):
        bid["organisations"].append(
            {
                "id": f"P{i:03d}",
                "name": f"Practice {i}",
                "type": "gp_practice",
                "pct": "5AA",
                "list_size": 100,
                "provides": ["general_practice"],
            }
        )
    path = tmp_path / "federation.json"
    path.write_text(json.dumps(bid))
    page = _page(path)
    assert "too large to draw in full" in page
    svg = _svg(page)
    assert not _circles(svg, "org")
    texts = " ".join("".join(t.itertext()) for t in svg.iter(f"{SVG}text"))
    assert f"{MAX_ORGANISATIONS + 5 + 3} GP practices" in texts


def test_hostile_names_stay_text_and_xml_safe(tmp_path: Path) -> None:
    import json

    from tests.proposals import clean_proposal

    bid = clean_proposal()
    bid["organisations"][1]["name"] = "Bridge <script>alert(1)</script> & \ufffe Surgery"
    bid["pct_areas"][0]["name"] = 'Riverside "PCT" </svg><b>'
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(bid))
    code, out, err = run("check", str(path), "--format", "html")
    assert code == 0, err
    svg = _svg(out)  # parses: the text is escaped and XML 1.0 safe
    texts = " ".join("".join(t.itertext()) for t in svg.iter(f"{SVG}text"))
    assert "<script>" in texts and "\ufffe" not in out and "<script>alert" not in out


MAIN = "from icorules.cli import main; main()"


@pytest.mark.slow
def test_the_drawing_is_the_same_under_every_hash_seed() -> None:
    bid = str(ROOT / "examples/bay-clean.json")
    outputs = set()
    for seed in ("0", "1", "12345"):
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                MAIN,
                "--isolated",
                "check",
                bid,
                "-m",
                MARKET,
                "--format",
                "html",
            ],
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=False,
        )
        assert result.returncode == 0, result.stderr
        outputs.add(result.stdout)
    assert len(outputs) == 1
