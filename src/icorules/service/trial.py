""" "Try a rule": a draft ruleset, as text from the workspace, loaded, linted and run on example
bids, all in memory. Nothing here reads a file a request names or writes one.

The draft joins the server's rules: it replaces any loaded rule with the same id and any
loaded ruleset with the same name, so a draft copy of GOV-002 is tried in place of GOV-002,
with the facts other rules derive still there for its `given`. Trials run on the reference
engine (the same compiled rules in plain Python, with the same findings as durable_rules), so
a draft edited on every keystroke registers nothing with durable_rules, which can never drop
a ruleset once registered.

`load_draft` and `lint_draft` use the loader's and linter's internals; they belong in
icorules.rules (a loader entry point for text) and are kept small so they can move there.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from icorules.api import run_check
from icorules.errors import InputError, Problem, did_you_mean
from icorules.inputs.documents import Document, load_document
from icorules.inputs.market import Market
from icorules.limits import Limits
from icorules.rules.docs import plain_words
from icorules.rules.lint import CODES, LintFinding
from icorules.rules.loader import Rule, RuleBundle, Ruleset
from icorules.service.checks import Reply, error_reply, json_reply, parse_text
from icorules.service.problems import input_keys, problem_json
from icorules.service.state import State

DRAFT = "draft.yaml"  # the draft's name in problems and lint findings
PASTED = "pasted bid"
MAX_TRIAL_BIDS = 50


class TrialRequest(BaseModel):
    """POST /v1/try: a draft ruleset and the bids to run it on."""

    model_config = ConfigDict(extra="forbid")
    ruleset: str = Field(description="The draft: the text of a ruleset file (YAML).")
    examples: list[str] = Field(
        default_factory=list, description="Names of example bids the server offers."
    )
    proposal: str | None = Field(None, description="A bid pasted as text (JSON or YAML).")
    market: str | None = Field(None, description="The name of a market file the server offers.")


def load_draft(
    text: str, base: RuleBundle, limits: Limits
) -> tuple[RuleBundle | None, Ruleset | None, list[Problem]]:
    """The draft ruleset `text` loaded in place of what it replaces in `base`: (the bundle to
    run, the draft, problems). The loader's own steps (`_load_one`, `_cross_file_problems`)
    on text instead of a file; a candidate for icorules.rules.loader."""
    from icorules.rules.loader import _cross_file_problems, _load_one

    document = load_document(DRAFT, text=text, limits=limits)  # InputError: not YAML at all
    draft, problems = _load_one(document, {}, limits)
    if draft is None or problems:
        return None, draft, problems
    ids = {r.id for r in draft.rules}
    kept = [
        dataclasses.replace(rs, rules=tuple(r for r in rs.rules if r.id not in ids))
        for rs in base.rulesets
        if rs.name != draft.name
    ]
    rulesets = [*(rs for rs in kept if rs.rules), draft]
    problems = _cross_file_problems(rulesets, {})
    if problems:
        return None, draft, problems
    return RuleBundle(tuple(sorted(rulesets, key=lambda r: r.name))), draft, []


def lint_draft(document: Document, base: Sequence[Document]) -> list[LintFinding]:
    """Lint findings in the draft, linted with the server's ruleset files beside it (so a
    `given` that another file derives is not reported as never produced). The linter's own
    steps on documents instead of paths; a candidate for icorules.rules.lint."""
    from icorules.rules.lint import _Linter

    linter = _Linter()
    linter.lint_document(document)  # first, so a copied rule's twin is reported on the twin
    for other in base:
        linter.lint_document(other)
    linter.cross_checks()
    return sorted(f for f in linter.findings if f.file == document.name)


_base_documents: dict[str, Document] = {}


def _base(state: State, replaced: str | None) -> list[Document]:
    """The server's ruleset files as documents (read once per worker), less the one the
    draft replaces."""
    out = []
    for rs in state.bundle.rulesets:
        if rs.name == replaced:
            continue
        if rs.file not in _base_documents:
            _base_documents[rs.file] = load_document(rs.file)
        out.append(_base_documents[rs.file])
    return out


def handle_trial(state: State, payload: Mapping[str, Any]) -> Reply:
    """Answer POST /v1/try; never raises."""
    try:
        return json_reply(200, run_trial(state, TrialRequest.model_validate(payload)))
    except ValidationError as exc:
        from icorules.inputs.validation import pydantic_problems
        from icorules.service.checks import problem_reply

        return problem_reply(pydantic_problems(exc, TrialRequest, None, "<request>"))
    except InputError as exc:
        from icorules.service.checks import problem_reply

        return problem_reply(exc.problems)
    except Exception as exc:  # a bug: one line, no traceback in the body
        return error_reply(f"internal error ({type(exc).__name__}: {exc})")


def run_trial(state: State, request: TrialRequest) -> dict[str, Any]:
    started = time.perf_counter()
    limits = state.options.limits
    keys = input_keys()
    out: dict[str, Any] = {"loads": False, "rules": [], "problems": [], "lint": [], "results": []}
    try:
        bundle, draft, problems = load_draft(request.ruleset, state.bundle, limits)
    except InputError as exc:
        out["problems"] = [problem_json(p, keys) for p in exc.problems]
        return _timed(out, started)
    out["problems"] = [problem_json(p, keys) for p in problems]
    document = load_document(DRAFT, text=request.ruleset, limits=limits)
    lint = lint_draft(document, _base(state, draft.name if draft else _ruleset_name(document)))
    restated = {"RL011", "RL012"} if problems else set()  # load problems already say these
    out["lint"] = [
        {**f.as_json(), "summary": CODES[f.code].summary} for f in lint if f.code not in restated
    ]
    if bundle is None or draft is None:
        return _timed(out, started)
    out["loads"] = True
    out["rules"] = [_rule_json(r) for r in draft.rules]
    market = _market(state, request.market)
    bids = _bids(state, request, limits)
    ids = [r.id for r in draft.rules]
    for name, source in bids:
        out["results"].append(_try_one(name, source, bundle, market, ids, limits, keys))
    return _timed(out, started)


def _ruleset_name(document: Document) -> str | None:
    data = document.data
    return data.get("ruleset") if isinstance(data, dict) else None


def _timed(out: dict[str, Any], started: float) -> dict[str, Any]:
    out["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return out


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity,
        "fact": rule.fact,
        "fires_when": plain_words(rule.condition, rule.params),
        "needs_market": rule.needs_market,
    }


def _market(state: State, name: str | None) -> Market | None:
    if not name:
        return None
    if name not in state.markets:
        message = f"market: no market file named '{name}'{did_you_mean(name, state.markets)}"
        raise InputError([Problem("<request>", None, None, message)])
    return state.markets[name]


def _bids(
    state: State, request: TrialRequest, limits: Limits
) -> list[tuple[str, Document | InputError]]:
    names = list(dict.fromkeys(request.examples))[:MAX_TRIAL_BIDS]
    bids: list[tuple[str, Document | InputError]] = []
    for name in names:
        if name not in state.examples:
            error = InputError.single(name, f"no example bid named '{name}'")
            bids.append((name, error))
            continue
        bids.append((name, _parsed(name, state.examples[name], limits)))
    if request.proposal and request.proposal.strip():
        bids.append((PASTED, _parsed(PASTED, request.proposal, limits)))
    return bids


def _parsed(name: str, text: str, limits: Limits) -> Document | InputError:
    try:
        return parse_text(name, text, None, limits)
    except InputError as exc:
        return exc


def _try_one(
    name: str,
    source: Document | InputError,
    bundle: RuleBundle,
    market: Market | None,
    ids: Sequence[str],
    limits: Limits,
    keys: set[str],
) -> dict[str, Any]:
    result: dict[str, Any] = {"bid": name, "fired": [], "not_fired": [], "problems": []}
    if isinstance(source, InputError):
        result["problems"] = [problem_json(p, keys) for p in source.problems]
        return result
    try:
        report = run_check(
            source,
            rulesets=bundle,
            market=market,
            engine="reference",
            explain_rules=ids,
            limits=limits,
        ).report
    except InputError as exc:
        result["problems"] = [problem_json(p, keys) for p in exc.problems]
        return result
    wanted = set(ids)
    result["name"] = report.proposal.name
    result["fired"] = [
        json.loads(f.model_dump_json(exclude_none=True))
        for f in report.findings
        if f.rule in wanted
    ]
    result["not_fired"] = [json.loads(e.model_dump_json()) for e in report.explained or []]
    result["not_evaluated"] = [
        json.loads(n.model_dump_json()) for n in report.not_evaluated if n.rule in wanted
    ]
    return result


def rule_draft(bundle: RuleBundle, rule: Rule) -> str:
    """A draft ruleset holding a copy of `rule` as it is written in its file (comments and
    layout kept) and the parameters it uses: the start of "Try a rule"."""
    from icorules.rules.docs import params_used

    ruleset = next(rs for rs in bundle.rulesets if rs.name == rule.ruleset)
    block = _rule_block(rule)
    head = [
        f"# A draft copy of {rule.id} from {rule.ruleset}. In the workspace it replaces",
        f"# {rule.id}; nothing is saved unless you download it.",
        f"ruleset: draft/{rule.ruleset.rsplit('/', 1)[-1]}",
        "version: draft",
    ]
    used = params_used(rule)
    if used:
        declared = {
            name: {
                "default": rule.params[name],
                "description": ruleset.parameter_docs.get(name, ""),
            }
            for name in used
        }
        dumped = yaml.safe_dump(
            declared, sort_keys=False, allow_unicode=True, default_flow_style=None, width=90
        )
        head.append("parameters:")
        head += [f"  {line}" for line in dumped.splitlines()]
    head += _references_cited(ruleset, rule)
    return "\n".join([*head, "rules:", *block]) + "\n"


def _references_cited(ruleset: Ruleset, rule: Rule) -> list[str]:
    """The `references:` lines for the documents the rule cites, as its ruleset declares them."""
    cited = {key for c in rule.cites for key in (c.ref, c.reports) if key}
    documents = {
        key: {k: v for k, v in dataclasses.asdict(ref).items() if v and k != "key"}
        for key, ref in ruleset.references.items()
        if key in cited
    }
    if not documents:
        return []
    dumped = yaml.safe_dump(documents, sort_keys=False, allow_unicode=True, width=90)
    return ["references:", *(f"  {line}" for line in dumped.splitlines())]


def _rule_block(rule: Rule) -> list[str]:
    """The rule's lines in its file, re-indented as the first item of `rules:`."""
    lines = load_document(rule.file).text.splitlines()
    if rule.line is None or rule.line > len(lines):
        raise ValueError(f"{rule.id}: its place in {rule.file} is not known")
    start = rule.line - 1
    first = lines[start]
    dash = first.find("-")
    if dash < 0 or first[:dash].strip():
        raise ValueError(f"{rule.id}: {rule.file}:{rule.line} does not start a list item")
    block = [first]
    for line in lines[start + 1 :]:
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        if (
            body
            and not body.startswith("#")
            and (indent < dash or (indent == dash and body[0] == "-"))
        ):
            break
        block.append(line)
    while block and (not block[-1].strip() or block[-1].lstrip().startswith("#")):
        block.pop()
    shift = 2 - dash
    return [(" " * shift + line) if shift >= 0 else line[-shift:] for line in block]
