"""The report stage's shortcuts give what the long way gives: templates parsed once per text
fill in as parsing them each time did, and a bundle's report plan lists the rules not
evaluated as going over the rules for each check did."""

from __future__ import annotations

import pickle
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

import icorules
from icorules.inputs.formats import FORMAT_1_NEEDS
from icorules.results import plan as plan_module
from icorules.results.findings import construct
from icorules.results.plan import report_plan
from icorules.results.report import NO_MARKET, NOT_COVERED, NotEvaluated
from icorules.rules import templates
from icorules.rules.templates import CUT, MAX_MESSAGE_CHARS, PARSED_CHARS, Budget, render

ROOT = Path(__file__).resolve().parent.parent
VALUES = {"name": "Acme", "share": 0.456, "count": 12, "when": None, "flag": "yes"}
PARAMS: dict[str, Any] = {"limit": 0.25, "kinds": ["a", "b"], "n": 3}


def reference_render(template: str, values: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """render as it was before templates were parsed once: parsed as filled in."""
    out: list[str] = []
    size = 0
    for literal, name, spec, conversion in string.Formatter().parse(template):
        pieces = [literal]
        if name is not None:
            problem = templates._shape_problem(name, spec or "", conversion)
            if problem is not None:
                raise ValueError(problem)
            key = name.removeprefix("params.")
            if key != name and key in params:
                value = params[key]
                value = (
                    ", ".join(str(templates.display(v)) for v in value)
                    if isinstance(value, list)
                    else templates.for_message(value)
                )
            elif name in values:
                value = values[name]
            else:
                raise ValueError(f"'{{{name}}}' is not a field or params.NAME")
            try:
                pieces.append(format(value, spec or ""))
            except (TypeError, ValueError):
                pieces.append(str(value))
        for piece in pieces:
            out.append(piece)
            size += len(piece)
        if size > MAX_MESSAGE_CHARS:
            return "".join(out)[:MAX_MESSAGE_CHARS] + CUT.format(limit=MAX_MESSAGE_CHARS)
    return "".join(out)


def outcome(fill: Any, template: str) -> tuple[str, str]:
    try:
        return "text", fill(template, VALUES, PARAMS)
    except ValueError as exc:
        return "error", str(exc)


PIECES = st.sampled_from(
    [
        "{name}",
        "{share:.0%}",
        "{count:>5}",
        "{when:%B %Y}",
        "{params.limit:.0%}",
        "{params.kinds}",
        "{params.n}",
        "{params.missing}",
        "{nothing}",
        "{name!r}",
        "{name[0]}",
        "{name.upper}",
        "{count:>999}",
        "{count:{n}}",
        "{{",
        "}}",
        "{",
        "}",
        "plain text ",
        "x" * 900,
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=12))
@example(["x" * 900] * 3 + ["}"])  # cut before the stray brace is reached
@example(["{name} "] * 1_500)  # past PARSED_CHARS: parsed as filled in
def test_a_template_parsed_once_fills_in_as_parsing_it_each_time_did(parts: list[str]) -> None:
    template = "".join(parts)
    expected = outcome(reference_render, template)
    assert outcome(render, template) == expected
    assert outcome(render, template) == expected  # again, from the parsed copy


def test_a_long_template_is_not_kept() -> None:
    templates._parsed.cache_clear()
    template = "{name} " * (PARSED_CHARS // 7 + 1)
    assert render(template, VALUES, {}) == reference_render(template, VALUES, {})
    assert templates._parsed.cache_info().currsize == 0
    render("{name}", VALUES, {})
    assert templates._parsed.cache_info().currsize == 1


def test_a_budget_is_spent_by_what_a_parsed_template_gives() -> None:
    budget = Budget(100)
    for _ in range(2):
        render("{name} has {count:>5} partners", VALUES, {}, budget)
    assert budget.left == 100 - 2 * len("Acme has    12 partners")


def reference_not_evaluated(
    format_version: int, areas: Sequence[str], reason: str, ignored: Sequence[str]
) -> list[NotEvaluated]:
    """api._not_evaluated as it was, going over the bundle's rules for each check."""
    bundle = icorules.default_rulesets()
    older = [
        construct(
            NotEvaluated, rule=rule.id, reason=f"the proposal is in format 1: {FORMAT_1_NEEDS}"
        )
        for rule in bundle.rules
        if rule.needs_format > format_version and rule.id not in ignored
    ]
    return older + [
        construct(NotEvaluated, rule=rule.id, pct_area=area, reason=reason)
        for rule in bundle.rules
        if rule.needs_market and rule.id not in ignored
        for area in areas
    ]


RULE_IDS = [rule.id for rule in icorules.default_rulesets().rules]


@settings(max_examples=200, deadline=None)
@given(
    format_version=st.sampled_from([1, 2]),
    areas=st.lists(st.sampled_from(["5PX", "5PY", "5QA", "TAK", "5PX "]), max_size=4),
    reason=st.sampled_from([NO_MARKET, NOT_COVERED]),
    ignored=st.lists(st.sampled_from(RULE_IDS), max_size=6),
)
def test_the_plan_lists_the_rules_not_evaluated_as_going_over_the_rules_did(
    format_version: int, areas: list[str], reason: str, ignored: list[str]
) -> None:
    plan = report_plan(icorules.default_rulesets())
    found = plan.not_evaluated(format_version, areas, reason, ignored)
    expected = reference_not_evaluated(format_version, areas, reason, ignored)
    assert [row.model_dump() for row in found] == [row.model_dump() for row in expected]


def test_a_bundle_has_one_plan_and_its_areas_cache_is_bounded(monkeypatch: Any) -> None:
    bundle = icorules.default_rulesets()
    plan = report_plan(bundle)
    assert report_plan(bundle) is plan
    monkeypatch.setattr(plan_module, "AREAS_KEPT", 3)
    plan._areas.clear()
    for area in ["A1", "A2", "A3", "A4", "A5"]:
        plan.not_evaluated(2, [area], NO_MARKET, ())
    assert 0 < len(plan._areas) <= 3
    again = plan.not_evaluated(2, ["A1"], NO_MARKET, ())
    assert [r.model_dump() for r in again] == [
        r.model_dump() for r in reference_not_evaluated(2, ["A1"], NO_MARKET, ())
    ]


def test_an_outcome_comes_back_from_a_worker_as_it_left() -> None:
    from icorules.batch import Settings, _check_one, _init
    from icorules.errors import Problem
    from icorules.results.outcome import Outcome

    _init(Settings(rulesets=icorules.default_rulesets(), render="json"))
    checked = _check_one(str(ROOT / "examples" / "church-view.json"))
    unreadable = Outcome("x.json", problems=(Problem("x.json", 1, 2, "bad"),))
    broken = Outcome("y.json", internal_error="engine", waivers_used=frozenset({1}))
    for sent in (checked, unreadable, broken):
        back = pickle.loads(pickle.dumps(sent))
        assert back == sent
        assert back.summary is None or back.summary.model_dump() == sent.summary.model_dump()
        assert back.proposal is None or back.proposal.__dict__ == sent.proposal.__dict__
        assert type(back.proposal) is type(sent.proposal)
