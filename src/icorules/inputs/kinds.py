"""What kind of icorules file a document is, so the wrong kind gets one line, not twenty.

A market file given as a proposal would otherwise be validated as a proposal: a "did you mean"
for every field it has and a "missing" for every field it lacks. `kind_of_document` recognises
each kind by its top-level keys (or, failing that, by the `format:` it declares), and each
loader calls `refuse_other_kind` before validating:

    examples/markets/cumbria.json:2:3: is a market file, not a proposal: give it with --market
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from icorules.errors import InputError, Problem
from icorules.inputs.paths import Loc

if TYPE_CHECKING:
    from icorules.inputs.documents import Document


@dataclass(frozen=True)
class Kind:
    """One kind of file: what to call it, how to give it to icorules, and its telltale keys."""

    name: str  # "a market file"
    short: str  # "a market file"
    how: str  # "give it with --market"
    keys: frozenset[str]  # top-level keys only this kind has


KINDS: dict[str, Kind] = {
    "proposal": Kind(
        "a proposal",
        "a proposal",
        "check it as a proposal (icorules check FILE)",
        frozenset(
            {
                "organisations",
                "lead",
                "population_basis",
                "agreements",
                "governance",
                "choice_safeguards",
                "care_categories",
                "legal_vehicle",
                "implementation_date",
                "pathways",
            }
        ),
    ),
    "market": Kind(
        "a market file",
        "a market file",
        "give it with --market",
        frozenset({"providers"}),
    ),
    "waivers": Kind(
        "a waiver file", "a waiver file", "give it with --waivers", frozenset({"waivers"})
    ),
    "ruleset": Kind(
        "a ruleset",
        "a ruleset",
        "give it with --ruleset",
        frozenset({"ruleset", "rules", "parameters"}),
    ),
    "ruletests": Kind(
        "a ruleset test file",
        "a ruleset test file",
        "run it with icorules test",
        frozenset({"tests"}),
    ),
}

_FORMAT = re.compile(r"icorules/([a-z]+)/")


def kind_of_document(data: Any) -> str | None:
    """'proposal', 'market', 'waivers', 'ruleset' or 'ruletests' when `data` (parsed) is
    recognisably that kind of file, else None.

    The kind whose telltale top-level keys it has most of, if one has more than the others;
    else the kind its `format:` names (`icorules/market/1`). A document whose keys point one way
    and its format another is taken by its keys, so that a market file with a wrong format line
    is told about the format line.
    """
    if not isinstance(data, dict):
        return None
    scores = {kind: len(spec.keys.intersection(data)) for kind, spec in KINDS.items()}
    best = max(scores.values())
    leaders = [kind for kind, score in scores.items() if score == best]
    if best > 0 and len(leaders) == 1:
        return leaders[0]
    declared = data.get("format")
    found = _FORMAT.match(declared) if isinstance(declared, str) else None
    if found is not None and found.group(1) in KINDS:
        return found.group(1)
    return None


def other_kind(data: Any, expected: str) -> str | None:
    """The message for a document that is recognisably another kind of file than `expected`
    (a key of KINDS), or None."""
    found = kind_of_document(data)
    if found is None or found == expected:
        return None
    spec = KINDS[found]
    return f"is {spec.name}, not {KINDS[expected].short}: {spec.how}"


def refuse_other_kind(data: Any, expected: str, document: Document | None, name: str) -> None:
    """Raise one located line if `data` is recognisably another kind of file than `expected`:
    at its `format:` line when it has one, else at its start."""
    message = other_kind(data, expected)
    if message is not None:
        where: Loc = ("format",) if isinstance(data, dict) and "format" in data else ()
        if document is None:
            raise InputError.single(name, message)
        line, column = document.position(where)
        raise InputError([Problem(name, line, column, message)])
