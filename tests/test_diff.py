"""`icorules diff OLD NEW`: what a policy team publishes between drafts of a ruleset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from icorules.cli import cli
from icorules.rules.diff import diff_bundles
from icorules.rules.loader import load_rulesets

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "rulesets" / "prospectus-2008"


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    """A copy of the bundled ruleset, edited as a new draft of the prospectus rules."""
    new = tmp_path / "draft"
    shutil.copytree(BUNDLED, new)

    def edit(name: str, old: str, new_text: str) -> None:
        path = new / name
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new_text, 1))

    edit("eligibility.yaml", "version: 1.0.0", "version: 1.1.0")
    edit("eligibility.yaml", "default: 0.6", "default: 0.5")
    # GOV-012 becomes an error; GOV-005's condition is only re-wrapped (not a change)
    edit(
        "governance.yaml",
        "title: Outcome measures are stated\n    severity: warning",
        "title: Outcome measures are stated\n    severity: error",
    )
    edit(
        "governance.yaml",
        "condition: not has_risk_management",
        "condition: >-\n      not (has_risk_management)",
    )
    edit(
        "governance.yaml",
        "condition: not has_it_support",
        "condition: not has_it_support\n      and partner_count > 1",
    )
    # ELIG-007 withdrawn; GOV-099 added
    text = (new / "eligibility.yaml").read_text()
    start = text.index("  - id: ELIG-007")
    end = text.index("  - id:", start + 5)
    (new / "eligibility.yaml").write_text(text[:start] + text[end:])
    with (new / "governance.yaml").open("a") as handle:
        handle.write(
            "\n  - id: GOV-099\n    title: A patient group is a partner\n    severity: info\n"
            "    source: Panel rules.\n    fact: proposal\n    condition: not has_patient_group\n"
            "    message: No patient group is a partner.\n    fix: Consider adding one.\n"
        )
    return new


def test_added_removed_changed_and_parameters(draft: Path) -> None:
    d = diff_bundles(load_rulesets([BUNDLED]), load_rulesets([draft]), "old", "new")
    assert [r.id for r in d.added] == ["GOV-099"]
    assert [r.id for r in d.removed] == ["ELIG-007"]
    changed = {rc.id: [(c.field, c.old, c.new) for c in rc.changes] for rc in d.changed}
    assert changed == {
        "ELIG-003": [("params.max_pct_population_share", "0.6", "0.5")],
        "GOV-008a": [
            ("condition", "not has_it_support", "not has_it_support and partner_count > 1")
        ],
        "GOV-012": [("severity", "warning", "error")],
    }
    assert [(c.field, c.old, c.new) for c in d.rulesets] == [
        ("prospectus-2008/eligibility version", "1.0.0", "1.1.0")
    ]
    assert [(c.field, c.old, c.new) for c in d.parameters] == [
        ("prospectus-2008/eligibility/max_pct_population_share", "0.6", "0.5")
    ]
    assert d.unchanged == 45


def test_identical_rulesets_have_no_changes() -> None:
    d = diff_bundles(load_rulesets([BUNDLED]), load_rulesets(["@bundled"]), "a", "b")
    assert d.empty and d.unchanged == 49


def test_text_output(draft: Path) -> None:
    result = CliRunner().invoke(cli, ["diff", str(BUNDLED), str(draft)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Rules added (1)\n  + GOV-099  info  A patient group is a partner\n" in out
    assert "Rules removed (1)\n  - ELIG-007  warning  Names at least one care category\n" in out
    assert (
        "  ~ GOV-008a  IT support is stated\n      condition:\n        - not has_it_support\n"
        "        + not has_it_support and partner_count > 1\n"
    ) in out
    assert "      severity: warning → error\n" in out
    assert "  prospectus-2008/eligibility version: 1.0.0 → 1.1.0\n" in out
    assert out.endswith("1 added, 1 removed, 3 changed, 45 unchanged\n")


def test_json_and_markdown_output(draft: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["diff", str(BUNDLED), str(draft), "--format", "json"])
    data = json.loads(result.stdout)
    assert data["summary"] == {"added": 1, "removed": 1, "changed": 3, "unchanged": 45}
    assert data["added"][0]["id"] == "GOV-099"
    notes = tmp_path / "changes.md"
    result = CliRunner().invoke(
        cli, ["diff", str(BUNDLED), str(draft), "--format", "markdown", "-o", str(notes)]
    )
    assert result.exit_code == 0
    text = notes.read_text()
    assert text.startswith(f"# Rule changes: {BUNDLED} → {draft}\n")
    assert (
        "| GOV-099 | info | A patient group is a partner | `has_patient_group` is false |" in text
    )
    assert "| ELIG-007 | warning | Names at least one care category |" in text
    assert "| condition | `not has_it_support` | `not has_it_support and partner_count > 1` |" in (
        text
    )


def test_bad_input_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["diff", str(BUNDLED), str(tmp_path / "nothing.yaml")])
    assert result.exit_code == 2 and "no such file" in result.stderr
    (tmp_path / "broken.yaml").write_text("ruleset: x\n")
    result = CliRunner().invoke(cli, ["diff", str(tmp_path / "broken.yaml"), str(BUNDLED)])
    assert result.exit_code == 2
