"""The HTTP API and the workspace: a FastAPI application over a loaded State.

Checks run in worker processes (icorules.service.workers); this process reads request bodies
(counting bytes as they arrive, so a body over the input_bytes limit is refused before it is
all read, let alone parsed), answers the small GET requests from the loaded rules, and serves
the workspace's files from the package.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from importlib import resources
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Query
from fastapi import Request as HttpRequest
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from icorules import __version__
from icorules.errors import Problem, did_you_mean
from icorules.limits import NAMES as LIMIT_NAMES
from icorules.limits import Limits
from icorules.output import FORMATS
from icorules.service.checks import (
    REQUEST,
    BatchEnvelope,
    CheckEnvelope,
    Reply,
    Request,
    error_reply,
    problem_reply,
)
from icorules.service.openapi import (
    ErrorModel,
    Problems,
    body_doc,
    check_responses,
    openapi_document,
)
from icorules.service.state import State
from icorules.service.workers import Workers, check_in_worker, trial_in_worker

if TYPE_CHECKING:
    from icorules.rules.loader import Rule

STATIC = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "index.html": "text/html; charset=utf-8",
}
# The workspace loads nothing from elsewhere; the report is shown in a sandboxed frame whose
# styles are inline (and which may not run scripts).
WORKSPACE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; "
    "form-action 'none'; object-src 'none'"
)
SCHEMAS = ("proposal", "market", "report")


def _reply(reply: Reply) -> Response:
    return Response(reply.body, reply.status, dict(reply.headers), media_type=reply.media_type)


def _static(name: str) -> bytes:
    return resources.files("icorules.service").joinpath("static", name).read_bytes()


def create_app(state: State, workers: int = 2) -> FastAPI:
    """The application; the worker pool starts with it and stops with it.

    The routes are registered in groups, one function each, in the order they are matched and
    listed in /openapi.json. They share the loaded `state` (passed in) and the worker pool
    (`app.state.workers`, there while the application runs).
    """
    app = FastAPI(
        title="icorules",
        version=__version__,
        description="Check integrated care pilot bids against the 2008 prospectus rules. "
        "See docs/service.md.",
        lifespan=_lifespan(state, workers),
        # FastAPI's /docs and /redoc pages load their scripts from a CDN; nothing served here
        # does. /openapi.json opens in any OpenAPI viewer.
        docs_url=None,
        redoc_url=None,
    )
    _add_check_routes(app, state)
    _add_rule_routes(app, state)
    _add_document_routes(app, state)
    _add_workspace_routes(app)
    _add_error_handlers(app)
    app.openapi = functools.partial(openapi_document, app)  # type: ignore[method-assign]
    return app


def _lifespan(state: State, size: int) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start the worker pool with the application and stop it with the application."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.workers = Workers(state, size)
        try:
            yield
        finally:
            workers: Workers = app.state.workers
            del app.state.workers
            workers.close()

    return lifespan


def _workers(request: HttpRequest) -> Workers:
    """The running application's worker pool."""
    workers: Workers = request.app.state.workers
    return workers


def _not_found(message: str) -> Response:
    """A 404 as one located problem in the request."""
    return _reply(problem_reply([Problem(REQUEST, None, None, message)], 404))


async def _body_of(request: HttpRequest, name: str, limits: Limits) -> bytes | Response:
    """The body, read no further than the input_bytes limit."""
    cap = limits.input_bytes
    declared = request.headers.get("content-length", "")
    over = declared.isdigit() and int(declared) > cap
    chunks: list[bytes] = []
    size = 0
    if not over:
        async for chunk in request.stream():
            size += len(chunk)
            if size > cap:
                over = True
                break
            chunks.append(chunk)
    if over:
        found = f"the request body is more than {cap:,} bytes"
        message = limits.exceeded("input_bytes", found)
        return _reply(problem_reply([Problem(name, None, None, message)], 413))
    return b"".join(chunks)


async def _check(request: HttpRequest, limits: Limits, batch: bool) -> Response:
    """Read the body and run the check (one proposal or a batch) in a worker."""
    query = dict(request.query_params)
    body = await _body_of(request, query.get("filename") or REQUEST, limits)
    if isinstance(body, Response):
        return body
    job = Request(body, request.headers.get("content-type", ""), query, batch)
    return _reply(await _workers(request).run(check_in_worker, job))


def _trial_payload(body: bytes) -> dict[str, Any] | Response:
    """The /v1/try body as a JSON object, or the 400 saying why it is not one."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _reply(problem_reply([Problem(REQUEST, None, None, "the body is not JSON")]))
    if not isinstance(payload, dict):
        problem = Problem(REQUEST, None, None, "the body is a JSON object")
        return _reply(problem_reply([problem]))
    return payload


def _add_check_routes(app: FastAPI, state: State) -> None:
    """POST /v1/check, /v1/check/batch and /v1/try: the work done in the worker processes.

    The query parameters of the check routes are declared for the OpenAPI document only; the
    worker reads them from the request (icorules.service.checks).
    """
    limits = state.options.limits

    @app.post(
        "/v1/check",
        summary="Check one proposal",
        responses=check_responses(),
        openapi_extra=body_doc(CheckEnvelope, yaml_too=True),
    )
    async def check_one(
        request: HttpRequest,
        format: str | None = Query(None, description=f"One of: {', '.join(FORMATS)}."),
        filename: str | None = Query(None, description="The name shown in the report."),
        market: str | None = Query(None, description="A market file the server offers."),
        waivers: str | None = Query(None, description="A waiver file the server offers."),
        fail_on: str | None = Query(None, description="error, warning, info or never."),
        rules: str | None = Query(None, description="Report only these rules (GOV-*,MKT-001)."),
        explain: bool = Query(False, description="Explain every finding."),
    ) -> Response:
        """The body is the proposal (JSON or YAML, by content type) or a JSON envelope with
        the proposal and options. Answers with the report; 400 with located problems for
        bad input."""
        return await _check(request, limits, batch=False)

    @app.post(
        "/v1/check/batch",
        summary="Check several proposals",
        responses=check_responses(),
        openapi_extra=body_doc(BatchEnvelope, yaml_too=False),
    )
    async def check_batch(
        request: HttpRequest,
        format: str | None = Query(None, description=f"One of: {', '.join(FORMATS)}."),
        market: str | None = Query(None, description="A market file the server offers."),
        waivers: str | None = Query(None, description="A waiver file the server offers."),
        fail_on: str | None = Query(None, description="error, warning, info or never."),
    ) -> Response:
        """The run's document, as `icorules check` writes it for several files (json: a list
        of reports). If any proposal cannot be read, 400 with the problems of each."""
        return await _check(request, limits, batch=True)

    @app.post(
        "/v1/try",
        summary="Try a draft rule (the workspace)",
        responses={400: {"model": Problems}, 500: {"model": ErrorModel}},
    )
    async def try_rule(request: HttpRequest) -> Response:
        """A draft ruleset (YAML text) loaded, linted and run on example bids, in memory."""
        body = await _body_of(request, REQUEST, limits)
        if isinstance(body, Response):
            return body
        payload = _trial_payload(body)
        if isinstance(payload, Response):
            return payload
        return _reply(await _workers(request).run(trial_in_worker, payload))


def _rule_summary(rule: Rule) -> dict[str, Any]:
    """One entry of GET /v1/rules."""
    from icorules.rules.docs import plain_words

    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity,
        "ruleset": rule.ruleset,
        "fact": rule.fact,
        "source": rule.source,
        "fires_when": plain_words(rule.condition, rule.params),
        "needs_market": rule.needs_market,
    }


def _add_rule_routes(app: FastAPI, state: State) -> None:
    """GET /v1/rules, one rule in full, and a draft ruleset holding a copy of one rule."""
    known = {r.id: r for r in state.bundle.rules}

    def unknown_rule(rule_id: str) -> Response:
        message = f"no loaded rule has the id '{rule_id}'{did_you_mean(rule_id, list(known))}"
        return _not_found(message)

    @app.get("/v1/rules", summary="Every loaded rule")
    def rules_list() -> list[dict[str, Any]]:
        return [_rule_summary(r) for r in state.bundle.rules]

    @app.get("/v1/rules/{rule_id}", summary="One rule in full (as `icorules rules show`)")
    def rule_detail(rule_id: str) -> Any:
        from icorules.rules.docs import rule_details

        if rule_id not in known:
            return unknown_rule(rule_id)
        return rule_details(state.bundle, known[rule_id])

    @app.get(
        "/v1/rules/{rule_id}/draft",
        summary="A draft ruleset holding a copy of the rule (for Try a rule)",
        response_class=Response,
        responses={200: {"content": {"application/yaml": {}}}},
    )
    def rule_draft(rule_id: str) -> Response:
        from icorules.service.trial import rule_draft as draft

        if rule_id not in known:
            return unknown_rule(rule_id)
        text = draft(state.bundle, known[rule_id])
        return Response(text, media_type="application/yaml; charset=utf-8")


def _schema_of(document: str) -> dict[str, Any] | None:
    """The JSON Schema named `document` (one of SCHEMAS), or None."""
    from icorules.inputs.market import market_schema
    from icorules.inputs.proposal_schema import proposal_schema
    from icorules.results.report import report_schema

    found = {"proposal": proposal_schema, "market": market_schema, "report": report_schema}
    return found[document]() if document in found else None


def _settings(state: State) -> dict[str, Any]:
    """What a request may name, and the limits and rules it is checked with."""
    limits = state.options.limits
    return {
        "markets": [{"name": n, "file": f} for n, f in state.market_files.items()],
        "waivers": [{"name": n, "file": f} for n, f in state.waiver_files.items()],
        "examples": list(state.examples),
        "formats": list(FORMATS),
        "fail_on": state.options.fail_on,
        "limits": {n: getattr(limits, n) for n in LIMIT_NAMES},
        "rules": len(state.bundle.rules),
        "rulesets": [{"name": r.name, "version": r.version} for r in state.bundle.rulesets],
    }


def _add_document_routes(app: FastAPI, state: State) -> None:
    """The small GET requests answered from what was loaded: schemas, settings, example bids
    and health."""

    @app.get("/v1/schema/{document}", summary="JSON Schema of a proposal, market or report")
    def schema(document: str) -> Any:
        found = _schema_of(document)
        if found is None:
            return _not_found(f"no schema '{document}'; schemas: {', '.join(SCHEMAS)}")
        return found

    @app.get("/v1/settings", summary="What a request may name: markets, waivers, examples")
    def settings() -> dict[str, Any]:
        return _settings(state)

    @app.get("/v1/examples/{name}", summary="The text of an example bid")
    def example(name: str) -> Response:
        if name not in state.examples:
            return _not_found(f"no example bid named '{name}'{did_you_mean(name, state.examples)}")
        kind = "yaml" if name.endswith((".yaml", ".yml")) else "json"
        return Response(state.examples[name], media_type=f"application/{kind}; charset=utf-8")

    @app.get("/healthz", summary="Is the server up")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "rules": len(state.bundle.rules)}


def _static_response(name: str) -> Response:
    """One of the workspace's files, under its content security policy."""
    if name not in STATIC:
        return Response("not found\n", 404, media_type="text/plain")
    headers = {"Content-Security-Policy": WORKSPACE_POLICY, "X-Content-Type-Options": "nosniff"}
    return Response(_static(name), media_type=STATIC[name], headers=headers)


def _add_workspace_routes(app: FastAPI) -> None:
    """The browser workspace: its page and its files (not in the OpenAPI document)."""

    @app.get("/", include_in_schema=False)
    def workspace() -> Response:
        return _static_response("index.html")

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        return _static_response(name)


def _validation_problem(error: Mapping[str, Any]) -> Problem:
    """A request FastAPI refused (a bad query or path parameter), as a problem in the request."""
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body"))
    return Problem(REQUEST, None, None, where + f": {error.get('msg', 'invalid')}")


def _add_error_handlers(app: FastAPI) -> None:
    """A refused request as 400 with its problems; anything else as a one-line 500."""

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: HttpRequest, exc: RequestValidationError) -> Response:
        return _reply(problem_reply([_validation_problem(e) for e in exc.errors()]))

    @app.exception_handler(Exception)
    async def internal(request: HttpRequest, exc: Exception) -> Response:
        return _reply(error_reply(f"internal error ({type(exc).__name__})"))
