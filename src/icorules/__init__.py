"""icorules: check integrated care pilot proposals against the 2008 prospectus rules.

>>> import icorules
>>> report = icorules.check("examples/south-lakeland.json")
>>> [f.rule for f in report.findings]

The names below are imported on first use, so `import icorules` (and the command line, which
needs only some of them) does not pay for pydantic models, networkx or the engine up front.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from icorules.version import VERSION

if TYPE_CHECKING:
    from icorules.api import check, default_rulesets
    from icorules.errors import InputError, Problem
    from icorules.inputs.proposal import Proposal, load_proposal
    from icorules.inputs.proposal_schema import proposal_schema
    from icorules.limits import Limits
    from icorules.results.findings import Finding, Subject
    from icorules.results.report import Report
    from icorules.rules.loader import Rule, RuleBundle, Ruleset, load_rulesets

_EXPORTS = {
    "check": "icorules.api",
    "default_rulesets": "icorules.api",
    "InputError": "icorules.errors",
    "Problem": "icorules.errors",
    "Finding": "icorules.results.findings",
    "Subject": "icorules.results.findings",
    "Limits": "icorules.limits",
    "Proposal": "icorules.inputs.proposal",
    "load_proposal": "icorules.inputs.proposal",
    "proposal_schema": "icorules.inputs.proposal_schema",
    "Report": "icorules.results.report",
    "Rule": "icorules.rules.loader",
    "RuleBundle": "icorules.rules.loader",
    "Ruleset": "icorules.rules.loader",
    "load_rulesets": "icorules.rules.loader",
}

__all__ = [
    "Finding",
    "InputError",
    "Limits",
    "Problem",
    "Proposal",
    "Report",
    "Rule",
    "RuleBundle",
    "Ruleset",
    "Subject",
    "check",
    "default_rulesets",
    "load_proposal",
    "load_rulesets",
    "proposal_schema",
]
__version__ = VERSION


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562) and keep it."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'icorules' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
