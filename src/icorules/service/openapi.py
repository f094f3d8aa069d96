"""The service's OpenAPI document: the models of its answers, the request bodies FastAPI cannot
see (the check routes read the body raw, so that its size is counted as it arrives) and the
request and report models as components.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from icorules.output import FORMATS, renderer
from icorules.service.checks import BatchEnvelope, CheckEnvelope


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


def check_responses() -> dict[int | str, dict[str, Any]]:
    """The answers of the check routes: the report in any format, or problems, or an error."""
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


def body_doc(model: type[BaseModel], yaml_too: bool) -> dict[str, Any]:
    """The request body of a check route, which FastAPI cannot see: the route reads it raw."""
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


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the request and report models as components (made once)."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        spec = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        spec.setdefault("components", {}).setdefault("schemas", {}).update(component_models())
        app.openapi_schema = spec
    return app.openapi_schema


def component_models() -> Mapping[str, Any]:
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
