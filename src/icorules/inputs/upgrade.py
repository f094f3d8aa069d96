"""`icorules upgrade`: a format-1 proposal or market file rewritten as format 2, in place.

Format 2 says everything format 1 says, so the upgrade is lossless and needs no guessing:

| format 1 | format 2 |
|---|---|
| `format: icorules/proposal/1`, or no `format` | `format: icorules/proposal/2` |
| `pct_areas[].supports_bid: true` | `commissioner_support: supports` |
| `pct_areas[].supports_bid: false` | nothing (an area's commissioner is then `pending`) |
| a market file's `format: icorules/market/1`, or none | `format: icorules/market/2` |

Everything else stays as it is, byte for byte: the edits are spliced into the text
(icorules.output.editing), so comments, key order, quoting and indentation survive, and the
result is read back and compared with the data it must give before anything is written.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from icorules.errors import InputError
from icorules.inputs.documents import Document
from icorules.inputs.formats import FORMAT_1, FORMAT_2
from icorules.inputs.kinds import kind_of_document
from icorules.inputs.market import parse_market
from icorules.inputs.proposal import parse_proposal
from icorules.inputs.references import items_of
from icorules.output.editing import EditError, Remove, Rename, Rewrite, SetFirst, rewritten_text

MARKET_1 = "icorules/market/1"
MARKET_2 = "icorules/market/2"
_NEXT = {"proposal": (FORMAT_1, FORMAT_2), "market": (MARKET_1, MARKET_2)}


@dataclass(frozen=True)
class Upgrade:
    """What upgrading one file comes to."""

    name: str
    kind: str  # "proposal" or "market"
    before: str  # the format it is in
    text: str  # its text in format 2 (the same text when it is in format 2 already)
    original: str = ""  # its text as it was

    @property
    def needed(self) -> bool:
        return self.before != _NEXT[self.kind][1]


def upgrade(document: Document) -> Upgrade:
    """The document in format 2; raises InputError for a file that is not a proposal or market
    file, one in a format this icorules does not know, or one it cannot edit in place."""
    data = document.data
    kind = kind_of_document(data)
    if kind not in _NEXT or not isinstance(data, dict):
        raise InputError.single(document.name, "is not a proposal or market file")
    old, new = _NEXT[kind]
    # Only a file that loads is upgraded: then every value the edits touch is what it means.
    if kind == "proposal":
        parse_proposal(data, document, document.limits)
    else:
        parse_market(data, document)
    declared = data.get("format", old)
    if declared == new:
        return Upgrade(document.name, kind, new, document.text, document.text)
    edits, expected = _edits(data, kind, new)
    try:
        text = rewritten_text(document, edits, expected)
    except EditError as exc:
        raise InputError.single(document.name, f"cannot be upgraded in place: {exc}") from None
    return Upgrade(document.name, kind, old, text, document.text)


def _edits(data: dict[str, Any], kind: str, new: str) -> tuple[list[Rewrite], dict[str, Any]]:
    """The edits that bring `data` to format 2, and the data they must give."""
    expected = copy.deepcopy(data)
    expected["format"] = new
    edits: list[Rewrite] = [SetFirst(("format",), new)]
    if kind == "proposal":
        for i, area in items_of(data, "pct_areas"):
            if "supports_bid" not in area:
                continue
            loc = ("pct_areas", i, "supports_bid")
            changed = expected["pct_areas"][i]
            del changed["supports_bid"]
            if area["supports_bid"] is True:
                edits.append(Rename(loc, "commissioner_support", "supports"))
                changed["commissioner_support"] = "supports"
            else:
                edits.append(Remove(loc))
    return edits, expected
