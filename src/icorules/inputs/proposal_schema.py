"""The JSON Schema of the proposal format, for editors and other tools (`icorules schema`)."""

from __future__ import annotations

from typing import Any

from icorules.inputs.proposal import FORMAT, FORMAT_1, Proposal


def proposal_schema() -> dict[str, Any]:
    """The JSON Schema of format 2 (format 1 files still load, and `icorules upgrade` brings
    them to format 2)."""
    schema = Proposal.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"icorules proposal ({FORMAT})"
    schema["properties"]["format"] = {
        "const": FORMAT,
        "description": f"The format version. Files in {FORMAT_1} (or with no format) still "
        "load; `icorules upgrade FILE` brings them to format 2.",
    }
    schema["required"] = sorted({*schema.get("required", []), "format"})
    area = schema["$defs"]["PctArea"]["properties"]
    del area["supports_bid"]
    return schema
