"""Ruleset parameters carry a unit and a range, checked at load and on every override, the same
way from the command line, a settings file and Python."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import icorules
from icorules.cli import cli
from icorules.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
BID = ROOT / "examples" / "south-lakeland.json"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_a_percentage_given_for_a_share_is_refused_with_what_to_write() -> None:
    code, out, err = run("check", BID, "--param", "max_pct_population_share=50")
    assert code == 2 and out == ""
    assert err == (
        "icorules: --param: max_pct_population_share: 50 is more than 1: a share is a fraction "
        "of 1, so write 0.5 for 50% (0.5 means 50%)\n"
    )


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"max_pct_population_share": 50}, "write 0.5 for 50%"),
        ({"min_evaluation_years": 3.7}, "expected a whole number, got"),
        ({"min_evaluation_years": 0}, "0 is below the least allowed, 1"),
        ({"hhi_high": 12000}, "12000 is above the most allowed, 10000"),
        ({"expected_start_by": "2009-02-30"}, "expected a date like 2008-12-31"),
    ],
)
def test_the_library_refuses_what_the_command_line_refuses(
    params: dict[str, object], words: str
) -> None:
    with pytest.raises(InputError) as raised:
        icorules.load_rulesets(params=params)
    assert words in str(raised.value)
    with pytest.raises(InputError):
        icorules.check(BID, params=params)
    ((name, value),) = params.items()
    code, _, err = run("check", BID, "--param", f"{name}={value}")
    assert code == 2 and words in err


def test_in_range_overrides_are_kept_as_their_unit() -> None:
    bundle = icorules.load_rulesets(params={"min_evaluation_years": "4", "share_of_supply": "0.3"})
    values = {name: v for rs in bundle.rulesets for name, v in rs.parameters.items()}
    assert values["min_evaluation_years"] == 4 and isinstance(values["min_evaluation_years"], int)
    assert values["share_of_supply"] == 0.3


def test_a_default_that_does_not_fit_its_unit_is_refused_where_it_is_written(
    tmp_path: Path,
) -> None:
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(
        "ruleset: t/units\nversion: '1'\nparameters:\n"
        "  share:\n    default: 25\n    unit: share\n"
        "  names:\n    default: [a]\n    unit: list\n    min: 1\n"
        "  years:\n    default: 3\n    unit: count\n    min: 5\n    max: 2\n"
        "rules:\n  - id: T-001\n    title: t\n    severity: info\n    source: s\n"
        "    fact: proposal\n    condition: registered_population > 0\n"
        "    message: m\n    fix: f\n"
    )
    with pytest.raises(InputError) as raised:
        icorules.load_rulesets([ruleset])
    assert [str(p) for p in raised.value.problems] == [
        f"{ruleset}:5:5: parameters.share.default: the default does not fit the unit share "
        "(a share of 1 (0.6 means 60%)): 25 is more than 1: a share is a fraction of 1, so write "
        "0.25 for 25% (0.5 means 50%)",
        f"{ruleset}:7:3: parameters.names: min and max are for numbers; 'names' is list",
        f"{ruleset}:11:3: parameters.years: min (5) is above max (2)",
    ]


def test_rules_show_and_docs_give_each_parameters_unit() -> None:
    _, shown, _ = run("rules", "show", "ELIG-003")
    assert "params.max_pct_population_share = 0.6 (a share of 1: 60%)" in shown
    _, docs, _ = run("rules", "docs")
    assert "| `min_evaluation_years` | 3 | a whole number, from 1 to 20 |" in docs
    assert "| `hhi_high` | 2000 | HHI points, 0 to 10,000 |" in docs
