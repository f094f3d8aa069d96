"""Caps on what one input may cost, so a hostile or broken file is refused before the work.

Every file icorules reads comes from someone else (a bid, a market extract, a ruleset a policy
team edited), so each stage has a budget, checked before the expensive step it protects:

    input_bytes        bytes read from one file (checked before reading it)
    depth              nesting levels of one JSON/YAML document (before building it)
    values             values in one document, counting what YAML aliases repeat
    organisations      organisations in one proposal (before validating them)
    agreements         agreements in one proposal (before validating them)
    board_members      members of one proposal's board (before validating them)
    parties            parties to one agreement or governance arrangement (before validating)
    expression_length  characters in one rule condition (before parsing it)
    expression_depth   nesting of one condition's syntax tree (before compiling it)
    rules              rules loaded together in one run (before compiling them)
    matches            matches the rules could make on one proposal: for each rule, the facts
                       of its kind, once more for each part of an `or` that can hold at the
                       same time (before the engine runs)
    join_product       combinations of facts that rules with `given` join on one proposal:
                       for each such rule, the product of the facts each pattern can match
                       (before the engine runs)
    report_chars       characters in one proposal's findings' messages and fixes, counted
                       while they are filled in (each is also cut at 2,000)

The defaults are far above any real bid or ruleset. Raise one with `Limits(name=N)` in Python
or `--limit name=N` on the command line; `depth`, `expression_depth` and `rules` have ceilings
that protect the process itself (recursion, and the time to register rules with durable_rules),
so they cannot be raised past those. What durable_rules can hold within one condition is not a
setting: a rule past it is refused when its ruleset loads (icorules.engines.durable).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass

from icorules.errors import did_you_mean

# Past these the process itself is at risk, whatever the user asks for.
CEILINGS = {"depth": 500, "expression_depth": 100, "rules": 5_000}
CEILING_REASONS = {
    "depth": "deeper documents exhaust the parser's stack",
    "expression_depth": "deeper conditions exhaust the compiler's stack",
    "rules": "more take too long to load and register with the engine",
}


@dataclass(frozen=True)
class Limits:
    """The caps one check (or one load) works within; see the module docstring."""

    input_bytes: int = 10 * 1024 * 1024
    depth: int = 64
    values: int = 1_000_000
    organisations: int = 1_000
    # What else one proposal may list: each grows the graph, the facts and the engine's work.
    agreements: int = 5_000
    board_members: int = 1_000
    parties: int = 1_000  # of one agreement or arrangement; at most every organisation
    expression_length: int = 2_000
    expression_depth: int = 32
    rules: int = 5_000
    matches: int = 250_000
    join_product: int = 250_000
    report_chars: int = 20_000_000

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"limit {f.name} must be a whole number of at least 1")
            ceiling = CEILINGS.get(f.name)
            if ceiling is not None and value > ceiling:
                raise ValueError(
                    f"limit {f.name} can be at most {ceiling:,} ({CEILING_REASONS[f.name]})"
                )

    def exceeded(self, name: str, what: str) -> str:
        """The message for a limit that was passed: what was found, the cap, how to raise it."""
        value = getattr(self, name)
        hint = (
            "which is as high as it goes"
            if value == CEILINGS.get(name)
            else f"raise it with --limit {name}=N"
        )
        return f"{what}; the {name} limit is {value:,} ({hint})"


DEFAULT_LIMITS = Limits()

NAMES = tuple(f.name for f in dataclasses.fields(Limits))

_SUFFIX = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_limits(items: Iterable[str], base: Limits = DEFAULT_LIMITS) -> Limits:
    """`['input_bytes=50M', 'organisations=5000']` -> Limits; raises ValueError saying why.

    A number may use _ or , between digits, and input_bytes may end in K, M or G (binary).
    """
    changes: dict[str, int] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"'{item}' should look like NAME=VALUE, e.g. input_bytes=50M")
        if name not in NAMES:
            raise ValueError(
                f"unknown limit '{name}'{did_you_mean(name, NAMES)}; limits: {', '.join(NAMES)}"
            )
        found = re.fullmatch(r"\s*(\d[\d_,]*)\s*([kKmMgG]?)\s*", raw)
        if found is None or (found.group(2) and name != "input_bytes"):
            raise ValueError(f"{name}: expected a whole number, got {raw!r}")
        changes[name] = (
            int(found.group(1).replace("_", "").replace(",", "")) * _SUFFIX[found.group(2).lower()]
        )
    try:
        return dataclasses.replace(base, **changes)
    except ValueError as exc:
        raise ValueError(str(exc).removeprefix("limit ")) from None
