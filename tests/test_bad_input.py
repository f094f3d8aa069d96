"""Bad proposals, rulesets and options: exit 2, no traceback, one plain located line per problem.

Every stored file in tests/bad_input/ is a copy of valid.json / valid.yaml (or, under
rulesets/, of valid.yaml) broken in one way (or, for the "several" files, in several). Huge and
deeply nested inputs are generated into tmp_path instead of being stored.

The expected line:column of each problem is written out literally and was checked by hand
against the file. Tests of behaviour that is wrong today are marked xfail(strict=True) with the
bug in the reason, so they flip to XPASS (and fail) when it is fixed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from icorules.cli import cli
from icorules.documents import MAX_BYTES, MAX_DEPTH

HERE = Path(__file__).resolve().parent
BAD = HERE / "bad_input"
RULESETS = BAD / "rulesets"
EXAMPLE = HERE.parent / "examples" / "south-lakeland.json"

# (line, column, [substrings the message must contain]); column None when only a line is given.
Expected = list[tuple[int | None, int | None, list[str]]]


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_input_error(result: Result, *names: str | Path) -> list[str]:
    """Exit 2, no traceback, and every stderr line is `icorules: ` plus one of `names`."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines, "no problem was reported"
    for line in lines:
        assert line.startswith("icorules: "), line
        assert any(str(name) in line for name in names), line
    return lines


def assert_located(lines: list[str], path: Path, expected: Expected) -> None:
    """Exactly one line per expected problem, each at the expected place, saying what is wrong."""
    assert len(lines) == len(expected), "\n".join(lines)
    for line_no, column, words in expected:
        where = str(path)
        if line_no is not None:
            where += f":{line_no}"
            if column is not None:
                where += f":{column}"
        prefix = f"icorules: {where}: "
        matching = [line for line in lines if line.startswith(prefix)]
        assert matching, f"nothing reported at {where}:\n" + "\n".join(lines)
        assert any(all(w in line for w in words) for line in matching), (words, matching)


# -- proposals ------------------------------------------------------------------------------

PROPOSALS: dict[str, Expected] = {
    # Malformed files.
    "trailing_comma.json": [(45, 113, ["invalid JSON", "trailing comma"])],
    "unclosed_brace.json": [(47, 1, ["invalid JSON", "ends before every { and [ is closed"])],
    "bad_indentation.yaml": [(13, 11, ["invalid YAML", "mapping values are not allowed"])],
    "tab_indentation.yaml": [(14, 1, ["invalid YAML", "tab"])],
    "empty.json": [(None, None, ["the file is empty"])],
    "whitespace_only.yaml": [(None, None, ["the file is empty"])],
    "not_utf8.json": [(4, 15, ["not UTF-8", "0xe9"])],
    "array.json": [(1, 1, ["a proposal is a JSON/YAML object"])],
    "non_string_keys.yaml": [
        (50, 1, ["'1'", "not text", "quotes"]),
        (51, 1, ["'null'", "not text", "quotes"]),
    ],
    "unquoted_date_id.yaml": [(3, 1, ["id", "2008-11-01", "quotes"])],
    "date_as_number.json": [(7, 3, ["implementation_date", "0", "2008-12-31"])],
    "huge_integer.json": [(17, 19, ["invalid number", "digits"])],
    "impossible_date.yaml": [(7, 22, ["'2009-02-30'", "day is out of range"])],
    "duplicate_key_top.json": [(5, 3, ["duplicate key 'name'"])],
    "duplicate_key_nested.json": [(18, 49, ["duplicate key 'name'"])],
    # Wrong types and values.
    "list_size_text.json": [(17, 6, ["organisations[1].list_size", "'big'", "whole number"])],
    "list_size_boolean.json": [(17, 6, ["organisations[1].list_size", "True", "whole number"])],
    "population_negative.json": [(10, 46, ["pct_areas[0].population", "-5", "greater than 0"])],
    "wrong_types.yaml": [
        (10, 38, ["pct_areas[0].population", "greater than 0"]),
        (21, 5, ["organisations[1].list_size", "whole number"]),
    ],
    # Unknown fields and values, with did-you-mean.
    # A misspelt required field is one slip: no second line saying the real one is missing.
    "unknown_field_top.json": [
        (13, 3, ["unknown field 'organisatons'", "did you mean 'organisations'"]),
    ],
    "unknown_field.yaml": [
        (11, 1, ["unknown field 'organisatons'", "did you mean 'organisations'"]),
    ],
    "unknown_field_nested.json": [
        (15, 6, ["organisations[0].provdes", "unknown field 'provdes'", "did you mean 'provides'"])
    ],
    "unknown_org_type.json": [
        (16, 52, ["organisations[1].type", "'gp_practise'", "did you mean 'gp_practice'"])
    ],
    "unknown_service.json": [
        (19, 58, ["organisations[2].provides[1]", "'diagnostic'", "did you mean 'diagnostics'"])
    ],
    # Cross-references.
    "unknown_org_in_agreement.json": [
        (22, 65, ["agreements[0].parties[2]", "unknown organisation id 'GP3'", "'GP2'"])
    ],
    "unknown_org_on_board.json": [
        (
            27,
            28,
            ["governance.board.members[2].organisation", "unknown organisation id 'GP9'"],
        )
    ],
    "unknown_org_in_dispute.json": [
        (
            30,
            55,
            ["governance.dispute_resolution.parties[2]", "'GP02'", "did you mean 'GP2'"],
        )
    ],
    "duplicate_org_id.json": [
        (20, 6, ["organisations[3].id", "'GP1' is used twice", "organisations[1]"])
    ],
    "undeclared_pct.json": [
        (18, 72, ["organisations[2].pct", "'5AB' is not declared in pct_areas", "'5AA'"])
    ],
    # Several problems: every one reported, one line each, in file order.
    "several_problems.json": [
        (1, 1, ["required field 'name' is missing"]),
        (9, 46, ["pct_areas[0].population", "greater than 0"]),
        (16, 6, ["organisations[1].list_size", "whole number"]),
        (17, 49, ["organisations[2].type", "'hospital'"]),
        (38, 41, ["governance.evaluation.years", "whole number"]),
    ],
}


def test_the_base_files_are_valid() -> None:
    """Each bad file breaks a valid one, so its problems are the ones it was given."""
    for name in ("valid.json", "valid.yaml"):
        result = invoke("check", BAD / name)
        assert result.exit_code == 0, result.output
        assert result.stderr == ""
    result = invoke("rules", "check", RULESETS / "valid.yaml")
    assert result.exit_code == 0, result.output


def test_every_stored_file_is_exercised() -> None:
    stored = {str(p.relative_to(BAD)) for p in BAD.rglob("*") if p.is_file()}
    stored -= {"valid.json", "valid.yaml", "rulesets/valid.yaml"}
    covered = (
        set(PROPOSALS) | set(XFAIL_PROPOSALS) | {"alias_bomb.yaml", "rulesets/impossible_date.yaml"}
    )
    covered |= {f"rulesets/{name}" for name in set(RULESET_CASES) | RULESETS_RUN}
    covered.add("rulesets/runtime_division_by_zero.yaml")
    assert stored == covered


@pytest.mark.parametrize("name", sorted(PROPOSALS))
def test_bad_proposal(name: str) -> None:
    path = BAD / name
    lines = assert_input_error(invoke("check", path), path)
    assert_located(lines, path, PROPOSALS[name])


@pytest.mark.parametrize("name", ["several_problems.json", "unknown_org_in_agreement.json"])
def test_graph_command_reports_the_same_problems(name: str) -> None:
    path = BAD / name
    by_check = assert_input_error(invoke("check", path), path)
    by_graph = assert_input_error(invoke("graph", path), path)
    assert by_graph == by_check


def test_json_format_still_reports_problems_on_stderr() -> None:
    path = BAD / "several_problems.json"
    result = invoke("check", path, "--format", "json")
    assert len(assert_input_error(result, path)) == 5
    assert result.stdout == ""


def test_directory_as_proposal(tmp_path: Path) -> None:
    lines = assert_input_error(invoke("check", tmp_path), tmp_path)
    assert lines == [f"icorules: {tmp_path}: is a directory, not a file"]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "no-such-bid.json"
    lines = assert_input_error(invoke("check", path), path)
    assert lines == [f"icorules: {path}: no such file"]


def test_good_and_bad_files_together(tmp_path: Path) -> None:
    """The good proposal is still reported; the bad one makes the run exit 2."""
    missing = tmp_path / "missing.json"
    result = invoke("check", BAD / "valid.json", missing, BAD / "array.json")
    lines = assert_input_error(result, missing, BAD / "array.json")
    assert len(lines) == 2
    assert "Riverside integrated care pilot" in result.stdout


def test_deeply_nested_json(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"id": ' + "[" * 10_000 + "]" * 10_000 + "}\n")
    started = time.perf_counter()
    lines = assert_input_error(invoke("check", path), path)
    assert time.perf_counter() - started < 5
    assert len(lines) == 1
    assert f"nesting is deeper than {MAX_DEPTH} levels" in lines[0]


def test_deeply_nested_yaml(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("id: " + "[" * 10_000 + "]" * 10_000 + "\n")
    lines = assert_input_error(invoke("check", path), path)
    assert len(lines) == 1
    assert f"nesting is deeper than {MAX_DEPTH} levels" in lines[0]


def test_nesting_just_over_the_limit(tmp_path: Path) -> None:
    """Not only pathological depths: one level over MAX_DEPTH is refused too."""
    path = tmp_path / "deep.json"
    depth = MAX_DEPTH + 2
    path.write_text('{"pathways": ' + "[" * depth + "]" * depth + "}\n")
    lines = assert_input_error(invoke("check", path), path)
    assert f"nesting is deeper than {MAX_DEPTH} levels" in lines[0]


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:  # sparse: no disk used, and never read
        handle.write(b"{")
        handle.truncate(MAX_BYTES + 1)
    started = time.perf_counter()
    lines = assert_input_error(invoke("check", path), path)
    assert time.perf_counter() - started < 5
    assert lines == [
        f"icorules: {path}: the file is {MAX_BYTES + 1:,} bytes; the limit is {MAX_BYTES:,} bytes"
    ]


@pytest.fixture(scope="module")
def alias_bomb() -> tuple[Result, float]:
    started = time.perf_counter()
    result = invoke("check", BAD / "alias_bomb.yaml")
    return result, time.perf_counter() - started


def test_yaml_alias_bomb_is_refused(alias_bomb: tuple[Result, float]) -> None:
    path = BAD / "alias_bomb.yaml"
    lines = assert_input_error(alias_bomb[0], path)
    assert len(lines) == 1
    assert "values" in lines[0] or "alias" in lines[0]


def test_yaml_alias_bomb_is_refused_quickly(alias_bomb: tuple[Result, float]) -> None:
    assert alias_bomb[0].exit_code == 2
    assert alias_bomb[1] < 1.0


# Behaviour that is wrong today: the expectation is what a user should see.
XFAIL_PROPOSALS: dict[str, tuple[str, Expected]] = {
    "schema_and_reference_problems.json": (
        "LIMITATION: cross-reference checks need a valid model, so the unknown organisation "
        "'GP3' is reported only once the bad list_size is fixed (two runs, not one)",
        [
            (17, 6, ["organisations[1].list_size"]),
            (22, 65, ["agreements[0].parties[2]", "'GP3'"]),
        ],
    ),
}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason))
        for name, (reason, _) in sorted(XFAIL_PROPOSALS.items())
    ],
)
def test_bad_proposal_reported_as_it_should_be(name: str) -> None:
    path = BAD / name
    result = invoke("check", path)
    assert_located(assert_input_error(result, path), path, XFAIL_PROPOSALS[name][1])


@pytest.mark.parametrize(
    "name",
    sorted(n for n in XFAIL_PROPOSALS if n not in PROPOSALS and n != "date_as_number.json"),
)
def test_bad_proposal_exits_2_today(name: str) -> None:
    """Files whose full expectation is xfail still fail cleanly today."""
    path = BAD / name
    assert_input_error(invoke("check", path), path)


def test_impossible_date_in_a_ruleset_is_located() -> None:
    path = RULESETS / "impossible_date.yaml"
    (line,) = assert_input_error(invoke("rules", "check", path), path)
    assert line.startswith(f"icorules: {path}:9:14: invalid value '2008-02-30'"), line


def test_many_unknown_references_are_reported_quickly(tmp_path: Path) -> None:
    data = json.loads((BAD / "valid.json").read_text())
    count = 600
    data["organisations"] += [
        {"id": f"ORG-{i:05d}", "name": f"Organisation {i}", "type": "voluntary_organisation"}
        for i in range(count)
    ]
    data["agreements"][0]["parties"] += [f"ORX-{i:05d}" for i in range(count)]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(data))
    started = time.perf_counter()
    lines = assert_input_error(invoke("check", path), path)
    assert len(lines) == count
    assert time.perf_counter() - started < 2.0


def test_deep_nesting_is_located(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"id": ' + "[" * 10_000 + "]" * 10_000 + "}\n")
    (line,) = assert_input_error(invoke("check", path), path)
    assert line.startswith(f"icorules: {path}:1:")


# -- rulesets -------------------------------------------------------------------------------

RULESET_CASES: dict[str, Expected] = {
    "syntax_error.yaml": [
        (14, 5, ["rule TEST-001", "cannot read the condition", "'(' was never closed", "20"])
    ],
    "function_call.yaml": [(14, 5, ["a function call is not allowed", "character 1"])],
    "attribute.yaml": [(14, 5, ["only 'params.NAME' may use a dot", "character 20"])],
    "dunder_attribute.yaml": [(14, 5, ["undefined parameter 'params.__class__'"])],
    "unknown_field.yaml": [
        (14, 5, ["no field 'evaluaton_years'", "did you mean 'evaluation_years'"])
    ],
    "unknown_fact_kind.yaml": [
        (13, 5, ["unknown fact kind 'proposals'", "did you mean 'proposal'"])
    ],
    "undefined_parameter.yaml": [
        (14, 5, ["undefined parameter 'params.min_yeras'", "did you mean 'min_years'"])
    ],
    "text_vs_number.yaml": [(14, 5, ["'name' is text", "cannot compare it with 3", "8"])],
    "impossible_value.yaml": [
        (14, 5, ["'poold' is never a value of 'budget_model'", "did you mean 'pooled'"])
    ],
    "bad_placeholder.yaml": [
        (15, 5, ["rules[0].message", "'{nmae}' is not a field", "did you mean 'name'"])
    ],
    "stray_brace.yaml": [(16, 5, ["rules[0].fix", "stray brace"])],
    "bad_format_spec.yaml": [(15, 5, ["the format ',' does not suit '{name}'"])],
    "duplicate_rule_id.yaml": [(17, None, ["duplicate rule id 'TEST-001'", "yaml:9"])],
    "missing_key.yaml": [(9, 5, ["rules[0].fix", "required field 'fix' is missing"])],
    "invalid_severity.yaml": [(11, 5, ["'critical'", "error, warning, info"])],
    "tab_indentation.yaml": [(11, 1, ["invalid YAML", "tab"])],
    "not_a_mapping.yaml": [(1, 1, ["a ruleset file is a YAML mapping"])],
}


@pytest.mark.parametrize("how", ["rules check", "check --ruleset"])
@pytest.mark.parametrize("name", sorted(RULESET_CASES))
def test_bad_ruleset(name: str, how: str) -> None:
    path = RULESETS / name
    if how == "rules check":
        result = invoke("rules", "check", path)
    else:
        result = invoke("check", EXAMPLE, "--ruleset", path)
    lines = assert_input_error(result, path)
    assert_located(lines, path, RULESET_CASES[name])
    assert result.stdout == ""


def test_bad_ruleset_directory_reports_every_file(tmp_path: Path) -> None:
    """A directory of rulesets: problems in every file are reported in one run."""
    for name in RULESET_CASES:
        text = (RULESETS / name).read_text()  # a name of its own, so only its problems remain
        (tmp_path / name).write_text(text.replace("tests/bad-input", f"tests/{Path(name).stem}"))
    result = invoke("rules", "check", tmp_path)
    lines = assert_input_error(result, tmp_path)
    for name, expected in RULESET_CASES.items():
        own = [line for line in lines if line.startswith(f"icorules: {tmp_path / name}:")]
        assert_located(own, tmp_path / name, expected)
    assert len(lines) == sum(len(e) for e in RULESET_CASES.values())


def test_missing_ruleset_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    lines = assert_input_error(invoke("check", EXAMPLE, "--ruleset", path), path)
    assert lines == [f"icorules: {path}: no such file"]


def test_several_ruleset_problems_all_reported() -> None:
    path = RULESETS / "several_problems.yaml"
    lines = assert_input_error(invoke("rules", "check", path), path)
    assert_located(
        lines,
        path,
        [(11, 5, ["'fatal'"]), (22, 5, ["TEST-002", "has_board", "True or False"])],
    )


# Rulesets that load (`rules check` passes) but go wrong when a proposal is checked.
RULESETS_RUN = {
    "runtime_date_format.yaml",
    "runtime_integer_division.yaml",
    "given_many.yaml",
    "arithmetic_left.yaml",
    "several_problems.yaml",
}


@pytest.mark.parametrize(
    "name",
    sorted(RULESETS_RUN - {"arithmetic_left.yaml", "several_problems.yaml"}),
)
def test_these_rulesets_load(name: str) -> None:
    result = invoke("rules", "check", RULESETS / name)
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 rule in 1 ruleset: OK\n"


def test_date_format_in_message_does_not_crash() -> None:
    result = invoke("check", BAD / "valid.json", "--ruleset", RULESETS / "runtime_date_format.yaml")
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code == 2:  # refused when loading is also acceptable
        assert_input_error(result, RULESETS / "runtime_date_format.yaml")
    else:
        assert "starts in November 2008" in result.stdout


def test_division_by_a_field_is_refused_when_loading() -> None:
    path = RULESETS / "runtime_division_by_zero.yaml"
    (line,) = assert_input_error(invoke("rules", "check", path), path)
    assert "not by a field (it could be zero)" in line


def test_division_by_zero_does_not_kill_the_process() -> None:
    code = "from icorules.cli import main; main()"
    ruleset = RULESETS / "runtime_division_by_zero.yaml"
    args = [sys.executable, "-c", code, "check", str(EXAMPLE), "--ruleset", str(ruleset)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode in (0, 1, 2, 3), f"killed by signal {-proc.returncode}"
    assert "Traceback" not in proc.stderr


def test_division_is_true_division() -> None:
    ruleset = RULESETS / "runtime_integer_division.yaml"
    result = invoke("check", BAD / "valid.json", "--ruleset", ruleset, "--format", "json")
    fired = {f["subject"]["id"] for f in json.loads(result.stdout)["findings"]}
    assert fired == {"GP1"}  # 1 agreement < 8000 / 7999 = 1.000125


def test_given_does_not_repeat_findings() -> None:
    ruleset = RULESETS / "given_many.yaml"
    result = invoke("check", BAD / "valid.json", "--ruleset", ruleset, "--format", "json")
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule"], f["subject"]["id"]) for f in findings] == [("TEST-001", "riverside")]


def test_arithmetic_on_the_left() -> None:
    path = RULESETS / "arithmetic_left.yaml"
    result = invoke("rules", "check", path)
    if result.exit_code != 0:
        (line,) = assert_input_error(result, path)
        assert "arithmetic" in line.partition("rule TEST-001: ")[2]


# -- options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "words"),
    [
        (
            "max_pct_share=0.5",
            ["no loaded ruleset has a parameter 'max_pct_share'", "'max_pct_population_share'"],
        ),
        ("max_pct_population_share=half", ["max_pct_population_share", "a number", "'half'"]),
        ("min_evaluation_years=2.5", ["min_evaluation_years", "whole number", "'2.5'"]),
        ("expected_start_by=2008-13-01", ["expected_start_by", "2008-12-31", "'2008-13-01'"]),
    ],
)
def test_bad_param(param: str, words: list[str]) -> None:
    result = invoke("check", EXAMPLE, "--param", param)
    (line,) = assert_input_error(result, "--param")
    assert line.startswith("icorules: --param: ")
    assert all(w in line for w in words), line
    assert result.stdout == ""


def test_bad_param_in_rules_check() -> None:
    ruleset = HERE.parent / "rulesets" / "prospectus-2008"
    result = invoke("rules", "check", ruleset, "--param", "min_evaluation_years=three")
    (line,) = assert_input_error(result, "--param")
    assert "'three'" in line


@pytest.mark.parametrize(
    "param",
    [
        "eligible_types=gp_practice,hospital",
        "lead_excluded_types=",
    ],
)
def test_bad_list_param_is_blamed_on_the_option(param: str) -> None:
    result = invoke("check", EXAMPLE, "--param", param)
    if result.exit_code == 0:  # an empty exclusion list may legitimately mean "none"
        return
    lines = assert_input_error(result, "--param")
    assert all(line.startswith("icorules: --param: ") for line in lines), lines


@pytest.mark.parametrize(
    "param", ["eligible_types=gp_practice,hospital", "lead_excluded_types=", "noequals"]
)
def test_bad_list_param_exits_2_today(param: str) -> None:
    result = invoke("check", EXAMPLE, "--param", param)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_param_without_equals_is_a_usage_error() -> None:
    result = invoke("check", EXAMPLE, "--param", "noequals")
    assert result.exit_code == 2
    assert "'noequals' should look like NAME=VALUE" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_format_is_a_usage_error() -> None:
    result = invoke("check", EXAMPLE, "--format", "bogus")
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.stderr
    assert "'bogus'" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
