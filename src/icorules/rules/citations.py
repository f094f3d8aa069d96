"""A ruleset's bibliography, and each rule's citation as one readable text.

A ruleset declares the documents its rules rest on under `references:` (a key for each), and a
rule cites them by key (`cite: [{ref: crump-2009, quote: "..."}]`). Reports, `rules show`,
`rules docs` and every output format give the citation in full, so a reader can find the
document without any file of ours:

    Helen Crump, untitled feature beginning "A speedy selection process ..." (outlet not
    stated, 2009): "how do we get choice within these organisations?"

Keys are checked when the ruleset loads: one that names no reference is an error, located at
the citation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from icorules.errors import did_you_mean
from icorules.rules.spec import CitationSpec, ReferenceSpec

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Kinds of document that have an outlet: one that does not state it says so.
_PRESS = ("news report", "feature", "article", "letter", "editorial", "interview")


def shown_date(date: str) -> str:
    """2009 -> 2009; 2008-11 -> November 2008; 2009-04-01 -> 1 April 2009."""
    parts = date.split("-")
    if len(parts) == 1:
        return date
    month = _MONTHS[int(parts[1]) - 1] if 1 <= int(parts[1]) <= 12 else parts[1]
    if len(parts) == 2:
        return f"{month} {parts[0]}"
    return f"{int(parts[2])} {month} {parts[0]}"


@dataclass(frozen=True)
class Reference:
    """One document of a ruleset's bibliography."""

    key: str
    kind: str
    date: str
    author: str | None = None
    title: str | None = None
    opening: str | None = None
    outlet: str | None = None
    publisher: str | None = None
    number: str | None = None
    url: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, key: str, spec: ReferenceSpec) -> Reference:
        return cls(key=key, **spec.model_dump())

    @property
    def year(self) -> str:
        return self.date[:4]

    @property
    def headline(self) -> str:
        """The title in quotes, or for an untitled document the words it begins with."""
        if self.title is not None:
            return f'"{self.title}"'
        return f'untitled {self.kind} beginning "{self.opening} …"'

    @property
    def text(self) -> str:
        """The full citation: author, title, what and where, date, address."""
        where: list[str] = []
        if self.title is not None:
            where.append(self.kind)
        if self.number:
            where.append(self.number)
        outlet = self.outlet or self.publisher
        if outlet:
            where.append(outlet)
        elif self.kind in _PRESS:
            where.append("outlet not stated")
        where.append(shown_date(self.date))
        if self.url:
            where.append(self.url)
        head = f"{self.author}, {self.headline}" if self.author else self.headline
        return f"{head} ({', '.join(where)})"

    @property
    def short(self) -> str:
        """Author (or title) and year, for "reporting ..."."""
        title = f'"{self.title}"' if self.title else self.headline
        return f"{self.author}, {title} ({self.year})" if self.author else f"{title} ({self.year})"


@dataclass(frozen=True)
class Citation:
    """One item of a rule's `cite`: a quote, a point, or the ruleset's own note."""

    ref: str | None = None
    quote: str | None = None
    point: str | None = None
    says: str | None = None
    reports: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, spec: CitationSpec) -> Citation:
        return cls(**spec.model_dump())

    def words(self, references: Mapping[str, Reference]) -> str:
        """What is cited of the reference: the quote, or the point and what it says."""
        if self.quote is not None:
            out = f'{self.point}: "{self.quote}"' if self.point else f'"{self.quote}"'
            if self.reports is not None and self.reports in references:
                out += f" (reporting {references[self.reports].short})"
            return out
        return ": ".join(part for part in (self.point, self.says) if part)


NOTE_HEAD = "The ruleset's own statement (no public source is cited)"


def citation_text(cites: Sequence[Citation], references: Mapping[str, Reference]) -> str:
    """A rule's citations as one text: each reference in full once, then what is cited of it,
    references in the order they are first cited, separated by " — "."""
    groups: dict[str, list[str]] = {}
    for cite in cites:
        if cite.ref is None:
            groups.setdefault(NOTE_HEAD, []).append(cite.note or "")
        elif cite.ref in references:
            groups.setdefault(references[cite.ref].text, []).append(cite.words(references))
    return " — ".join(f"{head}: {'; '.join(items)}" for head, items in groups.items())


def unknown_keys(
    cites: Sequence[CitationSpec], references: Mapping[str, object]
) -> list[tuple[tuple[int, str], str]]:
    """((index in cite, 'ref' or 'reports'), message) for every key that names no reference."""
    found: list[tuple[tuple[int, str], str]] = []
    for index, cite in enumerate(cites):
        for field in ("ref", "reports"):
            key = getattr(cite, field)
            if key is not None and key not in references:
                found.append(((index, field), unknown_reference(key, references)))
    return found


def unknown_reference(key: str, references: Mapping[str, object]) -> str:
    declared = f" (declared: {', '.join(sorted(references))})" if references else ""
    hint = did_you_mean(key, references) or declared
    return f"unknown reference '{key}'{hint}; declare it under the ruleset's 'references:'"


def rule_source(
    cites: Sequence[CitationSpec] | None,
    source: str | None,
    references: Mapping[str, Reference],
) -> tuple[tuple[Citation, ...], str]:
    """The rule's citations and the text a finding gives as its `source`: the citations in
    full, then any `source` text."""
    items = tuple(Citation.of(c) for c in cites or ())
    parts = [citation_text(items, references)] if items else []
    if source:
        parts.append(" ".join(source.split()))
    return items, " — ".join(p for p in parts if p)


# -- for lint: the raw ruleset data, before (or without) loading it -------------------------


def references_of(raw: Any) -> dict[str, Reference]:
    """The references of a ruleset file that validate (the others are reported as RL012)."""
    found: dict[str, Reference] = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            with contextlib.suppress(ValidationError):
                found[str(key)] = Reference.of(str(key), ReferenceSpec.model_validate(value))
    return found


def keys_cited(raw: Mapping[str, Any]) -> set[str]:
    cites = raw.get("cite")
    if not isinstance(cites, list):
        return set()
    return {
        str(cite[field])
        for cite in cites
        if isinstance(cite, dict)
        for field in ("ref", "reports")
        if cite.get(field) is not None
    }


def uncited(raw: Mapping[str, Any], who: str) -> tuple[str | None, str] | None:
    """(where, message) when a rule (raw data) cites no reference: at its `source` when it has
    only that text, at the rule (None) when it has nothing; None when it cites."""
    cite, source = raw.get("cite"), raw.get("source")
    if isinstance(cite, list) and cite:
        return None
    if isinstance(source, str) and source.strip():
        return "source", (
            f"{who} cites no reference, only a 'source' text: declare the document under "
            "'references:' and cite it ('cite: [{ref: KEY, quote: ...}]')"
        )
    return None, f"{who} has no citation ('cite': the documents it rests on, with a quote)"
