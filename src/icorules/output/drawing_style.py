"""The partnership drawing's vocabulary: its colours, words and sizes, and the markers and
agreement keys it is given to show.

Both the layout (icorules.output.drawing_layout) and the SVG pieces
(icorules.output.drawing_svg) read these; the HTML page's legend shows the same colours and
words, so they are defined once, here.
"""

from __future__ import annotations

from dataclasses import dataclass

from icorules.inputs.codes import OrgType

# matplotlib's tab20 palette, one colour per organisation type (as the reports always had)
_TAB20 = [
    "#1f77b4",
    "#aec7e8",
    "#ff7f0e",
    "#ffbb78",
    "#2ca02c",
    "#98df8a",
    "#d62728",
    "#ff9896",
    "#9467bd",
    "#c5b0d5",
    "#8c564b",
    "#c49c94",
    "#e377c2",
    "#f7b6d2",
    "#7f7f7f",
    "#c7c7c7",
    "#bcbd22",
    "#dbdb8d",
    "#17becf",
    "#9edae5",
]
TYPES: list[OrgType] = list(OrgType)
SEVERITY_COLOURS = {"error": "#b42318", "warning": "#b54708", "info": "#1d5fa8"}
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
# agreements: colours that read on white and differ from one another
LANE_COLOURS = [
    "#334e68",
    "#9c4221",
    "#2f855a",
    "#6b46c1",
    "#b7791f",
    "#2c7a7b",
    "#c53030",
    "#4a5568",
    "#805ad5",
    "#276749",
]
_TYPE_WORDS = {
    "gp_practice": "GP practice",
    "pct": "PCT",
    "nhs_trust": "NHS trust",
    "pbc_consortium": "PBC consortium",
}

WIDTH = 780
PAD = 8
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
CHAR = 6.9  # a generous average width of a 12px character, to fit names without metrics
CELL_W = 220
CELL_H = 40
R = 9  # a partner's circle
DOT = 5  # an other provider's circle
DOT_STEP = 18


def type_colours() -> dict[str, str]:
    """A fixed colour per organisation type."""
    return {t.value: _TAB20[i % len(_TAB20)] for i, t in enumerate(TYPES)}


def type_words(value: str) -> str:
    """`gp_practice` -> `GP practice`."""
    return _TYPE_WORDS.get(value, value.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Marker:
    """Findings about one organisation, agreement or area: shown on the drawing."""

    count: int
    severity: str  # the worst
    anchor: str  # the page id of the first of them
    summary: str  # "2 errors, 1 warning"


@dataclass(frozen=True)
class AgreementKey:
    number: int
    id: str
    type: str
    parties: int
    colour: str
    marker: Marker | None = None
