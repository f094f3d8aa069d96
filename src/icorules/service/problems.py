"""Problems as JSON: what the command line prints as `file:line:col: message`, as data.

A problem's message starts with the JSON path of what it is about when that is known
(`organisations[3].type: ...`, as `Document.problem` writes it); that prefix becomes `path`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from icorules.errors import Problem
from icorules.output.escape import unicode_safe

# `organisations[3].type: ...`, `lead: ...`, `waivers[0].rule: ...` (no spaces in the path)
_PATH = re.compile(r"^([A-Za-z_][\w-]*(?:\[\d+\]|\.[A-Za-z_$~][\w$~/-]*)*): ")


def problem_path(problem: Problem, keys: Iterable[str] = ()) -> str | None:
    """The JSON path a problem is about: the prefix of its message, when its first part is a
    key the input may have (`keys`), so a message such as `invalid JSON: ...` has none."""
    found = _PATH.match(problem.message)
    if found is None:
        return None
    path = found.group(1)
    head = re.split(r"[.\[]", path, maxsplit=1)[0]
    return path if head in set(keys) else None


def problem_json(problem: Problem, keys: Iterable[str] = ()) -> dict[str, Any]:
    """One problem as the API reports it; `text` is the line the command line prints."""
    return {
        "file": unicode_safe(problem.file),
        "line": problem.line,
        "column": problem.column,
        "path": problem_path(problem, keys),
        "message": unicode_safe(problem.message),
        "text": unicode_safe(str(problem)),
    }


def problems_json(problems: Sequence[Problem], keys: Iterable[str] = ()) -> dict[str, Any]:
    known = set(keys)
    return {"problems": [problem_json(p, known) for p in problems]}


def input_keys() -> set[str]:
    """Top-level keys of every input format a request may carry: a path must start with one."""
    from icorules.inputs.market import Market
    from icorules.inputs.proposal import Proposal
    from icorules.results.waivers import WaiverFile

    keys = set(Proposal.model_fields) | set(Market.model_fields) | set(WaiverFile.model_fields)
    # the request's own options (an envelope), and the ruleset format for "Try a rule"
    keys |= {"proposal", "proposals", "filename", "market", "waivers", "params", "rules"}
    keys |= {"format", "fail_on", "explain", "ruleset", "version", "parameters", "description"}
    return keys
