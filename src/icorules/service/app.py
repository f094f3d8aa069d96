"""The HTTP API and the workspace: a FastAPI application over a loaded State.

Checks run in worker processes (icorules.service.workers); this process reads request bodies
(counting bytes as they arrive, so a body over the input_bytes limit is refused before it is
all read, let alone parsed), answers the small GET requests from the loaded rules, and serves
the workspace's files from the package.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from importlib import resources
from typing import Any

from fastapi import FastAPI, Query
from fastapi import Request as HttpRequest
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field

from icorules import __version__
from icorules.errors import Problem, did_you_mean
from icorules.limits import NAMES as LIMIT_NAMES
from icorules.output import FORMATS, renderer
from icorules.service.checks import (
    REQUEST,
    BatchEnvelope,
    CheckEnvelope,
    Reply,
    Request,
    error_reply,
    problem_reply,
)
from icorules.service.state import State
from icorules.service.workers import Workers, check_in_worker, trial_in_worker

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


class ProblemModel(BaseModel):
    file: str = Field(description="The input the problem is in (a file name, or <request>).")
    line: int | None = None
    column: int | None = None
    path: str | None = Field(None, description="The JSON path in the input, where known.")
    message: str
    text: str = Field(description="The line `icorules check` prints for it.")


class Problems(BaseModel):
    """Bad input (400), or input over a limit (413): every problem found, located."""

    problems: list[ProblemModel]


class ErrorModel(BaseModel):
    """An internal error (500): one line, no traceback."""

    error: str


def _reply(reply: Reply) -> Response:
    return Response(reply.body, reply.status, dict(reply.headers), media_type=reply.media_type)


def _static(name: str) -> bytes:
    return resources.files("icorules.service").joinpath("static", name).read_bytes()


def _check_responses() -> dict[int | str, dict[str, Any]]:
    media = {renderer(f).media_type.split(";")[0] for f in FORMATS}
    return {
        200: {
            "description": "The report, in the format asked for (json by default: the same "
            "bytes as `icorules check FILE --format json`). X-Icorules-Verdict says pass or "
            "fail.",
            "content": {m: {} for m in sorted(media)},
        },
        400: {"model": Problems, "description": "Bad input: every problem, located."},
        413: {"model": Problems, "description": "The body is over the input_bytes limit."},
        500: {"model": ErrorModel, "description": "An internal error."},
    }


def _body_doc(model: type[BaseModel], yaml_too: bool) -> dict[str, Any]:
    content: dict[str, Any] = {
        "application/json": {
            "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
            if not yaml_too
            else {
                "anyOf": [
                    {"$ref": "#/components/schemas/Proposal"},
                    {"$ref": f"#/components/schemas/{model.__name__}"},
                ]
            }
        }
    }
    if yaml_too:
        content["application/yaml"] = {"schema": {"$ref": "#/components/schemas/Proposal"}}
    return {"requestBody": {"required": True, "content": content}}


def create_app(state: State, workers: int = 2) -> FastAPI:
    """The application; the worker pool starts with it and stops with it."""
    limits = state.options.limits
    pool: dict[str, Workers] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool["workers"] = Workers(state, workers)
        try:
            yield
        finally:
            pool.pop("workers").close()

    app = FastAPI(
        title="icorules",
        version=__version__,
        description="Check integrated care pilot bids against the 2008 prospectus rules. "
        "See docs/service.md.",
        lifespan=lifespan,
        # FastAPI's /docs and /redoc pages load their scripts from a CDN; nothing served here
        # does. /openapi.json opens in any OpenAPI viewer.
        docs_url=None,
        redoc_url=None,
    )

    async def body_of(request: HttpRequest, name: str) -> bytes | Response:
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

    async def check(request: HttpRequest, batch: bool) -> Response:
        query = dict(request.query_params)
        body = await body_of(request, query.get("filename") or REQUEST)
        if isinstance(body, Response):
            return body
        job = Request(body, request.headers.get("content-type", ""), query, batch)
        return _reply(await pool["workers"].run(check_in_worker, job))

    @app.post(
        "/v1/check",
        summary="Check one proposal",
        responses=_check_responses(),
        openapi_extra=_body_doc(CheckEnvelope, yaml_too=True),
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
        return await check(request, batch=False)

    @app.post(
        "/v1/check/batch",
        summary="Check several proposals",
        responses=_check_responses(),
        openapi_extra=_body_doc(BatchEnvelope, yaml_too=False),
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
        return await check(request, batch=True)

    @app.post(
        "/v1/try",
        summary="Try a draft rule (the workspace)",
        responses={400: {"model": Problems}, 500: {"model": ErrorModel}},
    )
    async def try_rule(request: HttpRequest) -> Response:
        """A draft ruleset (YAML text) loaded, linted and run on example bids, in memory."""
        body = await body_of(request, REQUEST)
        if isinstance(body, Response):
            return body
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            problem = Problem(REQUEST, None, None, "the body is not JSON")
            return _reply(problem_reply([problem]))
        if not isinstance(payload, dict):
            problem = Problem(REQUEST, None, None, "the body is a JSON object")
            return _reply(problem_reply([problem]))
        return _reply(await pool["workers"].run(trial_in_worker, payload))

    @app.get("/v1/rules", summary="Every loaded rule")
    def rules_list() -> list[dict[str, Any]]:
        from icorules.rules.docs import plain_words

        return [
            {
                "id": r.id,
                "title": r.title,
                "severity": r.severity,
                "ruleset": r.ruleset,
                "fact": r.fact,
                "source": r.source,
                "fires_when": plain_words(r.condition, r.params),
                "needs_market": r.needs_market,
            }
            for r in state.bundle.rules
        ]

    def unknown_rule(rule_id: str) -> Response:
        ids = [r.id for r in state.bundle.rules]
        message = f"no loaded rule has the id '{rule_id}'{did_you_mean(rule_id, ids)}"
        return _reply(problem_reply([Problem(REQUEST, None, None, message)], 404))

    @app.get("/v1/rules/{rule_id}", summary="One rule in full (as `icorules rules show`)")
    def rule_detail(rule_id: str) -> Any:
        from icorules.rules.docs import rule_details

        known = {r.id: r for r in state.bundle.rules}
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

        known = {r.id: r for r in state.bundle.rules}
        if rule_id not in known:
            return unknown_rule(rule_id)
        text = draft(state.bundle, known[rule_id])
        return Response(text, media_type="application/yaml; charset=utf-8")

    @app.get("/v1/schema/{document}", summary="JSON Schema of a proposal, market or report")
    def schema(document: str) -> Any:
        from icorules.inputs.market import market_schema
        from icorules.inputs.proposal import proposal_schema
        from icorules.results.report import report_schema

        found = {"proposal": proposal_schema, "market": market_schema, "report": report_schema}
        if document not in found:
            message = f"no schema '{document}'; schemas: {', '.join(SCHEMAS)}"
            return _reply(problem_reply([Problem(REQUEST, None, None, message)], 404))
        return found[document]()

    @app.get("/v1/settings", summary="What a request may name: markets, waivers, examples")
    def settings() -> dict[str, Any]:
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

    @app.get("/v1/examples/{name}", summary="The text of an example bid")
    def example(name: str) -> Response:
        if name not in state.examples:
            message = f"no example bid named '{name}'{did_you_mean(name, state.examples)}"
            return _reply(problem_reply([Problem(REQUEST, None, None, message)], 404))
        kind = "yaml" if name.endswith((".yaml", ".yml")) else "json"
        return Response(state.examples[name], media_type=f"application/{kind}; charset=utf-8")

    @app.get("/healthz", summary="Is the server up")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "rules": len(state.bundle.rules)}

    @app.get("/", include_in_schema=False)
    def workspace() -> Response:
        return static_file("index.html")

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        if name not in STATIC:
            return Response("not found\n", 404, media_type="text/plain")
        headers = {"Content-Security-Policy": WORKSPACE_POLICY, "X-Content-Type-Options": "nosniff"}
        return Response(_static(name), media_type=STATIC[name], headers=headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: HttpRequest, exc: RequestValidationError) -> Response:
        problems = [
            Problem(
                REQUEST,
                None,
                None,
                ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path", "body"))
                + f": {e.get('msg', 'invalid')}",
            )
            for e in exc.errors()
        ]
        return _reply(problem_reply(problems))

    @app.exception_handler(Exception)
    async def internal(request: HttpRequest, exc: Exception) -> Response:
        return _reply(error_reply(f"internal error ({type(exc).__name__})"))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            spec.setdefault("components", {}).setdefault("schemas", {}).update(_models())
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _models() -> Mapping[str, Any]:
    """The request and report models as OpenAPI components (from the pydantic models)."""
    from icorules.inputs.market import Market
    from icorules.inputs.proposal import Proposal
    from icorules.results.report import Report
    from icorules.service.trial import TrialRequest

    template = "#/components/schemas/{model}"
    out: dict[str, Any] = {}
    for model in (Proposal, Market, Report, CheckEnvelope, BatchEnvelope, TrialRequest):
        schema = model.model_json_schema(ref_template=template)
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out
