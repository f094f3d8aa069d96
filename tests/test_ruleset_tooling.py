"""`icorules rules test` and `icorules rules doc`: the tools policy teams use on rulesets."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from icorules.api import default_rulesets
from icorules.cli import cli
from icorules.rules.reference import rules_markdown
from tests.proposals import edited, remove_party

ROOT = Path(__file__).resolve().parents[1]


def write_cases(tmp_path: Path, cases: str) -> Path:
    bid = edited(lambda p: remove_party(p, "dispute_resolution", "GP3"))
    (tmp_path / "bid.json").write_text(json.dumps(bid))
    path = tmp_path / "governance.test.yaml"
    path.write_text(cases)
    return path


def test_passing_and_failing_cases_are_reported(tmp_path: Path) -> None:
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
    result = CliRunner().invoke(cli, ["rules", "test", str(path)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("PASS") and lines[0].endswith("missing party is caught")
    assert lines[1].startswith("FAIL")
    assert "expected GOV-002 on GP1; it fired on GP3" in result.stdout
    assert "expected GOV-005 to fire; it did not" in result.stdout
    assert "expected GOV-002 not to fire; it fired on GP3" in result.stdout
    assert lines[-1] == "1 passed, 1 failed"


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
    result = CliRunner().invoke(cli, ["rules", "test", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "2 passed, 0 failed"


def test_malformed_test_file_is_an_input_error(tmp_path: Path) -> None:
    path = write_cases(tmp_path, "tests:\n  - name: x\n    proposal: bid.json\n    expekt: []\n")
    result = CliRunner().invoke(cli, ["rules", "test", str(path)])
    assert result.exit_code == 2
    assert "governance.test.yaml:4:5: tests[0].expekt: unknown field 'expekt'" in result.stderr


def test_missing_proposal_names_the_test(tmp_path: Path) -> None:
    path = write_cases(tmp_path, "tests:\n  - name: x\n    proposal: nowhere.json\n")
    result = CliRunner().invoke(cli, ["rules", "test", str(path)])
    assert result.exit_code == 2
    assert "nowhere.json: no such file" in result.stderr and "test 'x'" in result.stderr


def test_test_files_are_not_loaded_as_rulesets(tmp_path: Path) -> None:
    write_cases(tmp_path, "tests: []\n")
    (tmp_path / "r.yaml").write_text(
        (ROOT / "rulesets/prospectus-2008/governance.yaml").read_text()
    )
    result = CliRunner().invoke(cli, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 0, result.output


def test_bundled_ruleset_tests_pass() -> None:
    result = CliRunner().invoke(cli, ["rules", "test", str(ROOT / "rulesets" / "tests")])
    assert result.exit_code == 0, result.output


def test_rule_reference_in_docs_is_up_to_date() -> None:
    """docs/rules.md is generated: regenerate with `icorules rules doc -o docs/rules.md`."""
    assert (ROOT / "docs" / "rules.md").read_text() == rules_markdown(default_rulesets()) + "\n"


def test_rule_reference_lists_every_rule_with_its_source() -> None:
    text = rules_markdown(default_rulesets())
    for rule in default_rulesets().rules:
        assert f"### {rule.id}: {rule.title}" in text
    assert "Only when a `classification` fact has: `name == 'vertical'`" in text
    assert "| `share_of_supply` | 0.25 |" in text


def test_a_misspelt_rule_id_in_a_test_is_an_error(tmp_path: Path) -> None:
    path = write_cases(
        tmp_path, "tests:\n  - name: x\n    proposal: bid.json\n    expect_absent: [GOV-02]\n"
    )
    result = CliRunner().invoke(cli, ["rules", "test", str(path)])
    assert result.exit_code == 2
    assert "no loaded rule has the id 'GOV-02' (did you mean" in result.stderr


def test_a_malformed_rule_id_says_what_form_to_use(tmp_path: Path) -> None:
    text = (ROOT / "rulesets/prospectus-2008/governance.yaml").read_text()
    (tmp_path / "r.yaml").write_text(text.replace("id: GOV-001", "id: gov-1", 1))
    result = CliRunner().invoke(cli, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 2
    assert "'gov-1' is not in the right form: use capital letters, a hyphen" in result.stderr
