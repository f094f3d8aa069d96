"""`icorules lint`: each lint code is caught, the bundled ruleset is clean, exit codes as check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from icorules.cli import cli
from icorules.rules.lint import CODES, lint_paths, static_verdicts

ROOT = Path(__file__).resolve().parents[1]


def rule(**changes: object) -> dict[str, object]:
    """A rule that lints clean; keys set to None are deleted."""
    base: dict[str, object] = {
        "id": "LOCAL-001",
        "title": "Every care provider sits on the board",
        "severity": "error",
        "cite": [
            {"ref": "northern-2008", "point": "para 4", "quote": "every provider on the board"}
        ],
        "fact": "partner",
        "condition": "provides_care and not on_board",
        "message": "{name} ({id}) provides care but has no seat on the board.",
        "fix": "Add {id} to governance.board.members.",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


NORTHERN = {"northern-2008": {"kind": "guidance", "title": "Northern panel guidance", "date": 2008}}


def write(tmp_path: Path, rules: list[dict[str, object]], **top: object) -> Path:
    top.setdefault("references", NORTHERN)
    data = {"ruleset": "my-team/local", "version": "0.1.0", **top, "rules": rules}
    path = tmp_path / "local.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def codes(path: Path) -> list[tuple[str, str]]:
    return [(f.code, f.message) for f in lint_paths([path])]


def only(path: Path, code: str) -> str:
    found = codes(path)
    assert [c for c, _ in found] == [code], found
    return found[0][1]


def test_bundled_ruleset_lints_clean() -> None:
    result = CliRunner().invoke(cli, ["lint"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "No problems found.\n"
    assert lint_paths([ROOT / "rulesets"]) == []


def test_clean_rule_is_clean(tmp_path: Path) -> None:
    assert codes(write(tmp_path, [rule()])) == []


def test_rl001_malformed_id(tmp_path: Path) -> None:
    message = only(write(tmp_path, [rule(id="local-1")]), "RL001")
    assert "'local-1' is not a rule id" in message
    assert only(write(tmp_path, [rule(id=None)]), "RL001") == "the rule has no id"


def test_rl002_duplicate_id_across_files(tmp_path: Path) -> None:
    write(tmp_path, [rule()])
    (tmp_path / "other.yaml").write_text(
        yaml.safe_dump(
            {
                "ruleset": "my-team/other",
                "version": "1",
                "references": NORTHERN,
                "rules": [rule(condition="provides_care and not in_dispute_procedure")],
            }
        )
    )
    [finding] = lint_paths([tmp_path])
    assert finding.code == "RL002" and finding.file.endswith("other.yaml")
    assert "rule id 'LOCAL-001' is also used at" in finding.message


def test_rl003_missing_citation(tmp_path: Path) -> None:
    none = write(tmp_path, [rule(cite=None)], references={})
    assert "has no citation" in only(none, "RL003")
    assert "has no citation" in only(write(tmp_path, [rule(cite=[])], references={}), "RL003")
    text_only = write(tmp_path, [rule(cite=None, source="Northern panel guidance, para 4.")])
    finding = codes(text_only)
    assert sorted(c for c, _ in finding) == ["RL003", "RL014"]
    assert any("cites no reference, only a 'source' text" in m for _, m in finding)


def test_rl014_unused_reference(tmp_path: Path) -> None:
    spare = {**NORTHERN, "spare-2009": {"kind": "article", "opening": "It began", "date": 2009}}
    message = only(write(tmp_path, [rule()], references=spare), "RL014")
    assert message.startswith("reference 'spare-2009' is declared but no rule cites it")


def test_an_unknown_reference_is_refused_where_it_is_cited(tmp_path: Path) -> None:
    path = write(tmp_path, [rule(cite=[{"ref": "northern-2009", "quote": "x"}])])
    [(code, message)] = [(c, m) for c, m in codes(path) if c != "RL014"]
    assert code == "RL011" and "unknown reference 'northern-2009'" in message
    assert "did you mean 'northern-2008'" in message
    result = CliRunner().invoke(cli, ["rules", "check", str(path)])
    assert result.exit_code == 2
    assert ":13:5: rules[0].cite[0].ref: rule LOCAL-001: unknown reference" in result.stderr


def test_rl004_missing_fix(tmp_path: Path) -> None:
    assert "has no fix hint" in only(write(tmp_path, [rule(fix=None)]), "RL004")


def test_rl005_unused_parameter(tmp_path: Path) -> None:
    params = {"used": {"default": 3}, "spare": {"default": 2}}
    path = write(tmp_path, [rule(condition="list_size > params.used")], parameters=params)
    assert "parameter 'spare' is declared but no rule uses it" in only(path, "RL005")


@pytest.mark.parametrize(
    "condition",
    [
        "list_size > 5 and list_size < 3",
        "type == 'pct' and type == 'school'",
        "on_board and not on_board",
        "3 < list_size < 4",  # whole numbers: nothing lies strictly between 3 and 4
        "type in ['pct', 'school'] and type not in ['pct', 'school']",
    ],
)
def test_rl006_never_true(tmp_path: Path, condition: str) -> None:
    message = only(write(tmp_path, [rule(condition=condition)]), "RL006")
    assert "the condition can never be true" in message and "so the rule never fires" in message


def test_rl006_part_never_true_and_given(tmp_path: Path) -> None:
    path = write(tmp_path, [rule(condition="on_board or (list_size > 5 and list_size < 3)")])
    assert "part of the condition can never be true: list_size > 5 and list_size < 3" in only(
        path, "RL006"
    )
    path = write(tmp_path, [rule(given={"proposal": "practice_count > 3 and practice_count < 2"})])
    assert "the 'given' proposal condition can never be true" in only(path, "RL006")


@pytest.mark.parametrize(
    "condition",
    [
        "list_size > 5 or list_size <= 5",
        "on_board or not on_board",
        "list_size != 1 or list_size != 2",
    ],
)
def test_rl007_always_true(tmp_path: Path, condition: str) -> None:
    message = only(write(tmp_path, [rule(condition=condition)]), "RL007")
    assert "the condition is always true" in message and "every 'partner' fact" in message


def test_rl007_part_always_true_and_choices(tmp_path: Path) -> None:
    path = write(tmp_path, [rule(condition="provides_care and (on_board or not on_board)")])
    assert "part of the condition is always true, so it tests nothing" in only(path, "RL007")
    every = "budget_model in ['indicative_pbc', 'pooled', 'hard', 'none']"
    path = write(tmp_path, [rule(fact="proposal", condition=every, message="m", fix="f")])
    assert "always true" in only(path, "RL007")


def test_absent_values_are_not_always_true(tmp_path: Path) -> None:
    """Any comparison on an absent value is false, so this can fail: no RL007."""
    condition = "implementation_date > params.d or implementation_date <= params.d"
    path = write(
        tmp_path,
        [rule(fact="proposal", condition=condition, message="m", fix="f")],
        parameters={"d": {"default": "2008-12-31"}},
    )
    text = path.read_text().replace("default: '2008-12-31'", "default: 2008-12-31")
    path.write_text(text)
    assert codes(path) == []


def test_what_lint_cannot_prove_is_not_reported() -> None:
    fields = "partner"
    assert static_verdicts("list_size > service_count or list_size <= 5", fields, {}) == []
    assert static_verdicts("list_size > 5 and list_size < 7", fields, {}) == []
    assert static_verdicts("name != 'a' and name != 'b'", fields, {}) == []


def test_rl008_template_field(tmp_path: Path) -> None:
    path = write(tmp_path, [rule(message="{nam} provides care.")])
    assert "'{nam}' is not a field of this fact (did you mean 'name'?)" in only(path, "RL008")
    path = write(tmp_path, [rule(fix="Raise it to {params.nope}.")])
    assert "'{params.nope}' names an undefined parameter" in only(path, "RL008")


def test_rl009_given_kind_never_derived(tmp_path: Path) -> None:
    path = write(tmp_path, [rule(given={"classification": "name == 'integrated'"})])
    message = only(path, "RL009")
    assert "waits for a 'classification' fact with name == 'integrated'" in message
    assert "no loaded rule derives one" in message
    # With the bundled rules, which derive 'vertical', a rule waiting for it is fine ...
    (tmp_path / "v").mkdir()
    vertical = write(tmp_path / "v", [rule(given={"classification": "name == 'vertical'"})])
    assert [f for f in lint_paths([ROOT / "rulesets", vertical]) if f.code == "RL009"] == []
    # ... and one waiting for a value no rule derives is told which values are derived.
    [found] = [f for f in lint_paths([ROOT / "rulesets", path]) if f.code == "RL009"]
    assert "(the loaded rules derive: name: hmo; name: horizontal;" in found.message


def test_rl010_duplicate_condition(tmp_path: Path) -> None:
    copy = rule(id="LOCAL-002", condition="(provides_care) and not on_board")
    message = only(write(tmp_path, [rule(), copy]), "RL010")
    assert message.startswith("rule LOCAL-002 tests the same 'partner' condition as LOCAL-001")


def test_rl011_invalid_rule(tmp_path: Path) -> None:
    path = write(tmp_path, [rule(severity="eror"), rule(id="LOCAL-002", condition="onboard")])
    found = codes(path)
    assert [c for c, _ in found] == ["RL011", "RL011"]
    assert "'eror' is not allowed here (did you mean 'error'?)" in found[0][1]
    assert "'partner' facts have no field 'onboard'" in found[1][1]


def test_rl012_invalid_ruleset(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    data = {"ruleset": "Bad Name", "version": "1", "references": NORTHERN, "rules": [rule()]}
    path.write_text(yaml.safe_dump(data))
    assert "ruleset" in only(path, "RL012")
    path.write_text("- just a list\n")
    assert "a ruleset file is a YAML mapping" in only(path, "RL012")


def test_rl013_changed_without_version(tmp_path: Path) -> None:
    base, new = tmp_path / "base", tmp_path / "new"
    base.mkdir()
    new.mkdir()
    (base / "r.yaml").write_text(
        yaml.safe_dump(
            {"ruleset": "t/r", "version": "1", "references": NORTHERN, "rules": [rule()]}
        )
    )
    changed = rule(condition="not on_board and is_practice")
    (new / "r.yaml").write_text(
        yaml.safe_dump(
            {"ruleset": "t/r", "version": "1", "references": NORTHERN, "rules": [changed]}
        )
    )
    found = [f for f in lint_paths([new], base=[base]) if f.code == "RL013"]
    assert [f.message for f in found] == [
        "rule LOCAL-001 changed (condition) since the base, but ruleset t/r is still version 1: "
        "give it a new version"
    ]
    (new / "r.yaml").write_text(
        yaml.safe_dump(
            {"ruleset": "t/r", "version": "2", "references": NORTHERN, "rules": [changed]}
        )
    )
    assert [f for f in lint_paths([new], base=[base]) if f.code == "RL013"] == []
    assert [f for f in lint_paths([base], base=[base]) if f.code == "RL013"] == []


def test_every_code_is_tested_and_documented() -> None:
    tested = {
        name.split("_")[1].upper()
        for name in globals()
        if name.startswith("test_rl") and name[7:10].isdigit()
    }
    assert tested == set(CODES)
    guide = (ROOT / "docs" / "ruleset-tools.md").read_text()
    for code in CODES.values():
        assert f"`{code.code}`" in guide and code.name in guide


def test_cli_output_exit_codes_and_json(tmp_path: Path) -> None:
    path = write(tmp_path, [rule(fix=None), rule(id="LOCAL-002", condition="on_board and False")])
    result = CliRunner().invoke(cli, ["lint", str(tmp_path)])
    assert result.exit_code == 1
    first, *_, last = result.stdout.splitlines()
    assert first.startswith(f"{path}:") and " RL004 rule LOCAL-001 has no fix hint" in first
    assert last == "2 problems found"
    result = CliRunner().invoke(cli, ["lint", str(path), "--format", "json", "--ignore", "RL004"])
    data = json.loads(result.stdout)
    assert [(d["code"], d["name"], d["rule"]) for d in data] == [
        ("RL011", "invalid-rule", "LOCAL-002")
    ]
    assert {"file", "line", "column", "message"} <= set(data[0])


def test_unreadable_input_and_unknown_code_exit_2(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("rules: [\n")
    result = CliRunner().invoke(cli, ["lint", str(tmp_path)])
    assert result.exit_code == 2 and "invalid YAML" in result.stderr
    result = CliRunner().invoke(cli, ["lint", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2 and "no such file" in result.stderr
    result = CliRunner().invoke(cli, ["lint", "--ignore", "RL05"])
    assert result.exit_code == 2 and "no lint code 'RL05'" in result.stderr


def test_a_condition_too_deep_to_parse_is_reported_not_crashed_on(tmp_path: Path) -> None:
    rule = {
        "id": "DEEP-001",
        "title": "t",
        "severity": "error",
        "cite": [{"note": "n"}],
        "fact": "proposal",
        "condition": "not " * 100_000 + "has_board",
        "message": "m",
        "fix": "f",
    }
    path = tmp_path / "deep.yaml"
    path.write_text(yaml.safe_dump({"ruleset": "deep", "version": "1", "rules": [rule]}))
    result = CliRunner().invoke(cli, ["lint", str(path)])
    assert result.exit_code == 1, result.output
    assert "RL011" in result.stdout and "expression_length limit" in result.stdout
