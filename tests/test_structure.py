"""The engine seam holds: only the engines/durable/ package imports durable_rules (its host
module alone) or writes its JSON, and the modules of rules/ stay small enough to read."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "icorules"
DURABLE = PACKAGE / "engines" / "durable"
# durable_rules' JSON operators (its docs/json/reference.md and src/rules/rete.c).
OPERATORS = frozenset(
    {"$lt", "$lte", "$gt", "$gte", "$eq", "$neq", "$ex", "$nex", "$and", "$or", "$all", "$any"}
    | {"$not", "$m", "$l", "$r", "$add", "$sub", "$mul", "$div", "$mt", "$imt", "$iall", "$iany"}
    | {"$i", "$s", "$forward"}
)
_DURABLE = ("durable", "durable_rules_engine")  # its Python package and its C extension
_QUOTED = re.compile(r"""["'](\$[a-z]+)["']""")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imports_durable(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import) and any(
            a.name in _DURABLE or a.name.startswith("durable.") for a in node.names
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module is not None
            and (node.module in _DURABLE or node.module.startswith("durable."))
        ):
            return True
    return False


def test_only_the_durable_backend_imports_durable_rules() -> None:
    found = [p.relative_to(PACKAGE).as_posix() for p in modules() if imports_durable(p)]
    assert found == ["engines/durable/host.py"]


def test_only_the_durable_backend_writes_durable_rules_json() -> None:
    for path in modules():
        used = {m for m in _QUOTED.findall(path.read_text()) if m in OPERATORS}
        if path == DURABLE / "forms.py":
            assert {"$lt", "$and", "$or", "$m", "$neq"} <= used  # the check sees what it seeks
        elif DURABLE not in path.parents:
            assert not used, f"{path.relative_to(PACKAGE)} writes {sorted(used)}"


def test_the_check_finds_operators_however_they_are_quoted(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("a = {'$lt': 1}\nb = \"$and\"\nimport durable.engine\n")
    assert set(_QUOTED.findall(sample.read_text())) == {"$lt", "$and"}
    assert imports_durable(sample)


def test_rules_modules_stay_under_450_lines() -> None:
    for path in sorted((PACKAGE / "rules").glob("*.py")):
        lines = len(path.read_text().splitlines())
        assert lines < 450, f"{path.name} has {lines} lines"


def test_one_rule_id_form() -> None:
    """The rule-id pattern is written once (rules/spec.py); the validation messages look it up
    by its text to describe it in words, so they must stay in step."""
    from icorules.inputs.validation import _FORMS
    from icorules.rules import lint, spec

    assert spec.RULE_ID_PATTERN in _FORMS
    assert lint.RULE_ID.pattern == spec.RULE_ID_PATTERN
    pattern = spec.RuleSpec.model_fields["id"].metadata[0].pattern
    assert pattern == spec.RULE_ID_PATTERN
