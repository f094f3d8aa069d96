"""Ids declared once in a list and referred to elsewhere: one check for both, in every format.

A proposal declares organisations and PCT areas and refers to them from a dozen places; a
market file declares PCT areas and providers; a waiver file refers to rules. Each is checked
the same way, with the same words:

    organisations[3].id: organisation id 'GP1' is listed twice (first at organisations[1])
    agreements[0].parties[2]: unknown organisation id 'GP3' (did you mean 'GP2'?)

The checks read the parsed data as it is, not a validated model, so that they can run beside
schema validation and a bid's problems are all reported in one round: a list's ids are known
(`Namespace.complete`) when every item of it has an id of the right form, even if other fields
of the item are wrong; a reference is checked only when it is itself of the right form (if it is
not, validation says so) and the list it refers to is known.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from icorules.inputs.documents import Loc, json_path

LocatedMessage = tuple[Loc, str]

# Suggestions cost a comparison with every id: offer them for the first few unknown ids only.
SUGGESTIONS = 20
# With no suggestion, list what is declared when it is short enough to read.
DECLARED_SHOWN = 12

UNKNOWN = "unknown {noun} '{ref}'"
NOT_DECLARED = "{noun} '{ref}' is not declared in {where}"  # for codes a list must declare


def suggest(word: object, choices: Iterable[object]) -> str:
    """A ' (did you mean 'x'?)' suffix for the choice closest to `word`, ignoring case, or ''.

    `lead: riv-gp1` suggests 'RIV-GP1' and `profession: GP` suggests 'gp'.
    """
    text = str(word)
    lowered: dict[str, str] = {}
    for choice in choices:
        option = str(choice)
        if option != text:
            lowered.setdefault(option.lower(), option)
    if text.lower() in lowered:
        return f" (did you mean '{lowered[text.lower()]}'?)"
    close = difflib.get_close_matches(text.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean '{lowered[close[0]]}'?)" if close else ""


@dataclass
class Namespace:
    """The ids declared in one list, where each was first declared, and whether the list is
    known in full (every item had an id of the right form)."""

    noun: str  # "organisation id", "PCT area", "provider id"
    where: str = ""  # the list, as a path: "organisations"
    first: dict[str, Loc] = field(default_factory=dict)
    complete: bool = True
    unknown_phrase: str = UNKNOWN
    suggestions_left: int = SUGGESTIONS

    def __contains__(self, value: object) -> bool:
        return value in self.first

    def unknown(self, ref: str) -> str | None:
        """The message for a reference to an id this namespace lacks, or None if it is known
        (or if the list is not known in full, so that nothing can be said)."""
        if ref in self.first or not self.complete:
            return None
        said = self.unknown_phrase.format(noun=self.noun, ref=ref, where=self.where)
        return said + self._hint(ref)

    def _hint(self, ref: str) -> str:
        if self.suggestions_left <= 0:
            return ""
        self.suggestions_left -= 1
        hint = suggest(ref, self.first)
        if hint or len(self.first) > DECLARED_SHOWN or not self.first:
            return hint
        return f" (declared: {', '.join(sorted(self.first))})"


def declared(
    items: Any,
    list_loc: Loc,
    key: str,
    noun: str,
    well_formed: Callable[[Any], bool],
    *,
    required: bool = False,
    unknown_phrase: str = UNKNOWN,
) -> tuple[Namespace, list[LocatedMessage]]:
    """The ids of a list of mappings (`items`, at `list_loc`) under `key`, and a problem for each
    id listed again. The namespace is complete when every item is a mapping with a well-formed
    id, and `items` is a list (or absent, unless the format `required` at least one item)."""
    namespace = Namespace(noun, json_path(list_loc), unknown_phrase=unknown_phrase)
    problems: list[LocatedMessage] = []
    if items is None or items == []:
        namespace.complete = not required
        return namespace, problems
    if not isinstance(items, list):
        namespace.complete = False
        return namespace, problems
    for index, item in enumerate(items):
        value: Any = item.get(key) if isinstance(item, dict) else None
        if not well_formed(value):
            namespace.complete = False
            continue
        loc: Loc = (*list_loc, index, key)
        if value in namespace.first:
            problems.append((loc, listed_twice(noun, value, namespace.first[value][:-1])))
        else:
            namespace.first[value] = loc
    return namespace, problems


def listed_twice(noun: str, value: str, first: Loc | str) -> str:
    """The one wording of a repeated id: `first` is where it first appears (a path or a text)."""
    where = first if isinstance(first, str) else json_path(first)
    return f"{noun} '{value}' is listed twice (first at {where})"


def check_references(
    namespace: Namespace,
    references: Iterable[tuple[Loc, Any]],
    well_formed: Callable[[Any], bool],
) -> Iterator[LocatedMessage]:
    """A problem for each well-formed reference the namespace does not declare."""
    if not namespace.complete:
        return
    declared_ids = namespace.first
    for loc, ref in references:
        # Most references name a declared id, which is well formed: one lookup says so.
        if isinstance(ref, str) and ref in declared_ids:
            continue
        if well_formed(ref):
            message = namespace.unknown(ref)
            if message is not None:
                yield loc, message


def items_of(data: Any, *path: str | int) -> Iterator[tuple[int, dict[str, Any]]]:
    """(index, mapping) for each mapping in the list at `path` in `data` (nothing if absent or
    not a list: validation reports that)."""
    value = value_at(data, *path)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def value_at(data: Any, *path: str | int) -> Any:
    """`data[path[0]][path[1]]...`, or None where a step is missing or of the wrong kind (a key
    into a mapping, an index into a list)."""
    for step in path:
        if isinstance(step, int) and isinstance(data, list):
            data = data[step] if -len(data) <= step < len(data) else None
        elif isinstance(step, str) and isinstance(data, dict):
            data = data.get(step)
        else:
            return None
    return data


def list_at(data: Any, loc: Loc, prefix: Loc = ()) -> Iterator[tuple[Loc, Any]]:
    """(location, item) for each item of the list at `loc` (a path of keys) in `data`, which
    sits at `prefix` in the document."""
    value = value_at(data, *loc)
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, *loc, index), item
