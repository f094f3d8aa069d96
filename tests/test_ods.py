"""Importing ODS extracts (epraccur, etr) and the side files into a market."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from icorules.errors import InputError
from icorules.inputs.market import Market, load_market
from icorules.inputs.ods import import_ods

SAMPLES = Path(__file__).resolve().parents[1] / "examples" / "ods"
FILES = {
    "practices": "epraccur.csv",
    "trusts": "etr.csv",
    "pct_areas": "pct-areas.csv",
    "list_sizes": "list-sizes.csv",
    "services": "services.csv",
}


@pytest.fixture
def ods(tmp_path: Path) -> Path:
    """A private copy of the samples, to break one file at a time."""
    for name in FILES.values():
        shutil.copy(SAMPLES / name, tmp_path / name)
    return tmp_path


def run(folder: Path, **overrides: Any) -> tuple[Market, list[str]]:
    paths: dict[str, Any] = {key: folder / name for key, name in FILES.items()}
    paths.update(overrides)
    return import_ods(**paths)


def problems(folder: Path, **overrides: Any) -> list[str]:
    with pytest.raises(InputError) as info:
        run(folder, **overrides)
    return [str(p) for p in info.value.problems]


def edit_line(path: Path, number: int, old: str, new: str) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        lines = f.read().splitlines(keepends=True)
    assert old in lines[number - 1], lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("".join(lines))


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


# --- the samples ---------------------------------------------------------------------------------


def test_samples_import_to_the_expected_counts() -> None:
    market, warnings = run(SAMPLES, name="Fells health economy")
    assert market.name == "Fells health economy"
    assert [a.code for a in market.pct_areas] == ["5ZA", "5ZB", "5ZC"]
    practices = [p for p in market.providers if p.type.value == "gp_practice"]
    trusts = [p for p in market.providers if p.type.value != "gp_practice"]
    assert len(practices) == 23
    assert len(trusts) == 5
    per_area = {code: sum(p.pct == code for p in practices) for code in ("5ZA", "5ZB", "5ZC")}
    assert per_area == {"5ZA": 8, "5ZB": 7, "5ZC": 8}
    ids = {p.id for p in market.providers}
    assert not ids & {"K99007", "K99013", "K99026", "R9F"}  # closed, out of hours, elsewhere
    assert all(p.size and p.size_measure == "list_size" for p in practices)
    assert market.adjacency()["5ZB"] == frozenset({"5ZA", "5ZC"})
    types = {p.id: p.type.value for p in trusts}
    assert types == {
        "R9A": "foundation_trust",
        "R9B": "nhs_trust",
        "R9C": "mental_health_trust",  # from services.csv; the name does not say
        "R9D": "ambulance_trust",
        "R9E": "nhs_trust",
    }
    k19 = next(p for p in market.providers if p.id == "K99019")
    assert [s.value for s in k19.services] == ["general_practice", "out_of_hours"]
    text = "\n".join(warnings)
    assert "skipped 1 closed or inactive practice(s) and 1 with a prescribing setting" in text
    assert "skipped 1 practice(s) whose commissioner is not in the PCT-areas file: 5ZD (1)" in text
    assert len(warnings) == 2


def test_imported_market_round_trips_through_a_market_file(tmp_path: Path) -> None:
    market, _ = run(SAMPLES)
    path = tmp_path / "market.json"
    path.write_text(market.model_dump_json(indent=2, exclude_none=True))
    assert load_market(path).providers == market.providers


def test_only_practices_and_areas_are_required(ods: Path) -> None:
    market, warnings = import_ods(practices=ods / "epraccur.csv", pct_areas=ods / "pct-areas.csv")
    assert len(market.providers) == 23
    assert all(p.size is None for p in market.providers)
    assert "no list-size file given: practice list sizes are unknown" in warnings


def test_trusts_without_a_services_row_are_skipped_with_a_warning(ods: Path) -> None:
    market, warnings = run(ods, services=None)
    assert len(market.providers) == 23
    assert any(
        "5 open trust(s) have no row in the services file and were skipped: R9A, R9B" in w
        for w in warnings
    )


def test_practices_without_a_list_size_are_named(ods: Path) -> None:
    path = ods / "list-sizes.csv"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-3]))
    _, warnings = run(ods)
    expected = "list-sizes.csv: no list size for 2 practice(s): K99024, K99025"
    assert any(expected in w for w in warnings)


def test_list_sizes_in_the_nhs_digital_breakdown_layout(ods: Path) -> None:
    (ods / "list-sizes.csv").write_text(
        "PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n"
        "GP_PRAC_PAT_LIST,01JAN2008,GP,5ZA,E0001,K99001,KS1 2AB,ALL,ALL,10450\n"
        "GP_PRAC_PAT_LIST,01JAN2008,GP,5ZA,E0001,K99001,KS1 2AB,MALE,ALL,5100\n"
        "GP_PRAC_PAT_LIST,01JAN2008,GP,5ZA,E0001,K99001,KS1 2AB,ALL,0_4,600\n"
        "GP_PRAC_PAT_LIST,01JAN2008,CCG,5ZA,E0001,5ZA,,ALL,ALL,300000\n"
        'GP_PRAC_PAT_LIST,01JAN2008,GP,5ZA,E0001,K99002,KS1 4DE,ALL,ALL,"6,820"\n'
    )
    market, _ = run(ods)
    sizes = {p.id: p.size for p in market.providers}
    assert sizes["K99001"] == 10_450 and sizes["K99002"] == 6_820 and sizes["K99003"] is None


# --- bad input -----------------------------------------------------------------------------------


def test_wrong_column_count_in_epraccur(ods: Path) -> None:
    append(ods / "epraccur.csv", '"K99030","SHORT ROW SURGERY","Y99","Q99"\r\n')
    assert problems(ods) == [
        f"{ods / 'epraccur.csv'}:27: 'K99030': the row has 4 field(s); an epraccur row has 27"
        " (at least 15). Is this the right file?"
    ]


def test_wrong_column_count_in_etr(ods: Path) -> None:
    edit_line(ods / "etr.csv", 2, '"01632 961002"', '"01632 961002"' + ',""' * 24)
    [problem] = problems(ods)
    assert problem.startswith(f"{ods / 'etr.csv'}:2: 'R9B': the row has 51 field(s); an etr row")


def test_a_header_file_given_as_epraccur_is_caught(ods: Path) -> None:
    problem = problems(ods, practices=ods / "list-sizes.csv")[0]
    assert problem.startswith(f"{ods / 'list-sizes.csv'}:1: 'EXTRACT_DATE': the row has 5 field")


def test_duplicate_practice_code(ods: Path) -> None:
    edit_line(ods / "epraccur.csv", 5, '"K99005"', '"K99002"')
    assert problems(ods) == [
        f"{ods / 'epraccur.csv'}:5: organisation code 'K99002' is listed twice"
        f" (first at {ods / 'epraccur.csv'}:2)"
    ]


def test_duplicate_code_across_practices_and_trusts(ods: Path) -> None:
    edit_line(ods / "etr.csv", 3, '"R9C"', '"K99001"')
    [problem] = problems(ods)
    assert problem.startswith(f"{ods / 'etr.csv'}:3: organisation code 'K99001' is listed twice")


def test_unknown_service_line_gets_did_you_mean(ods: Path) -> None:
    edit_line(ods / "services.csv", 3, "maternity", "maternaty")
    assert problems(ods) == [
        f"{ods / 'services.csv'}:3: 'R9B': unknown service line 'maternaty'"
        " (did you mean 'maternity'?)"
    ]


@pytest.mark.parametrize(
    ("value", "shown"), [("lots", "lots"), ("-12", "-12"), ("6512.5", "6512.5"), ("", "")]
)
def test_bad_list_sizes(ods: Path, value: str, shown: str) -> None:
    edit_line(ods / "list-sizes.csv", 4, ",12310", f",{value}")
    assert problems(ods) == [
        f"{ods / 'list-sizes.csv'}:4: practice 'K99003': NUMBER_OF_PATIENTS '{shown}' is not a"
        " whole number from 0 to 2,000,000"
    ]


def test_list_size_file_needs_its_columns(ods: Path) -> None:
    (ods / "list-sizes.csv").write_text("PRACTICE,PATIENTS\nK99001,100\n")
    assert problems(ods) == [
        f"{ods / 'list-sizes.csv'}:1: the header needs PRACTICE_CODE (or CODE) and"
        " NUMBER_OF_PATIENTS (found: PRACTICE, PATIENTS)"
    ]


def test_list_size_rows_must_match_the_header_and_be_unique(ods: Path) -> None:
    append(ods / "list-sizes.csv", "01-Jan-2008,K99002,CASTLE STREET,5ZA,6820\n")
    append(ods / "list-sizes.csv", "01-Jan-2008,K99003,FELLVIEW,5ZA,12310,extra\n")
    found = problems(ods)
    name = ods / "list-sizes.csv"
    assert found == [
        f"{name}:26: practice 'K99002' is listed twice (first at line 3)",
        f"{name}:27: 'K99003': the row has 6 field(s) but the header has 5",
    ]


def test_practice_of_an_unknown_commissioner_is_skipped_not_an_error(ods: Path) -> None:
    edit_line(ods / "epraccur.csv", 1, '"5ZA","20060401"', '"5ZX","20060401"')
    market, warnings = run(ods)
    assert "K99001" not in {p.id for p in market.providers}
    expected = "whose commissioner is not in the PCT-areas file: 5ZD (1), 5ZX (1)"
    assert any(expected in w for w in warnings)


def test_pct_area_with_no_practice_is_a_warning_with_did_you_mean(ods: Path) -> None:
    path = ods / "epraccur.csv"
    path.write_text(path.read_text().replace('"5ZC"', '"5ZE"'))
    _, warnings = run(ods)
    assert any(
        "PCT area '5ZC' has no open GP practice in" in w and "(did you mean '5ZE'?)" in w
        for w in warnings
    )


def test_no_practice_in_any_area_is_an_error(ods: Path) -> None:
    (ods / "pct-areas.csv").write_text("code,name,population\n5QQ,Elsewhere PCT,200000\n")
    assert problems(ods) == [
        f"{ods / 'epraccur.csv'}: no open GP practice is commissioned by a PCT area in the"
        " PCT-areas file (5QQ)"
    ]


def test_pct_area_file_problems_are_all_reported(ods: Path) -> None:
    (ods / "pct-areas.csv").write_text(
        "code,name,population,adjacent\n"
        "5ZA,Kendalstow PCT,312000,5ZB;5ZA\n"
        "5ZB,Fellbridge PCT,many,5ZA;5ZQ\n"
        "5ZB,Fellbridge again,1000,\n"
        "5zc,Westhaven PCT,395000,\n"
        "5ZD,,-4,\n"
    )
    name = ods / "pct-areas.csv"
    assert problems(ods) == [
        f"{name}:2: PCT area '5ZA' is listed as adjacent to itself",
        f"{name}:3: PCT area '5ZB' is adjacent to unknown PCT area '5ZQ' (did you mean '5ZD'?)",
        f"{name}:3: PCT area '5ZB': population 'many' is not a whole number from 1 to 20,000,000",
        f"{name}:4: PCT area '5ZB' is listed twice (first at line 3)",
        f"{name}:5: '5zc' is not a PCT code (3 to 5 capital letters or digits)",
        f"{name}:6: PCT area '5ZD' has no name",
        f"{name}:6: PCT area '5ZD': population '-4' is not a whole number from 1 to 20,000,000",
    ]


def test_pct_area_file_needs_its_columns_and_rejects_typos(ods: Path) -> None:
    (ods / "pct-areas.csv").write_text("code,name\n5ZA,Kendalstow PCT\n")
    assert problems(ods) == [
        f"{ods / 'pct-areas.csv'}:1: the header needs the column(s) population (found: code, name)"
    ]
    (ods / "pct-areas.csv").write_text("code,name,population,adjacant\n5ZA,K,300000,\n")
    assert problems(ods) == [
        f"{ods / 'pct-areas.csv'}:1: unknown column 'adjacant' (did you mean 'adjacent'?)"
        " (allowed: code, name, population, adjacent)"
    ]


def test_services_file_problems_name_the_row(ods: Path) -> None:
    (ods / "services.csv").write_text(
        "code,services,pct,type,size,size_measure\n"
        "R9A,outpatients,,,,\n"
        "R9B,outpatients,5ZQ,,,\n"
        "R9C,mental_health,5ZB,mental_trust,,\n"
        "R9D,ambulance,5ZA,,100,\n"
        "R9E,therapies,5ZB,,,beds\n"
        "K99001,out_of_hours,5ZB,,,\n"
        "K99002,out_of_hours,,,5000,list_size\n"
        "R9E,therapies,5ZB,,,\n"
        "R9Z,therapies,5ZB,,,\n"
    )
    name = ods / "services.csv"
    assert problems(ods) == [
        f"{name}:2: trust 'R9A': say which PCT area it sits in (column pct)",
        f"{name}:3: trust 'R9B': PCT area '5ZQ' is not in the PCT-areas file (did you mean '5ZC'?)",
        f"{name}:4: 'R9C': 'mental_trust' is not an organisation type"
        " (did you mean 'mental_health_trust'?)",
        f"{name}:5: 'R9D': say what size counts in size_measure (list_size, capacity, activity,"
        " beds)",
        f"{name}:6: 'R9E': size_measure is given but size is not",
        f"{name}:7: practice 'K99001': pct is 5ZB here but its commissioner in the epraccur"
        " extract is 5ZA",
        f"{name}:8: practice 'K99002': give only code and services for a practice (its type is"
        " gp_practice and its size comes from the list-size file)",
        f"{name}:9: organisation code 'R9E' is listed twice (first at line 6)",
    ]


def test_services_row_for_an_unknown_code_is_a_warning(ods: Path) -> None:
    append(ods / "services.csv", "R9F,outpatients,5ZA,,,\nR9Q,outpatients,5ZA,,,\n")
    _, warnings = run(ods)
    name = ods / "services.csv"
    assert (
        f"{name}:8: 'R9F' is closed or was skipped in {ods / 'etr.csv'}; the row is ignored"
        in warnings
    )
    assert (
        f"{name}:9: 'R9Q' is not in the extracts (did you mean 'R9F'?); the row is ignored"
        in warnings
    )


def test_services_file_rejects_unknown_columns(ods: Path) -> None:
    (ods / "services.csv").write_text("code,service\nR9A,outpatients\n")
    assert problems(ods) == [
        f"{ods / 'services.csv'}:1: the header needs the column(s) services (found: code, service)"
    ]
    (ods / "services.csv").write_text("code,services,beds\nR9A,outpatients\n")
    [problem] = problems(ods)
    assert problem.startswith(f"{ods / 'services.csv'}:1: unknown column 'beds'")


def test_a_trust_with_no_service_lines_is_kept_with_a_warning(ods: Path) -> None:
    edit_line(ods / "services.csv", 5, "ambulance;urgent_care", "")
    market, warnings = run(ods)
    assert "R9D" in {p.id for p in market.providers}
    assert any("provider 'R9D' has no service lines" in w for w in warnings)


def test_too_long_a_name_is_located_at_its_row(ods: Path) -> None:
    edit_line(ods / "epraccur.csv", 3, "FELLVIEW GROUP PRACTICE", "F" * 400)
    [problem] = problems(ods)
    where = f"{ods / 'epraccur.csv'}:3: providers[2].name"
    assert problem.startswith(f"{where}: should have at most 300 characters")


def test_not_utf8_empty_missing_and_directory(ods: Path) -> None:
    (ods / "etr.csv").write_bytes(b'"R9A","CAF\xc9 NHS TRUST"\n')
    [problem] = problems(ods)
    assert problem == f"{ods / 'etr.csv'}:1:11: is not UTF-8 text (byte 0xc9)"

    (ods / "etr.csv").write_text("\n  \n")
    assert problems(ods) == [f"{ods / 'etr.csv'}: the file is empty"]

    assert problems(ods, trusts=ods / "missing.csv") == [f"{ods / 'missing.csv'}: no such file"]
    assert problems(ods, trusts=None, list_sizes=ods) == [f"{ods}: is a directory, not a file"]


def test_header_only_file_is_empty(ods: Path) -> None:
    (ods / "pct-areas.csv").write_text("code,name,population\n")
    assert problems(ods) == [f"{ods / 'pct-areas.csv'}: no PCT areas are listed"]
    (ods / "list-sizes.csv").write_text("")
    (ods / "pct-areas.csv").write_text("code,name,population\n5ZA,K,300000\n")
    assert problems(ods) == [f"{ods / 'list-sizes.csv'}: the file is empty"]


def test_malformed_csv_is_an_input_error(ods: Path) -> None:
    append(ods / "services.csv", 'R9F,"' + "x" * 200_000 + '"\n')
    [problem] = problems(ods)
    assert problem.startswith(f"{ods / 'services.csv'}:8: not valid CSV")


def test_a_utf8_bom_is_accepted(ods: Path) -> None:
    path = ods / "pct-areas.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    market, _ = run(ods)
    assert len(market.pct_areas) == 3


# --- numbers out of bounds: located problems, never an overflow --------------------------------

HUGE = "9" * 400


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (HUGE, "99999999999999999999...99999999 (400 characters)"),
        ("20000001", "20000001"),
        ("1e9", "1e9"),
        ("0", "0"),
    ],
)
def test_a_pct_population_out_of_bounds_is_a_problem(ods: Path, value: str, shown: str) -> None:
    edit_line(ods / "pct-areas.csv", 2, ",312000,", f",{value},")
    assert problems(ods) == [
        f"{ods / 'pct-areas.csv'}:2: PCT area '5ZA': population '{shown}' is not a whole number"
        " from 1 to 20,000,000"
    ]


@pytest.mark.parametrize("value", [HUGE, "2000001", "1" + "0" * 5000])
def test_a_list_size_out_of_bounds_is_a_problem(ods: Path, value: str) -> None:
    edit_line(ods / "list-sizes.csv", 4, ",12310", f",{value}")
    [problem] = problems(ods)
    assert problem.startswith(f"{ods / 'list-sizes.csv'}:4: practice 'K99003': NUMBER_OF_PATIENTS")
    assert problem.endswith("is not a whole number from 0 to 2,000,000")


@pytest.mark.parametrize("value", ["1e308", "1e400", "inf", "nan", "-1", HUGE, "1000000001"])
def test_a_provider_size_out_of_bounds_is_a_problem(ods: Path, value: str) -> None:
    edit_line(ods / "services.csv", 2, ",640,", f",{value},")
    [problem] = problems(ods)
    assert problem.startswith(f"{ods / 'services.csv'}:2: 'R9A': size '")
    assert problem.endswith("is not a number from 0 to 1,000,000,000")


def test_market_import_writes_nothing_for_an_out_of_bounds_size(ods: Path) -> None:
    from click.testing import CliRunner

    from icorules.cli import cli

    edit_line(ods / "services.csv", 2, ",640,", ",1e308,")
    out = ods / "area.json"
    args = ["market", "import", "-o", str(out)]
    for option, key in (("--practices", "practices"), ("--pct-areas", "pct_areas")):
        args += [option, str(ods / FILES[key])]
    for option, key in (("--trusts", "trusts"), ("--services", "services")):
        args += [option, str(ods / FILES[key])]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "'R9A': size '1e308' is not a number from 0 to 1,000,000,000" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_the_largest_sizes_in_bounds_import_and_measure(ods: Path) -> None:
    """At the bounds, the import, the market file and a check's arithmetic all hold."""
    edit_line(ods / "services.csv", 2, ",640,", ",1000000000,")
    edit_line(ods / "pct-areas.csv", 2, ",312000,", ",20000000,")
    market, _ = run(ods)
    assert load_market(market.model_dump(mode="json")) == market
