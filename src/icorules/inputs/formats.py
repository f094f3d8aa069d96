"""Proposal format versions: what a file's `format` line says, and what each version may say.

Format 2 (`icorules/proposal/2`) added fields to format 1 (`icorules/proposal/1`, also a file
with no `format` line) and renamed one: `pct_areas[].supports_bid: true` became
`commissioner_support: supports`. A format-1 file still loads; it cannot use format 2's fields,
and `icorules upgrade` rewrites it (icorules.inputs.upgrade).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from icorules.inputs.documents import Loc
from icorules.inputs.references import LocatedMessage, items_of

FORMAT_1: Final = "icorules/proposal/1"
FORMAT_2: Final = "icorules/proposal/2"
UPGRADE = "run `icorules upgrade` on the file, or set format: icorules/proposal/2"
# The one line a check of a format-1 file adds to its report.
FORMAT_1_WARNING = (
    f"the proposal is in format 1 ({FORMAT_1}): `icorules upgrade FILE` brings it to format 2"
)

# Why a rule that needs format 2 was not evaluated for a format-1 proposal.
FORMAT_1_NEEDS = "it lacks fields the rule reads; `icorules upgrade FILE` brings it to format 2"

BUDGET: Final = ("governance", "budget")
RISK: Final = (*BUDGET, "risk_sharing")
WRITTEN: Final = ("dispute_resolution", "conflict_of_interest", "information_sharing")


# What format 2 added, by where it is: a path with "*" for every item of a list.
_NEW_FIELDS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    ((), ("stakeholders", "description")),
    (("organisations", "*"), ("part_of", "ods_code")),
    (("agreements", "*"), ("status", "sign_by")),
    (("choice_safeguards", "*"), ("specialty",)),
    (("pct_areas", "*"), ("commissioner_support", "practice_count", "practice_count_source")),
    (BUDGET, ("amount", "holder", "contributions")),
    (RISK, ("shares", "basis", "status", "sign_by", "agreement")),
    *(((("governance", name), ("status", "sign_by", "agreement"))) for name in WRITTEN),
    (("governance", "evaluation"), ("status", "sign_by", "agreement")),
)
_SERVICE_LISTS = (
    ("organisations", "*", "provides"),
    ("organisations", "*", "commissions"),
    ("agreements", "*", "services"),
)


_SAYS_NOTHING: tuple[Any, ...] = (None, [], {})  # a format-2 field left empty says nothing


def format_version(data: Mapping[str, Any]) -> int:
    """1 or 2: what the file's `format` line says (none is format 1)."""
    return 2 if data.get("format") == FORMAT_2 else 1


def format_problems(data: Any) -> list[LocatedMessage]:
    """What the file's format version cannot say: format 2's fields in a format-1 file, and
    format 1's `supports_bid` in a format-2 file."""
    if not isinstance(data, dict):
        return []
    if format_version(data) == 2:
        return [
            (
                ("pct_areas", i, "supports_bid"),
                "'supports_bid' is format 1's: format 2 says commissioner_support: supports",
            )
            for i, area in items_of(data, "pct_areas")
            if area.get("supports_bid") is True  # false says nothing format 2 cannot
        ]
    return [] if says_nothing_new(data) else format_1_problems(data)


def format_1_problems(data: dict[str, Any]) -> list[LocatedMessage]:
    """What a format-1 file says that only format 2 may: each of format 2's fields, service
    objects and section 75 agreements, at its location."""
    problems = [
        ((*loc, name), f"'{name}' is new in format 2, but the file is in format 1: {UPGRADE}")
        for base, names in _NEW_FIELDS
        for loc, item in _places(data, base)
        for name in names
        if isinstance(item, dict) and item.get(name) not in _SAYS_NOTHING
    ]
    for base in _SERVICE_LISTS:
        for loc, item in _places(data, base):
            for j, entry in enumerate(item if isinstance(item, list) else []):
                if isinstance(entry, dict):
                    message = f"a service with a specialty or size is new in format 2: {UPGRADE}"
                    problems.append(((*loc, j), message))
    for i, agreement in items_of(data, "agreements"):
        if agreement.get("type") == "section_75":
            message = f"the section_75 agreement type is new in format 2: {UPGRADE}"
            problems.append((("agreements", i, "type"), message))
    return problems


# The quick pass's view of _NEW_FIELDS: the names as a set.
_ADDED = tuple((base, frozenset(names)) for base, names in _NEW_FIELDS)
_LINES_ONLY = {str}


def says_nothing_new(data: dict[str, Any]) -> bool:
    """True only if a format-1 file says nothing format 2 added: none of its fields is there
    (even empty), every service is a line (text) and no agreement is a section 75. format_1_problems
    pairs each value with its location, ~60 us of a format-1 bid; this asks the
    same of the values alone (~8 us), and the walk (format_1_problems) runs only when this
    cannot vouch."""
    for base, names in _ADDED:
        if any(isinstance(item, dict) and not names.isdisjoint(item) for item in _at(data, base)):
            return False
    services = [
        entry
        for base in _SERVICE_LISTS
        for found in _at(data, base)
        if isinstance(found, list)
        for entry in found
    ]
    if not {*map(type, services)} <= _LINES_ONLY:
        return False
    return all(item.get("type") != "section_75" for _, item in items_of(data, "agreements"))


def _at(data: Any, path: tuple[str, ...]) -> list[Any]:
    """The values `_places` finds at `path`, without their locations."""
    found = [data]
    for step in path:
        if step == "*":
            found = [item for value in found if isinstance(value, list) for item in value]
        else:
            found = [value[step] for value in found if isinstance(value, dict) and step in value]
    return found


def _places(data: Any, path: tuple[str, ...]) -> Iterator[tuple[Loc, Any]]:
    """(location, value) of everything at `path`, "*" standing for each item of a list."""
    found: list[tuple[Loc, Any]] = [((), data)]
    for step in path:
        following: list[tuple[Loc, Any]] = []
        for loc, value in found:
            if step == "*" and isinstance(value, list):
                following += [((*loc, i), item) for i, item in enumerate(value)]
            elif isinstance(value, dict) and step in value:
                following.append(((*loc, step), value[step]))
        found = following
    yield from found
