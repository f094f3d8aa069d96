"""Paths into a document, and the form users see them in: `organisations[2].type`."""

from __future__ import annotations

from collections.abc import Iterable

Loc = tuple[str | int, ...]


def json_path(loc: Iterable[str | int]) -> str:
    """`('organisations', 2, 'type')` -> `organisations[2].type` (the form users see)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"
