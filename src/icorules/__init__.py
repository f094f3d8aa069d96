"""icorules: check integrated care pilot proposals against the 2008 prospectus rules.

>>> import icorules
>>> report = icorules.check("examples/south-lakeland.json")
>>> [f.rule for f in report.findings]
"""

from icorules.api import check, default_rulesets
from icorules.errors import InputError, Problem
from icorules.findings import Finding, Subject
from icorules.model import Proposal, load_proposal, proposal_schema
from icorules.report import Report
from icorules.rules.loader import Rule, RuleBundle, Ruleset, load_rulesets

__all__ = [
    "Finding",
    "InputError",
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
__version__ = "0.1.0"
