"""The work of one API request, as a worker process does it: read the body, check each
proposal exactly as `icorules check` does (`run_check`, then the format's renderer), and
answer with bytes, a status and a media type.

Everything here runs in a worker (icorules.service.workers), so the server's own process only
moves bytes. Nothing raises out of `handle`: bad input is a 400 with located problems, a limit
on size a 413, and anything else a 500 with one line and no traceback.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from icorules.api import left_out, run_check
from icorules.engines import EngineError
from icorules.errors import InputError, Problem, did_you_mean
from icorules.inputs.documents import Document, check_data, decode, load_document
from icorules.inputs.market import Market, load_market
from icorules.inputs.validation import pydantic_problems
from icorules.limits import CEILINGS, Limits
from icorules.output import FORMATS, RenderOptions, renderer
from icorules.output.escape import printable, unicode_safe
from icorules.results.outcome import Outcome
from icorules.results.report import FailOn
from icorules.results.waivers import Waiver, load_waivers
from icorules.rules.loader import RuleBundle, load_rulesets
from icorules.service.problems import input_keys, problems_json
from icorules.service.state import State

REQUEST = "<request>"  # the name of a proposal sent with no file name
JSON_TYPES = ("application/json", "text/json")
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
ParamValue = bool | int | float | str | list[bool | int | float | str]
MAX_PARAM_SETS = 16  # bundles kept per worker for requests that change parameters


class CheckOptions(BaseModel):
    """Options of a check, in a JSON envelope (or the query string, for a bare proposal)."""

    model_config = ConfigDict(extra="forbid")
    market: str | dict[str, Any] | None = Field(
        None,
        description="The name of a market file the server offers (GET /v1/settings), or a "
        "market inline. Without it, no market: the rules that need one are not evaluated.",
    )
    waivers: str | dict[str, Any] | None = Field(
        None, description="The name of a waiver file the server offers, or waivers inline."
    )
    params: dict[str, ParamValue] = Field(
        default_factory=dict,
        description="Ruleset parameter overrides, as --param NAME=VALUE.",
    )
    select: list[str] = Field(
        default_factory=list,
        description="Rule-id prefixes to run, as --select (GOV, MKT-00); the others are "
        "listed as ignored.",
    )
    ignore: list[str] = Field(
        default_factory=list,
        description="Rule-id prefixes to leave out, as --ignore; listed as ignored.",
    )
    format: str | None = Field(None, description=f"One of: {', '.join(FORMATS)}. Default json.")
    fail_on: Literal["error", "warning", "info", "never"] | None = Field(
        None, description="The lowest severity that fails the verdict (as --fail-on)."
    )
    explain: bool = Field(False, description="Explain every finding (as --explain).")


class CheckEnvelope(CheckOptions):
    """A proposal with options: POST /v1/check with content type application/json."""

    proposal: str | dict[str, Any] = Field(
        description="The proposal: its text (JSON or YAML; problems then have line and column) "
        "or a JSON object (problems then have only their path)."
    )
    filename: str | None = Field(
        None, description="The name shown in the report and in problems (as --stdin-filename)."
    )


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    proposal: str | dict[str, Any]
    filename: str | None = None


class BatchEnvelope(CheckOptions):
    """Several proposals with options: POST /v1/check/batch."""

    proposals: list[BatchItem] = Field(min_length=1)


@dataclass(frozen=True)
class Request:
    """What the server's process hands a worker: the body, unparsed, and the query."""

    body: bytes
    content_type: str
    query: Mapping[str, str] = field(default_factory=dict)
    batch: bool = False


@dataclass(frozen=True)
class Reply:
    status: int
    media_type: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


def json_reply(status: int, data: Any, headers: Mapping[str, str] | None = None) -> Reply:
    text = unicode_safe(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"
    return Reply(status, "application/json", text.encode(), dict(headers or {}))


def problem_reply(problems: Sequence[Problem], status: int = 400) -> Reply:
    return json_reply(status, problems_json(problems, input_keys()))


def error_reply(message: str) -> Reply:
    """A 500: one line, no traceback."""
    return json_reply(500, {"error": printable(message)})


def too_large(problems: Sequence[Problem]) -> bool:
    return any("the input_bytes limit" in p.message for p in problems)


@dataclass(frozen=True)
class _Job:
    sources: list[tuple[str, Document | dict[str, Any]]]  # (name, proposal)
    options: CheckOptions
    market_given: bool


def handle(state: State, request: Request, bundles: BundleCache) -> Reply:
    """Answer one check request; never raises."""
    try:
        job = _parse(state, request)
        return _run(state, job, request, bundles)
    except InputError as exc:
        return problem_reply(exc.problems, 413 if too_large(exc.problems) else 400)
    except EngineError as exc:
        return error_reply(f"internal error: the rules engine failed ({exc})")
    except Exception as exc:  # a bug: one line, no traceback in the body
        return error_reply(f"internal error ({type(exc).__name__}: {exc})")


def parse_text(
    name: str, text: str, kind: Literal["json", "yaml"] | None, limits: Limits
) -> Document:
    """`text` parsed as `kind` whatever `name` ends with (None: by name, else by content), and
    named `name` in the document and its problems."""
    suffixes = {"json": (".json",), "yaml": (".yaml", ".yml"), None: ()}[kind]
    probe = name
    if kind is not None and PurePath(name).suffix.lower() not in suffixes:
        probe = f"{name}{suffixes[0]}"
    try:
        document = load_document(probe, text=text, limits=limits)
    except InputError as exc:
        raise InputError(
            [dataclasses.replace(p, file=name) if p.file == probe else p for p in exc.problems]
        ) from None
    document.name = name
    return document


def _kind(content_type: str) -> Literal["json", "yaml"] | None:
    base = content_type.split(";", 1)[0].strip().lower()
    if base in JSON_TYPES or base.endswith("+json"):
        return "json"
    if base in YAML_TYPES or base.endswith("+yaml"):
        return "yaml"
    return None


def _roomy(limits: Limits, levels: int) -> Limits:
    """Limits for an envelope: the proposal sits `levels` deeper than in a file of its own."""
    return dataclasses.replace(limits, depth=min(limits.depth + levels, CEILINGS["depth"]))


def _parse(state: State, request: Request) -> _Job:
    limits = state.options.limits
    query = request.query
    name = query.get("filename") or REQUEST
    text = decode(request.body, name)
    kind = _kind(request.content_type)
    try:  # JSON may be an envelope, a few levels deeper than the proposal it carries
        document = parse_text(name, text, kind, _roomy(limits, 3) if kind == "json" else limits)
    except InputError as exc:
        if any("the depth limit" in p.message for p in exc.problems):
            parse_text(name, text, kind, limits)  # raises, quoting the limit as it is set
        raise
    data = document.data
    if request.batch:
        if not (isinstance(data, dict) and "proposals" in data):
            message = (
                "a batch is a JSON object with 'proposals': a list of {'proposal': ..., "
                "'filename': ...}"
            )
            raise InputError([Problem(name, None, None, message)])
        envelope = _validate(BatchEnvelope, document)
        sources = [
            _source(item.proposal, item.filename or f"proposals[{i}]", limits)
            for i, item in enumerate(envelope.proposals)
        ]
        return _Job(sources, _with_query(envelope, query), "market" in envelope.model_fields_set)
    if kind == "json" and isinstance(data, dict) and "proposal" in data:
        single = _validate(CheckEnvelope, document)
        source = _source(single.proposal, single.filename or name, limits)
        return _Job([source], _with_query(single, query), "market" in single.model_fields_set)
    check_data(data, name, limits)  # the envelope's allowance is not the proposal's
    return _Job([(name, document)], _with_query(CheckOptions(), query), False)


def _validate(model: type[CheckOptions], document: Document) -> Any:
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        raise InputError(pydantic_problems(exc, model, document, document.name)) from None


def _source(
    proposal: str | dict[str, Any], name: str, limits: Limits
) -> tuple[str, Document | dict[str, Any]]:
    if isinstance(proposal, str):
        return name, parse_text(name, proposal, None, limits)
    return name, proposal


def _with_query(options: CheckOptions, query: Mapping[str, str]) -> CheckOptions:
    """Options from the query string fill in what the body did not say."""
    given = options.model_fields_set
    update: dict[str, Any] = {}
    for key in ("market", "waivers", "format", "fail_on"):
        if key not in given and query.get(key):
            update[key] = query[key]
    for key in ("select", "ignore"):
        if key not in given and query.get(key):
            update[key] = [r.strip() for r in query[key].split(",") if r.strip()]
    if "explain" not in given and query.get("explain", "").lower() in ("1", "true", "yes"):
        update["explain"] = True
    if not update:
        return options
    try:
        return type(options).model_validate({**options.model_dump(exclude_unset=True), **update})
    except ValidationError as exc:
        raise InputError(pydantic_problems(exc, type(options), None, REQUEST)) from None


class BundleCache:
    """Bundles for requests that change parameters, kept per worker (each distinct set of
    values registers engine rulesets the engine cannot drop, so a few are kept, not all)."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.loaded: dict[tuple[tuple[str, str], ...], RuleBundle] = {}

    def get(self, params: Mapping[str, Any]) -> RuleBundle:
        if not params:
            return self.state.bundle
        merged = {**self.state.options.params, **params}
        key = tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in merged.items()))
        if key not in self.loaded:
            if len(self.loaded) >= MAX_PARAM_SETS:
                self.loaded.pop(next(iter(self.loaded)))
            paths = list(self.state.options.rulesets) or None
            try:
                bundle = load_rulesets(paths, merged, limits=self.state.options.limits)
            except InputError as exc:
                raise InputError([_param_problem(p) for p in exc.problems]) from None
            self.loaded[key] = bundle
        return self.loaded[key]


def _param_problem(problem: Problem) -> Problem:
    if problem.file != "--param":
        return problem
    return Problem(REQUEST, None, None, f"params: {problem.message}")


def _run(state: State, job: _Job, request: Request, bundles: BundleCache) -> Reply:
    options = job.options
    fmt = options.format or "json"
    if fmt not in FORMATS:
        message = f"format: unknown format '{fmt}'{did_you_mean(fmt, FORMATS)}; formats: "
        raise InputError([Problem(REQUEST, None, None, message + ", ".join(FORMATS))])
    chosen = renderer(fmt)
    if chosen.pages and len(job.sources) > 1:
        message = f"format: {fmt} gives a page per proposal; check them one at a time"
        raise InputError([Problem(REQUEST, None, None, message)])
    bundle = bundles.get(options.params)
    market = _market(state, options.market)
    waivers = _waivers(state, options.waivers, bundle)
    try:
        left_out(bundle, options.select, options.ignore)
    except InputError as exc:
        raise InputError([_option_problem(p) for p in exc.problems]) from None
    fail_on: FailOn = options.fail_on or state.options.fail_on
    render = RenderOptions(fail_on=fail_on)
    outcomes: list[Outcome] = []
    problems: list[Problem] = []
    for name, source in job.sources:
        try:
            result = run_check(
                source,
                rulesets=bundle,
                market=market,
                waivers=list(waivers),
                explain=options.explain,
                limits=state.options.limits,
                select=options.select,
                ignore=options.ignore,
            )
        except InputError as exc:
            problems += [_named(p, name) for p in exc.problems]
            continue
        outcomes.append(
            Outcome(
                name,
                proposal=result.report.proposal,
                summary=result.report.summary,
                part=chosen.part(result, render),
                waivers_used=result.waivers_used,
            )
        )
    if problems:
        return problem_reply(problems, 413 if too_large(problems) else 400)
    text = unicode_safe("".join(chosen.document(outcomes, bundle, render)))
    verdicts = {o.verdict(fail_on) for o in outcomes}
    headers = {"X-Icorules-Verdict": "fail" if "fail" in verdicts else "pass"}
    return Reply(200, chosen.media_type, text.encode(), headers)


def _named(problem: Problem, name: str) -> Problem:
    """A proposal sent as an object is `<proposal>` to the library: say which one it was."""
    return dataclasses.replace(problem, file=name) if problem.file == "<proposal>" else problem


def _market(state: State, market: str | dict[str, Any] | None) -> Market | None:
    if market is None:
        return None
    if isinstance(market, dict):
        return load_market(market, limits=state.options.limits)
    if market not in state.markets:
        offered = ", ".join(state.markets) or "none"
        message = f"market: no market file named '{market}'{did_you_mean(market, state.markets)}"
        raise InputError([Problem(REQUEST, None, None, f"{message}; offered: {offered}")])
    return state.markets[market]


def _waivers(
    state: State, waivers: str | dict[str, Any] | None, bundle: RuleBundle
) -> tuple[Waiver, ...]:
    if waivers is None:
        return ()
    if isinstance(waivers, dict):
        return tuple(load_waivers(waivers, bundle, limits=state.options.limits))
    if waivers not in state.waivers:
        offered = ", ".join(state.waivers) or "none"
        message = f"waivers: no waiver file named '{waivers}'{did_you_mean(waivers, state.waivers)}"
        raise InputError([Problem(REQUEST, None, None, f"{message}; offered: {offered}")])
    return state.waivers[waivers]


def _option_problem(problem: Problem) -> Problem:
    """A --select/--ignore problem, in the request's terms."""
    option = problem.file.removeprefix("--")
    return Problem(REQUEST, None, None, f"{option}: {problem.message}")
