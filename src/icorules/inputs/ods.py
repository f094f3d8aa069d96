"""Build a market file from NHS Organisation Data Service (ODS) CSV extracts.

Analysts download `epraccur` (GP practices) and `etr` (NHS trusts) as published: no header row,
one organisation a row. Those extracts carry no list sizes, populations or service lines, so
three small files with headers supply the rest:

* list sizes: NHS Digital's "Patients registered at a GP practice" CSV (`PRACTICE_CODE` or
  `CODE`, and `NUMBER_OF_PATIENTS`; other columns are ignored, and where `SEX`/`AGE` columns
  exist only the `ALL` rows count);
* PCT areas: `code,name,population[,adjacent]` (`adjacent` is `;`-separated codes);
* services: `code,services[,pct,type,size,size_measure]` (`services` is `;`-separated). This is
  where a trust gets its service lines, the PCT area it sits in (`pct`, required for trusts:
  ODS does not say) and its type (else guessed from the name). A row for a practice adds
  service lines to `general_practice`, which every practice has.

Every problem names the file, the line and the organisation; nothing raises a traceback.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError

from icorules.errors import InputError, Problem
from icorules.inputs.codes import SERVICE_LINES, OrgType, is_org_id, is_pct_code
from icorules.inputs.market import FORMAT, Market, SizeMeasure, market_warnings
from icorules.inputs.reading import read_text
from icorules.inputs.references import listed_twice, suggest
from icorules.inputs.validation import pydantic_problems

# Column positions (0-based) in the ODS "standard" layout shared by epraccur and etr (27 fields).
ODS_FIELDS = 27
CODE, NAME, CLOSE_DATE, STATUS, COMMISSIONER, PRESCRIBING_SETTING = 0, 1, 11, 12, 14, 25
GP_PRACTICE_SETTING = "4"
EPRACCUR_MIN_FIELDS = COMMISSIONER + 1
ETR_MIN_FIELDS = CLOSE_DATE + 1

_SIZE_MEASURES: tuple[str, ...] = get_args(SizeMeasure)


@dataclass
class _Row:
    line: int
    fields: list[str]


@dataclass
class _Org:
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


class _Problems:
    """Collects every problem in a run so the user can fix them all at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, file: str, line: int | None, message: str) -> None:
        self.items.append(Problem(file, line, None, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)


def _rows(path: Path) -> tuple[str, Iterator[_Row]]:
    """Non-blank CSV records of a file, each with the line it starts on (stripped fields)."""
    name = str(path)
    text = read_text(path, name)
    if not text.strip():
        raise InputError.single(name, "the file is empty")

    def records() -> Iterator[_Row]:
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
                yield _Row(line, [f.strip() for f in fields])

    return name, records()


def _header(name: str, rows: Iterator[_Row], required: tuple[str, ...]) -> dict[str, int]:
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


def _field(row: _Row, column: int | None) -> str:
    return row.fields[column] if column is not None and column < len(row.fields) else ""


def import_ods(
    *,
    practices: Path,
    pct_areas: Path,
    trusts: Path | None = None,
    list_sizes: Path | None = None,
    services: Path | None = None,
    name: str = "ODS extract",
) -> tuple[Market, list[str]]:
    """A market from ODS extracts plus the side files; returns it with warnings.

    Practices whose commissioner (column 15 of epraccur) is not in the PCT-areas file are
    skipped with one summary warning, not an error: epraccur is national and the PCT-areas file
    usually lists only the local health economy. It is an error if no practice is left, and a
    warning if a PCT area has no practice (a mistyped code). Likewise trusts with no row in the
    services file are skipped with a warning (etr is national too). Closed practices and trusts
    (status not 'A', or a close date) and prescribing settings other than GP practice (4) are
    skipped. Rows of the list-size file for other practices are ignored (it is national too).
    Anything malformed, and anything the analyst wrote that does not fit (a trust placed in a
    PCT area not in the PCT-areas file), is an error naming file, line and organisation.
    """
    problems = _Problems()
    warnings: list[str] = []
    areas = _read_pct_areas(Path(pct_areas), problems)
    problems.raise_if_any()

    orgs: dict[str, _Org] = {}
    _read_epraccur(Path(practices), areas, orgs, problems, warnings)
    trust_orgs = _read_etr(Path(trusts), orgs, problems) if trusts is not None else {}
    problems.raise_if_any()

    if list_sizes is not None:
        _read_list_sizes(Path(list_sizes), orgs, problems, warnings)
    else:
        warnings.append("no list-size file given: practice list sizes are unknown")
    if services is not None:
        _read_services(Path(services), areas, orgs, trust_orgs, problems, warnings)
    problems.raise_if_any()

    unplaced = sorted(code for code, org in trust_orgs.items() if org.pct is None)
    if unplaced:
        warnings.append(
            f"{trusts}: {len(unplaced)} open trust(s) have no row in the services file and"
            f" were skipped: {_sample(unplaced)}"
        )
    providers = [org for org in orgs.values() if org.pct is not None]
    data: dict[str, Any] = {
        "format": FORMAT,
        "name": name,
        "pct_areas": [
            {"code": code, "name": a["name"], "population": a["population"], "adjacent": a["adj"]}
            for code, a in areas.items()
        ],
        "providers": [_provider_dict(org) for org in providers],
    }
    try:
        market = Market.model_validate(data)
    except ValidationError as exc:
        # The readers check every field, so this is a backstop; name the organisation anyway.
        sources = [(str(pct_areas), a["line"]) for a in areas.values()]
        origins = {"pct_areas": sources, "providers": [(o.file, o.line) for o in providers]}
        raise InputError(
            [_locate(p, origins) for p in pydantic_problems(exc, Market, None, "<ODS import>")]
        ) from None
    warnings += market_warnings(market)
    return market, warnings


def _locate(problem: Problem, origins: dict[str, list[tuple[str, int]]]) -> Problem:
    """Point a model error back at the CSV row it came from."""
    match = re.match(r"(pct_areas|providers)\[(\d+)\]", problem.message)
    if match is None:
        return problem
    file, line = origins[match.group(1)][int(match.group(2))]
    return Problem(file, line, None, problem.message)


def _provider_dict(org: _Org) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": org.code,
        "name": org.name,
        "type": org.type.value,
        "pct": org.pct,
        "services": org.services,
    }
    if org.size is not None:
        out["size"] = org.size
        out["size_measure"] = org.size_measure
    return out


def _sample(codes: list[str], limit: int = 8) -> str:
    shown = ", ".join(codes[:limit])
    return shown + (f" and {len(codes) - limit} more" if len(codes) > limit else "")


def _read_pct_areas(path: Path, problems: _Problems) -> dict[str, dict[str, Any]]:
    name, rows = _rows(path)
    columns = _header(name, rows, ("code", "name", "population"))
    _reject_unknown_columns(name, columns, ("code", "name", "population", "adjacent"))
    areas: dict[str, dict[str, Any]] = {}
    adjacency: list[tuple[int, str, str]] = []
    for row in rows:
        code = _field(row, columns["code"])
        label = _field(row, columns["name"])
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
        population = _number(_field(row, columns["population"]), integer=True)
        if population is None or population <= 0:
            problems.add(
                name,
                row.line,
                f"PCT area '{code}': population '{_field(row, columns['population'])}'"
                " is not a whole number above 0",
            )
            population = 0
        population = int(population)
        adjacent = [a.strip() for a in _field(row, columns.get("adjacent")).split(";") if a.strip()]
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


def _reject_unknown_columns(name: str, columns: dict[str, int], known: tuple[str, ...]) -> None:
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


def _number(text: str, *, integer: bool = False) -> float | None:
    """A number as analysts write it ('6,512' included); None if it is not one."""
    cleaned = text.replace(",", "").replace("_", "")
    try:
        value = float(int(cleaned)) if integer else float(cleaned)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _check_fields(name: str, row: _Row, minimum: int, kind: str, problems: _Problems) -> bool:
    count = len(row.fields)
    if minimum <= count <= ODS_FIELDS:
        return True
    code = row.fields[0] if row.fields else ""
    problems.add(
        name,
        row.line,
        f"'{code}': the row has {count} field(s); an {kind} row has {ODS_FIELDS}"
        f" (at least {minimum}). Is this the right file?",
    )
    return False


def _check_code(
    name: str, row: _Row, code: str, orgs: dict[str, _Org], problems: _Problems
) -> bool:
    if not is_org_id(code):
        problems.add(name, row.line, f"'{code}' is not an organisation code")
        return False
    if code in orgs:
        first = orgs[code]
        problems.add(
            name,
            row.line,
            listed_twice("organisation code", code, f"{first.file}:{first.line}"),
        )
        return False
    if not row.fields[NAME]:
        problems.add(name, row.line, f"'{code}' has no name")
        return False
    return True


def _read_epraccur(
    path: Path,
    areas: dict[str, dict[str, Any]],
    orgs: dict[str, _Org],
    problems: _Problems,
    warnings: list[str],
) -> None:
    name, rows = _rows(path)
    closed = not_gp = 0
    elsewhere: Counter[str] = Counter()
    for row in rows:
        if not _check_fields(name, row, EPRACCUR_MIN_FIELDS, "epraccur", problems):
            continue
        code = row.fields[CODE]
        if not _check_code(name, row, code, orgs, problems):
            continue
        setting = _field(row, PRESCRIBING_SETTING)
        commissioner = row.fields[COMMISSIONER]
        if row.fields[STATUS] != "A" or row.fields[CLOSE_DATE]:
            closed += 1
        elif setting and setting != GP_PRACTICE_SETTING:
            not_gp += 1
        elif commissioner not in areas:
            elsewhere[commissioner or "(none)"] += 1
        else:
            orgs[code] = _Org(
                code,
                row.fields[NAME],
                OrgType.gp_practice,
                commissioner,
                ["general_practice"],
                file=name,
                line=row.line,
            )
            continue
        # Remember skipped codes too (with no PCT area), so a duplicate row is still caught.
        orgs[code] = _Org(
            code, row.fields[NAME], OrgType.gp_practice, None, [], file=name, line=row.line
        )
    if problems.items:
        return
    if closed or not_gp:
        warnings.append(
            f"{name}: skipped {closed} closed or inactive practice(s) and {not_gp} with a"
            f" prescribing setting other than GP practice ({GP_PRACTICE_SETTING})"
        )
    if elsewhere:
        listed = ", ".join(f"{c} ({n})" for c, n in sorted(elsewhere.items()))
        warnings.append(
            f"{name}: skipped {sum(elsewhere.values())} practice(s) whose commissioner is not"
            f" in the PCT-areas file: {listed}"
        )
    kept = Counter(org.pct for org in orgs.values() if org.pct is not None)
    if not kept:  # raised at once: a problem with no line cannot be sorted among the others
        raise InputError.single(
            name,
            "no open GP practice is commissioned by a PCT area in the PCT-areas file"
            f" ({', '.join(areas)})",
        )
    for code in areas:
        if code not in kept:
            warnings.append(
                f"PCT area '{code}' has no open GP practice in {name}{suggest(code, elsewhere)}"
            )


def _read_etr(path: Path, orgs: dict[str, _Org], problems: _Problems) -> dict[str, _Org]:
    """Open trusts, not yet placed in a PCT area: the services file does that."""
    name, rows = _rows(path)
    trusts: dict[str, _Org] = {}
    for row in rows:
        if not _check_fields(name, row, ETR_MIN_FIELDS, "etr", problems):
            continue
        code = row.fields[CODE]
        if not _check_code(name, row, code, orgs, problems):
            continue
        kind = _guess_trust_type(row.fields[NAME])
        org = _Org(code, row.fields[NAME], kind, None, [], file=name, line=row.line)
        orgs[code] = org
        if not row.fields[CLOSE_DATE]:
            trusts[code] = org
    return trusts


def _guess_trust_type(name: str) -> OrgType:
    """ODS does not type trusts in etr; the name usually says. The services file can override."""
    upper = name.upper()
    if "AMBULANCE" in upper:
        return OrgType.ambulance_trust
    if "MENTAL HEALTH" in upper:
        return OrgType.mental_health_trust
    if "CARE TRUST" in upper:
        return OrgType.care_trust
    if "FOUNDATION TRUST" in upper:
        return OrgType.foundation_trust
    return OrgType.nhs_trust


def _read_list_sizes(
    path: Path, orgs: dict[str, _Org], problems: _Problems, warnings: list[str]
) -> None:
    name, rows = _rows(path)
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
        if any(_field(row, i).upper() != "ALL" for i in filters.values()):
            continue
        if type_col is not None and _field(row, type_col).upper() not in ("GP", ""):
            continue
        code = _field(row, code_col)
        raw = _field(row, size_col)
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
        size = _number(raw, integer=True)
        if size is None or size < 0:
            problems.add(
                name,
                row.line,
                f"practice '{code}': NUMBER_OF_PATIENTS '{raw}' is not a whole number of 0 or more",
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
        warnings.append(f"{name}: no list size for {len(missing)} practice(s): {_sample(missing)}")


SERVICES_COLUMNS = ("code", "services", "pct", "type", "size", "size_measure")


def _read_services(
    path: Path,
    areas: dict[str, dict[str, Any]],
    orgs: dict[str, _Org],
    trusts: dict[str, _Org],
    problems: _Problems,
    warnings: list[str],
) -> None:
    name, rows = _rows(path)
    columns = _header(name, rows, ("code", "services"))
    _reject_unknown_columns(name, columns, SERVICES_COLUMNS)
    seen: dict[str, int] = {}
    for row in rows:
        code = _field(row, columns["code"])
        if code in seen:
            first = f"line {seen[code]}"
            problems.add(name, row.line, listed_twice("organisation code", code, first))
            continue
        seen[code] = row.line
        org = orgs.get(code)
        practice = org is not None and org.type is OrgType.gp_practice and org.pct is not None
        if org is None:
            warnings.append(
                f"{name}:{row.line}: '{code}' is not in the extracts{suggest(code, orgs)};"
                " the row is ignored"
            )
            continue
        if not (practice or code in trusts):
            warnings.append(
                f"{name}:{row.line}: '{code}' is closed or was skipped in {org.file};"
                " the row is ignored"
            )
            continue
        lines = _service_lines(name, row, code, _field(row, columns["services"]), problems)
        pct = _field(row, columns.get("pct"))
        kind = _field(row, columns.get("type"))
        size_text = _field(row, columns.get("size"))
        measure = _field(row, columns.get("size_measure"))
        if practice:
            org.services += [s for s in lines if s not in org.services]
            if pct and pct != org.pct:
                problems.add(
                    name,
                    row.line,
                    f"practice '{code}': pct is {pct} here but its commissioner in the"
                    f" epraccur extract is {org.pct}",
                )
            if kind or size_text or measure:
                problems.add(
                    name,
                    row.line,
                    f"practice '{code}': give only code and services for a practice"
                    " (its type is gp_practice and its size comes from the list-size file)",
                )
            continue
        org.services = lines
        if not pct:
            problems.add(
                name, row.line, f"trust '{code}': say which PCT area it sits in (column pct)"
            )
        elif pct not in areas:
            problems.add(
                name,
                row.line,
                f"trust '{code}': PCT area '{pct}' is not in the PCT-areas file"
                f"{suggest(pct, areas)}",
            )
        else:
            org.pct = pct
        if kind:
            if kind in OrgType.__members__:
                org.type = OrgType(kind)
            else:
                problems.add(
                    name,
                    row.line,
                    f"'{code}': '{kind}' is not an organisation type"
                    f"{suggest(kind, OrgType.__members__)}",
                )
        if size_text:
            size = _number(size_text)
            if size is None or size < 0:
                problems.add(
                    name, row.line, f"'{code}': size '{size_text}' is not a number of 0 or more"
                )
            elif measure not in _SIZE_MEASURES:
                problems.add(
                    name,
                    row.line,
                    f"'{code}': say what size counts in size_measure"
                    f" ({', '.join(_SIZE_MEASURES)}){suggest(measure, _SIZE_MEASURES)}",
                )
            else:
                org.size, org.size_measure = size, measure
        elif measure:
            problems.add(name, row.line, f"'{code}': size_measure is given but size is not")


def _service_lines(name: str, row: _Row, code: str, text: str, problems: _Problems) -> list[str]:
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
