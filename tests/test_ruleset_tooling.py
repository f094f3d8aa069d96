"""`icorules test`, `rules show` and `rules docs`: the tools policy teams use on rulesets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from icorules.api import default_rulesets
from icorules.cli import cli
from icorules.rules.docs import plain_words, rules_markdown
from icorules.rules.testing import PatchOp, apply_patch, run_suite
from tests.proposals import clean_proposal, edited, remove_party

ROOT = Path(__file__).resolve().parents[1]
BUNDLED_TESTS = ROOT / "rulesets" / "tests"


def write_cases(tmp_path: Path, cases: str) -> Path:
    bid = edited(lambda p: remove_party(p, "dispute_resolution", "GP3"))
    (tmp_path / "bid.json").write_text(json.dumps(bid))
    path = tmp_path / "governance.test.yaml"
    path.write_text(cases)
    return path


def test_passing_and_failing_cases_are_reported_with_a_diff(tmp_path: Path) -> None:
    path = write_cases(
        tmp_path,
        """\
tests:
  - name: missing party is caught
    proposal: bid.json
    expect: [{rule: GOV-002, subject: GP3}]
    expect_absent: [GOV-001]
  - name: wrong expectation
    proposal: bid.json
    expect: [{rule: GOV-002, subject: GP1}, {rule: GOV-005}]
    expect_absent: [GOV-002]
""",
    )
    result = CliRunner().invoke(cli, ["test", str(path)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("PASS") and lines[0].endswith("missing party is caught")
    assert lines[1].startswith("FAIL") and ":6  wrong expectation" in lines[1]
    assert lines[2:6] == [
        "      - GOV-002 on GP1  expected; it fired on GP3",
        "      - GOV-005         expected; it did not fire",
        "      + GOV-002 on GP3  fired; expected not to",
        "      all findings: GOV-002 on GP3, CLASS-001 on clean-bid",
    ]
    assert "1 passed, 1 failed" in lines


def test_rules_test_is_kept_as_an_alias(tmp_path: Path) -> None:
    path = write_cases(tmp_path, "tests:\n  - name: x\n    proposal: bid.json\n")
    result = CliRunner().invoke(cli, ["rules", "test", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.stdout
    assert "test" not in CliRunner().invoke(cli, ["rules", "--help"]).stdout.split("Commands:")[1]


def test_inline_proposal_and_params(tmp_path: Path) -> None:
    bid = edited(lambda p: p["pct_areas"][0].update(population=34_000))
    path = tmp_path / "size.test.yaml"
    path.write_text(
        json.dumps(
            {
                "tests": [
                    {"name": "59% passes at 60%", "proposal": bid, "expect_absent": ["ELIG-003"]},
                    {
                        "name": "59% fails at 50%",
                        "proposal": bid,
                        "params": {"max_pct_population_share": 0.5},
                        "expect": [{"rule": "ELIG-003"}],
                    },
                ]
            }
        )
    )
    result = CliRunner().invoke(cli, ["test", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.stdout.splitlines()


def test_named_base_proposal_with_patch(tmp_path: Path) -> None:
    path = tmp_path / "patched.test.yaml"
    path.write_text(
        json.dumps(
            {
                "proposals": {"riverside": clean_proposal()},
                "tests": [
                    {
                        "name": "patched",
                        "proposal": "riverside",
                        "patch": [
                            {"remove": "governance.dispute_resolution.parties[GP3]"},
                            {"set": "organisations[GP2].list_size", "value": 0},
                        ],
                        "expect": [
                            {"rule": "GOV-002", "subject": "GP3"},
                            {"rule": "ELIG-001a", "subject": "GP2"},
                        ],
                    },
                    {
                        "name": "the base is not changed",
                        "proposal": "riverside",
                        "expect_absent": ["GOV-002", "ELIG-001a"],
                    },
                ],
            }
        )
    )
    run = run_suite([path], None)
    assert [r.passed for r in run.results] == [True, True]


def test_patch_operations() -> None:
    p = clean_proposal()
    apply_patch(p, PatchOp(set="governance.budget.risk_sharing.parties", value=["GP1"]))
    assert p["governance"]["budget"] == {
        "model": "indicative_pbc",
        "risk_sharing": {"parties": ["GP1"]},
    }
    apply_patch(p, PatchOp(remove="organisations[GP?]"))
    assert [o["id"] for o in p["organisations"]] == ["PCT1", "LA1"]
    apply_patch(p, PatchOp(remove="governance.board.members[LA1]"))
    assert {"organisation": "LA1"} not in p["governance"]["board"]["members"]
    apply_patch(p, PatchOp(append="agreements[A1].parties", value="X1"))
    assert p["agreements"][0]["parties"][-1] == "X1"
    apply_patch(p, PatchOp(set="pct_areas[0].population", value=1))
    assert p["pct_areas"][0]["population"] == 1
    with pytest.raises(Exception, match="names nothing"):
        apply_patch(p, PatchOp(remove="organisations[NOPE]"))
    with pytest.raises(ValueError, match="exactly one of set, remove or append"):
        PatchOp.model_validate({"set": "a", "remove": "b", "value": 1})
    with pytest.raises(ValueError, match="needs a value"):
        PatchOp.model_validate({"set": "a"})


def test_a_patch_that_names_nothing_is_located(tmp_path: Path) -> None:
    path = write_cases(
        tmp_path,
        "tests:\n  - name: x\n    proposal: bid.json\n    patch:\n"
        "      - {remove: 'organisations[GP9]'}\n",
    )
    result = CliRunner().invoke(cli, ["test", str(path)])
    assert result.exit_code == 2
    assert "tests[0].patch[0]: 'organisations[GP9]' names nothing" in result.stderr


def test_malformed_test_file_is_an_input_error(tmp_path: Path) -> None:
    path = write_cases(tmp_path, "tests:\n  - name: x\n    proposal: bid.json\n    expekt: []\n")
    result = CliRunner().invoke(cli, ["test", str(path)])
    assert result.exit_code == 2
    assert "governance.test.yaml:4:5: tests[0].expekt: unknown field 'expekt'" in result.stderr


def test_missing_proposal_names_the_test(tmp_path: Path) -> None:
    path = write_cases(tmp_path, "tests:\n  - name: x\n    proposal: nowhere.json\n")
    result = CliRunner().invoke(cli, ["test", str(path)])
    assert result.exit_code == 2
    assert "nowhere.json: no such file" in result.stderr and "test 'x'" in result.stderr


def test_test_files_are_not_loaded_as_rulesets(tmp_path: Path) -> None:
    write_cases(tmp_path, "tests: []\n")
    (tmp_path / "r.yaml").write_text(
        (ROOT / "rulesets/prospectus-2008/governance.yaml").read_text()
    )
    result = CliRunner().invoke(cli, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 0, result.output


def test_a_misspelt_rule_id_in_a_test_is_an_error(tmp_path: Path) -> None:
    path = write_cases(
        tmp_path, "tests:\n  - name: x\n    proposal: bid.json\n    expect_absent: [GOV-02]\n"
    )
    result = CliRunner().invoke(cli, ["test", str(path)])
    assert result.exit_code == 2
    assert "no loaded rule has the id 'GOV-02' (did you mean" in result.stderr


# -- coverage -------------------------------------------------------------------------------


def test_bundled_cases_pass_with_full_coverage_both_ways() -> None:
    run = run_suite([BUNDLED_TESTS], None)
    assert [r.name for r in run.results if not r.passed] == []
    assert run.coverage.never_fired == []
    assert run.coverage.never_passed == []
    assert len(run.coverage.rules) == len(default_rulesets().rules)


def test_icorules_test_without_a_path_runs_the_bundled_cases() -> None:
    result = CliRunner().invoke(cli, ["test", "--min-coverage", "100"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "Rule coverage of 49 rules: 100.0% fire in some case, 100.0% pass in some case"
    )


def test_coverage_gaps_are_listed_and_min_coverage_fails(tmp_path: Path) -> None:
    path = write_cases(
        tmp_path,
        "tests:\n  - name: x\n    proposal: bid.json\n    expect: [{rule: GOV-002}]\n",
    )
    result = CliRunner().invoke(cli, ["test", str(path)])
    assert result.exit_code == 0, result.output  # no threshold: coverage is only reported
    assert "  never fire: CHOICE-001," in result.stdout
    # GOV-002 fired, so it never passed; CHOICE-003a's `given` (a vertical pilot) never held,
    # so it was never tested and does not count as passing either.
    never_pass = next(x for x in result.stdout.splitlines() if "never pass" in x)
    assert "GOV-002" in never_pass and "CHOICE-003a" in never_pass
    assert "GOV-001" not in never_pass
    result = CliRunner().invoke(cli, ["test", str(path), "--min-coverage", "50"])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "Coverage is below --min-coverage 50%."


def test_json_output(tmp_path: Path) -> None:
    path = write_cases(
        tmp_path,
        "tests:\n  - name: x\n    proposal: bid.json\n"
        "    expect: [{rule: GOV-002, subject: GP1}]\n",
    )
    result = CliRunner().invoke(
        cli, ["test", str(path), "--format", "json", "--min-coverage", "10"]
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    [case] = data["cases"]
    assert case["passed"] is False and case["line"] == 2
    assert case["missing"] == [{"rule": "GOV-002", "subject": "GP1", "fired_on": ["GP3"]}]
    assert data["summary"] == {"passed": 0, "failed": 1}
    assert data["coverage"]["rules"] == 49 and data["coverage"]["meets_minimum"] is False
    assert "GOV-002" in data["coverage"]["never_passed"]


# -- rules show and rules docs --------------------------------------------------------------


def test_rules_show_gives_text_citation_params_and_fields() -> None:
    result = CliRunner().invoke(cli, ["rules", "show", "GOV-003a"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("GOV-003a  The clinical lead is a clinician\n")
    assert "  severity:     error" in out
    assert 'source:       Dr Gerard Panting, untitled article beginning "Dr Gerard Panting' in out
    assert '(outlet not stated, 2009): "will be clinically led" — Helen Crump' in out
    assert (
        "fires when:   has_clinical_lead is true and clinical_lead_profession is not one of" in out
    )
    assert "params.clinical_professions = gp, hospital_doctor, nurse" in out
    assert "proposal.clinical_lead_profession (text): The clinical lead's profession" in out
    assert "fix:          Name a clinician as clinical lead" in out


def test_rules_show_json_uses_overridden_parameters() -> None:
    result = CliRunner().invoke(
        cli, ["rules", "show", "ELIG-003", "-p", "max_pct_population_share=0.5", "--format", "json"]
    )
    data = json.loads(result.stdout)
    assert data["parameters"] == [
        {
            "name": "max_pct_population_share",
            "value": 0.5,
            "unit": "share",
            "in_words": "0.5 (a share of 1: 50%)",
            "meaning": "Largest share of a PCT's population the pilot may cover in that PCT area. "
            "The default is this ruleset's own choice: its source says only that every scheme is "
            "smaller than its PCT area.",
        }
    ]
    assert [r["field"] for r in data["reads"]] == ["registered_population", "population_share"]


def test_rules_show_lists_given_fields_and_rejects_unknown_ids() -> None:
    data = json.loads(
        CliRunner().invoke(cli, ["rules", "show", "GOV-002", "--format", "json"]).stdout
    )
    assert {"fact": "proposal", "field": "has_dispute_procedure"}.items() <= data["reads"][
        1
    ].items()
    result = CliRunner().invoke(cli, ["rules", "show", "GOV-02"])
    assert result.exit_code == 2
    assert "no loaded rule has the id 'GOV-02'" in result.stderr


def test_plain_words() -> None:
    assert plain_words("not has_board", {}) == "has_board is false"
    assert (
        plain_words("params.lo <= hhi <= params.hi and x != 'a'", {"lo": 1, "hi": 2})
        == "hhi is at least params.lo (1) and at most params.hi (2) and x is not 'a'"
    )
    assert plain_words("a or (b and 5 < n)", {}) == "a is true or (b is true and n is more than 5)"
    assert plain_words("not (a or b)", {}) == "none of these holds: (a is true; b is true)"


def test_rule_reference_in_docs_is_up_to_date() -> None:
    """docs/rules.md is generated: regenerate with `icorules rules docs -o docs/rules.md`."""
    assert (ROOT / "docs" / "rules.md").read_text() == rules_markdown(default_rulesets()) + "\n"


def test_rule_reference_lists_every_rule_with_its_source_words_and_fix() -> None:
    text = rules_markdown(default_rulesets())
    for rule in default_rulesets().rules:
        assert f"### {rule.id}: {rule.title}" in text
        assert f"- Fix: {' '.join(rule.fix.split())}" in text
    assert "- Applies only when a `classification` fact has: `name` is 'vertical'." in text
    assert "- Fires when: `has_dispute_procedure` is false." in text
    assert "| `share_of_supply` | 0.25 |" in text


def test_rules_doc_is_a_hidden_alias_of_rules_docs() -> None:
    docs = CliRunner().invoke(cli, ["rules", "docs"]).stdout
    assert CliRunner().invoke(cli, ["rules", "doc"]).stdout == docs
    listed = CliRunner().invoke(cli, ["rules", "--help"]).stdout
    assert "docs " in listed and "doc " not in listed


def test_a_malformed_rule_id_says_what_form_to_use(tmp_path: Path) -> None:
    text = (ROOT / "rulesets/prospectus-2008/governance.yaml").read_text()
    (tmp_path / "r.yaml").write_text(text.replace("id: GOV-001", "id: gov-1", 1))
    result = CliRunner().invoke(cli, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 2
    assert "'gov-1' is not in the right form: use capital letters, a hyphen" in result.stderr
