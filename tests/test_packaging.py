"""The lowest-bounds constraints file says exactly what pyproject.toml declares.

CI installs with tests/constraints-lowest.txt and runs the suite again, so each lower bound is
proved, not just written down; this keeps the two files from drifting apart.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[;\s]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _lowest(requirement: str) -> str:
    found = re.search(r"(?:>=|==)\s*([\w.]+)", requirement)
    assert found, f"{requirement!r} declares no lower bound"
    return found.group(1)


def test_every_direct_dependency_has_its_lower_bound_pinned_for_ci() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        _name(r): _lowest(r)
        for r in project["dependencies"] + project["optional-dependencies"]["test"]
    }
    pinned = {}
    for line in (ROOT / "tests" / "constraints-lowest.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pinned[_name(name)] = version.strip()
    assert set(pinned) == set(declared)
    for name, version in declared.items():
        # 8.2 and 8.2.0 are the same release: compare with trailing zeros removed
        assert re.sub(r"(\.0)+$", "", pinned[name]) == re.sub(r"(\.0)+$", "", version), name
