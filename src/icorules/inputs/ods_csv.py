"""The CSV files of an ODS import: reading rows with their line numbers, and the three small
files with headers that supply what the ODS extracts lack (PCT areas and their populations,
practice list sizes, and the service lines, areas, types and sizes of trusts).

Every number is checked against the bounds the market format sets (icorules.inputs.codes), so
a population of 400 digits or a size of 1e308 is a located problem, not an overflow.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from icorules.errors import InputError, Problem
from icorules.inputs.codes import (
    MAX_LIST_SIZE,
    MAX_POPULATION,
    MAX_SIZE,
    SERVICE_LINES,
    OrgType,
    is_pct_code,
)
from icorules.inputs.market import SizeMeasure
from icorules.inputs.reading import read_text
from icorules.inputs.references import listed_twice, suggest

_SIZE_MEASURES: tuple[str, ...] = get_args(SizeMeasure)


def sample(codes: list[str], limit: int = 8) -> str:
    """The first few codes of a list, and how many more there are."""
    listed = ", ".join(codes[:limit])
    return listed + (f" and {len(codes) - limit} more" if len(codes) > limit else "")


@dataclass
class Row:
    line: int
    fields: list[str]


@dataclass
class Org:
    """An organisation as the extracts and the side files describe it, before validation."""

    code: str
    name: str
    type: OrgType
    pct: str | None
    services: list[str]
    size: float | None = None
    size_measure: str | None = None
    file: str = ""
    line: int = 0


class Problems:
    """Collects every problem in a run so the user can fix them all at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, file: str, line: int | None, message: str) -> None:
        self.items.append(Problem(file, line, None, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)


def csv_rows(path: Path) -> tuple[str, Iterator[Row]]:
    """Non-blank CSV records of a file, each with the line it starts on (stripped fields)."""
    name = str(path)
    text = read_text(path, name)
    if not text.strip():
        raise InputError.single(name, "the file is empty")

    def records() -> Iterator[Row]:
        reader = csv.reader(io.StringIO(text, newline=""))
        while True:
            line = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError.single(name, f"not valid CSV: {exc}", line) from None
            if any(f.strip() for f in fields):
                yield Row(line, [f.strip() for f in fields])

    return name, records()


def header(name: str, rows: Iterator[Row], required: tuple[str, ...]) -> dict[str, int]:
    """Column positions by lower-case header name; the required ones must be present."""
    first = next(rows, None)
    if first is None:
        raise InputError.single(name, "the file is empty")
    columns = {f.lower(): i for i, f in enumerate(first.fields)}
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputError.single(
            name,
            f"the header needs the column(s) {', '.join(missing)}"
            f" (found: {', '.join(first.fields)})",
            first.line,
        )
    return columns


def field(row: Row, column: int | None) -> str:
    return row.fields[column] if column is not None and column < len(row.fields) else ""


def read_pct_areas(path: Path, problems: Problems) -> dict[str, dict[str, Any]]:
    name, rows = csv_rows(path)
    columns = header(name, rows, ("code", "name", "population"))
    reject_unknown_columns(name, columns, ("code", "name", "population", "adjacent"))
    areas: dict[str, dict[str, Any]] = {}
    adjacency: list[tuple[int, str, str]] = []
    for row in rows:
        code = field(row, columns["code"])
        label = field(row, columns["name"])
        if not is_pct_code(code):
            problems.add(
                name, row.line, f"'{code}' is not a PCT code (3 to 5 capital letters or digits)"
            )
            continue
        if code in areas:
            problems.add(
                name,
                row.line,
                listed_twice("PCT area", code, f"line {areas[code]['line']}"),
            )
            continue
        if not label:
            problems.add(name, row.line, f"PCT area '{code}' has no name")
        written = field(row, columns["population"])
        population = number(written, least=1, most=MAX_POPULATION, integer=True)
        if population is None:
            problems.add(
                name,
                row.line,
                f"PCT area '{code}': population '{shown(written)}' is not a whole number from 1"
                f" to {MAX_POPULATION:,}",
            )
            population = 0
        population = int(population)
        adjacent = [a.strip() for a in field(row, columns.get("adjacent")).split(";") if a.strip()]
        adjacency.extend((row.line, code, other) for other in adjacent)
        areas[code] = {"name": label, "population": population, "adj": adjacent, "line": row.line}
    for line, code, other in adjacency:
        if other == code:
            problems.add(name, line, f"PCT area '{code}' is listed as adjacent to itself")
        elif other not in areas:
            problems.add(
                name,
                line,
                f"PCT area '{code}' is adjacent to unknown PCT area '{other}'"
                f"{suggest(other, areas)}",
            )
    if not areas and not problems.items:
        raise InputError.single(name, "no PCT areas are listed")
    return areas


def reject_unknown_columns(name: str, columns: dict[str, int], known: tuple[str, ...]) -> None:
    """Hand-written files: an unknown column is most likely a typo, and the rows cannot be read."""
    unknown = [
        Problem(
            name,
            1,
            None,
            f"unknown column '{column}'{suggest(column, known)} (allowed: {', '.join(known)})",
        )
        for column in columns
        if column not in known
    ]
    if unknown:
        raise InputError(unknown)


def number(text: str, *, least: int, most: int, integer: bool = False) -> float | None:
    """A number as analysts write it ('6,512' included) from `least` to `most`; None if it is
    not one, or out of that range (compared before any conversion that could overflow)."""
    cleaned = text.replace(",", "").replace("_", "")
    try:
        value: float = int(cleaned) if integer else float(cleaned)
    except ValueError:  # not a number, or an integer of more than 4,300 digits
        return None
    if not least <= value <= most:  # false for NaN too; infinity is out of range
        return None
    return float(value)


def shown(text: str) -> str:
    """A value from a CSV file as a message quotes it: long ones cut short."""
    return text if len(text) <= 40 else f"{text[:20]}...{text[-8:]} ({len(text):,} characters)"


def read_list_sizes(
    path: Path, orgs: dict[str, Org], problems: Problems, warnings: list[str]
) -> None:
    name, rows = csv_rows(path)
    first = next(rows, None)
    if first is None:
        raise InputError.single(name, "the file is empty")
    columns = {f.upper(): i for i, f in enumerate(first.fields)}
    code_col = columns.get("PRACTICE_CODE", columns.get("CODE"))
    size_col = columns.get("NUMBER_OF_PATIENTS")
    if code_col is None or size_col is None:
        problems.add(
            name,
            first.line,
            "the header needs PRACTICE_CODE (or CODE) and NUMBER_OF_PATIENTS"
            f" (found: {', '.join(first.fields)})",
        )
        return
    filters = {c: columns[c] for c in ("SEX", "AGE") if c in columns}
    type_col = columns.get("TYPE", columns.get("ORG_TYPE"))
    seen: dict[str, int] = {}
    for row in rows:
        if any(field(row, i).upper() != "ALL" for i in filters.values()):
            continue
        if type_col is not None and field(row, type_col).upper() not in ("GP", ""):
            continue
        code = field(row, code_col)
        raw = field(row, size_col)
        if len(row.fields) != len(first.fields):
            problems.add(
                name,
                row.line,
                f"'{code}': the row has {len(row.fields)} field(s) but the header has"
                f" {len(first.fields)}",
            )
            continue
        if code in seen:
            problems.add(name, row.line, listed_twice("practice", code, f"line {seen[code]}"))
            continue
        seen[code] = row.line
        size = number(raw, least=0, most=MAX_LIST_SIZE, integer=True)
        if size is None:
            problems.add(
                name,
                row.line,
                f"practice '{code}': NUMBER_OF_PATIENTS '{shown(raw)}' is not a whole number"
                f" from 0 to {MAX_LIST_SIZE:,}",
            )
            continue
        org = orgs.get(code)
        if org is not None and org.type is OrgType.gp_practice:
            org.size, org.size_measure = size, "list_size"
    missing = sorted(
        c
        for c, o in orgs.items()
        if o.pct is not None and o.type is OrgType.gp_practice and o.size is None
    )
    if missing and not problems.items:
        warnings.append(f"{name}: no list size for {len(missing)} practice(s): {sample(missing)}")


SERVICES_COLUMNS = ("code", "services", "pct", "type", "size", "size_measure")


@dataclass(frozen=True)
class ServicesRow:
    """One row of the services file, every column as written ("" when absent)."""

    code: str
    services: str
    pct: str
    type: str
    size: str
    size_measure: str

    @classmethod
    def of(cls, row: Row, columns: dict[str, int]) -> ServicesRow:
        return cls(*(field(row, columns.get(c)) for c in SERVICES_COLUMNS))


def read_services(
    path: Path,
    areas: dict[str, dict[str, Any]],
    orgs: dict[str, Org],
    trusts: dict[str, Org],
    problems: Problems,
    warnings: list[str],
) -> None:
    """Service lines for practices and trusts; a trust's PCT area, type and size."""
    name, rows = csv_rows(path)
    columns = header(name, rows, ("code", "services"))
    reject_unknown_columns(name, columns, SERVICES_COLUMNS)
    seen: dict[str, int] = {}
    for row in rows:
        entry = ServicesRow.of(row, columns)
        code = entry.code
        if code in seen:
            first = f"line {seen[code]}"
            problems.add(name, row.line, listed_twice("organisation code", code, first))
            continue
        seen[code] = row.line
        org, ignored = _services_org(code, orgs, trusts)
        if org is None:
            warnings.append(f"{name}:{row.line}: {ignored}; the row is ignored")
            continue
        lines = service_lines(name, row, code, entry.services, problems)
        if _is_open_practice(org):
            wrong = _apply_to_practice(org, entry, lines)
        else:
            wrong = _apply_to_trust(org, entry, lines, areas)
        for message in wrong:
            problems.add(name, row.line, message)


def _is_open_practice(org: Org) -> bool:
    """A GP practice the import keeps (it has a PCT area: its commissioner)."""
    return org.type is OrgType.gp_practice and org.pct is not None


def _services_org(
    code: str, orgs: dict[str, Org], trusts: dict[str, Org]
) -> tuple[Org | None, str]:
    """The organisation a services row is for, or None and why the row is ignored."""
    org = orgs.get(code)
    if org is None:
        return None, f"'{code}' is not in the extracts{suggest(code, orgs)}"
    if not (_is_open_practice(org) or code in trusts):
        return None, f"'{code}' is closed or was skipped in {org.file}"
    return org, ""


def _apply_to_practice(org: Org, entry: ServicesRow, lines: list[str]) -> list[str]:
    """Add a practice's service lines; what else the row gives is wrong for a practice."""
    org.services += [s for s in lines if s not in org.services]
    wrong = []
    if entry.pct and entry.pct != org.pct:
        wrong.append(
            f"practice '{entry.code}': pct is {entry.pct} here but its commissioner in the"
            f" epraccur extract is {org.pct}"
        )
    if entry.type or entry.size or entry.size_measure:
        wrong.append(
            f"practice '{entry.code}': give only code and services for a practice"
            " (its type is gp_practice and its size comes from the list-size file)"
        )
    return wrong


def _apply_to_trust(
    org: Org, entry: ServicesRow, lines: list[str], areas: dict[str, dict[str, Any]]
) -> list[str]:
    """Set a trust's service lines, PCT area, type and size from its row; what is wrong."""
    org.services = lines
    found = [_trust_area(org, entry, areas), _trust_type(org, entry), _trust_size(org, entry)]
    return [message for message in found if message]


def _trust_area(org: Org, entry: ServicesRow, areas: dict[str, dict[str, Any]]) -> str | None:
    """Place the trust in its PCT area (required: ODS does not say), or say why not."""
    if not entry.pct:
        return f"trust '{entry.code}': say which PCT area it sits in (column pct)"
    if entry.pct not in areas:
        return (
            f"trust '{entry.code}': PCT area '{entry.pct}' is not in the PCT-areas file"
            f"{suggest(entry.pct, areas)}"
        )
    org.pct = entry.pct
    return None


def _trust_type(org: Org, entry: ServicesRow) -> str | None:
    """Override the type guessed from the trust's name, if the row gives a known one."""
    kind = entry.type
    if not kind:
        return None
    if kind not in OrgType.__members__:
        return (
            f"'{entry.code}': '{kind}' is not an organisation type"
            f"{suggest(kind, OrgType.__members__)}"
        )
    org.type = OrgType(kind)
    return None


def _trust_size(org: Org, entry: ServicesRow) -> str | None:
    """The trust's size and what it measures (both or neither), which weight market shares."""
    measure = entry.size_measure
    if not entry.size:
        return f"'{entry.code}': size_measure is given but size is not" if measure else None
    size = number(entry.size, least=0, most=MAX_SIZE)
    if size is None:
        return f"'{entry.code}': size '{shown(entry.size)}' is not a number from 0 to {MAX_SIZE:,}"
    if measure not in _SIZE_MEASURES:
        return (
            f"'{entry.code}': say what size counts in size_measure"
            f" ({', '.join(_SIZE_MEASURES)}){suggest(measure, _SIZE_MEASURES)}"
        )
    org.size, org.size_measure = size, measure
    return None


def service_lines(name: str, row: Row, code: str, text: str, problems: Problems) -> list[str]:
    lines: list[str] = []
    for item in (s.strip() for s in text.split(";")):
        if not item:
            continue
        if item not in SERVICE_LINES:
            problems.add(
                name,
                row.line,
                f"'{code}': unknown service line '{item}'{suggest(item, SERVICE_LINES)}",
            )
        elif item not in lines:
            lines.append(item)
    return lines
