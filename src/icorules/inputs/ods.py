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

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from icorules.errors import InputError, Problem
from icorules.inputs.codes import OrgType, is_org_id, ods_shape_problem
from icorules.inputs.market import FORMAT, Market, market_warnings
from icorules.inputs.ods_csv import (
    Org,
    Problems,
    Row,
    csv_rows,
    field,
    read_list_sizes,
    read_pct_areas,
    read_services,
    sample,
)
from icorules.inputs.references import listed_twice, suggest
from icorules.inputs.validation import pydantic_problems

# Column positions (0-based) in the ODS "standard" layout shared by epraccur and etr (27 fields).
ODS_FIELDS = 27
CODE, NAME, CLOSE_DATE, STATUS, COMMISSIONER, PRESCRIBING_SETTING = 0, 1, 11, 12, 14, 25
GP_PRACTICE_SETTING = "4"
EPRACCUR_MIN_FIELDS = COMMISSIONER + 1
ETR_MIN_FIELDS = CLOSE_DATE + 1


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
    problems = Problems()
    warnings: list[str] = []
    areas = read_pct_areas(Path(pct_areas), problems)
    problems.raise_if_any()

    orgs: dict[str, Org] = {}
    _read_epraccur(Path(practices), areas, orgs, problems, warnings)
    trust_orgs = _read_etr(Path(trusts), orgs, problems) if trusts is not None else {}
    problems.raise_if_any()

    if list_sizes is not None:
        read_list_sizes(Path(list_sizes), orgs, problems, warnings)
    else:
        warnings.append("no list-size file given: practice list sizes are unknown")
    if services is not None:
        read_services(Path(services), areas, orgs, trust_orgs, problems, warnings)
    problems.raise_if_any()

    unplaced = sorted(code for code, org in trust_orgs.items() if org.pct is None)
    if unplaced:
        warnings.append(
            f"{trusts}: {len(unplaced)} open trust(s) have no row in the services file and"
            f" were skipped: {sample(unplaced)}"
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


def _provider_dict(org: Org) -> dict[str, Any]:
    out: dict[str, Any] = {"id": org.code, "name": org.name, "type": org.type.value}
    if ods_shape_problem(org.type.value, org.code) is None:
        out["ods_code"] = org.code  # the id is the ODS code; said so, to match partners by it
    out |= {"pct": org.pct, "services": org.services}
    if org.size is not None:
        out["size"] = org.size
        out["size_measure"] = org.size_measure
    return out


def _check_fields(name: str, row: Row, minimum: int, kind: str, problems: Problems) -> bool:
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


def _check_code(name: str, row: Row, code: str, orgs: dict[str, Org], problems: Problems) -> bool:
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


def _new_code(
    name: str, row: Row, minimum: int, kind: str, orgs: dict[str, Org], problems: Problems
) -> str | None:
    """The organisation code of an ODS row with the right fields, a valid code not seen before
    and a name; None (with the problem added) otherwise."""
    if not _check_fields(name, row, minimum, kind, problems):
        return None
    code = row.fields[CODE]
    return code if _check_code(name, row, code, orgs, problems) else None


def _read_epraccur(
    path: Path,
    areas: dict[str, dict[str, Any]],
    orgs: dict[str, Org],
    problems: Problems,
    warnings: list[str],
) -> None:
    """The open GP practices commissioned by a PCT area in the PCT-areas file, into `orgs`."""
    name, rows = csv_rows(path)
    skipped: Counter[str] = Counter()  # closed and not_gp rows
    elsewhere: Counter[str] = Counter()  # practices by commissioner, not in the PCT-areas file
    for row in rows:
        code = _new_code(name, row, EPRACCUR_MIN_FIELDS, "epraccur", orgs, problems)
        if code is None:
            continue
        commissioner = row.fields[COMMISSIONER]
        skip = _practice_skipped(row, areas)
        if skip == "elsewhere":
            elsewhere[commissioner or "(none)"] += 1
        elif skip is not None:
            skipped[skip] += 1
        # Remember skipped codes too (with no PCT area), so a duplicate row is still caught.
        orgs[code] = _practice(name, row, commissioner if skip is None else None)
    if problems.items:
        return
    warnings += _skipped_practices(name, skipped["closed"], skipped["not_gp"], elsewhere)
    warnings += _areas_without_practices(name, areas, orgs, elsewhere)


def _practice_skipped(row: Row, areas: Mapping[str, Any]) -> str | None:
    """Why an epraccur row is not imported ("closed", "not_gp" or "elsewhere"), or None."""
    setting = field(row, PRESCRIBING_SETTING)
    if row.fields[STATUS] != "A" or row.fields[CLOSE_DATE]:
        return "closed"
    if setting and setting != GP_PRACTICE_SETTING:
        return "not_gp"
    if row.fields[COMMISSIONER] not in areas:
        return "elsewhere"
    return None


def _practice(name: str, row: Row, pct: str | None) -> Org:
    """A GP practice from its epraccur row; with no PCT area when it is not imported."""
    services = ["general_practice"] if pct is not None else []
    code, org_name = row.fields[CODE], row.fields[NAME]
    return Org(code, org_name, OrgType.gp_practice, pct, services, file=name, line=row.line)


def _skipped_practices(name: str, closed: int, not_gp: int, elsewhere: Counter[str]) -> list[str]:
    """The warnings that count the practices skipped, and why."""
    warnings = []
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
    return warnings


def _areas_without_practices(
    name: str, areas: Mapping[str, Any], orgs: Mapping[str, Org], elsewhere: Counter[str]
) -> list[str]:
    """A warning for each PCT area with no practice (a mistyped code?); an error if none has."""
    kept = Counter(org.pct for org in orgs.values() if org.pct is not None)
    if not kept:  # raised at once: a problem with no line cannot be sorted among the others
        raise InputError.single(
            name,
            "no open GP practice is commissioned by a PCT area in the PCT-areas file"
            f" ({', '.join(areas)})",
        )
    return [
        f"PCT area '{code}' has no open GP practice in {name}{suggest(code, elsewhere)}"
        for code in areas
        if code not in kept
    ]


def _read_etr(path: Path, orgs: dict[str, Org], problems: Problems) -> dict[str, Org]:
    """Open trusts, not yet placed in a PCT area: the services file does that."""
    name, rows = csv_rows(path)
    trusts: dict[str, Org] = {}
    for row in rows:
        code = _new_code(name, row, ETR_MIN_FIELDS, "etr", orgs, problems)
        if code is None:
            continue
        kind = _guess_trust_type(row.fields[NAME])
        org = Org(code, row.fields[NAME], kind, None, [], file=name, line=row.line)
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
