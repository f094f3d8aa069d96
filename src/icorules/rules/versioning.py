"""A rule whose text changed while its ruleset kept its version (lint RL013, with --base).

Reports, waivers and bidders' correspondence cite a rule by id and its ruleset by version, so a
rule that now says something else under the same version makes those citations ambiguous.
Compared with an earlier copy of the rulesets (`icorules lint DIR --base OLD-DIR`), every rule
and parameter whose text changed is reported if its ruleset's `version` did not.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from icorules.errors import InputError
from icorules.inputs.documents import Document, load_document
from icorules.rules.loader import ruleset_files

# What a rule says (its id aside): any change to these is a change of the rule.
RULE_TEXT = (
    "title",
    "severity",
    "cite",
    "source",
    "description",
    "fact",
    "given",
    "condition",
    "message",
    "fix",
    "derive",
    "needs_market",
    "needs_format",
)


def _rulesets(documents: Iterable[Document]) -> dict[str, tuple[Document, dict[str, Any]]]:
    """Ruleset name -> (its document, its data), for files whose top level can be read."""
    found: dict[str, tuple[Document, dict[str, Any]]] = {}
    for document in documents:
        data = document.data
        if isinstance(data, dict) and isinstance(data.get("ruleset"), str):
            found.setdefault(data["ruleset"], (document, data))
    return found


def base_documents(paths: Iterable[str | Path]) -> list[Document]:
    """The earlier copy's ruleset files; raises InputError if one cannot be read."""
    documents, problems = [], []
    for file in ruleset_files(list(paths)):
        try:
            documents.append(load_document(file))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return documents


def unbumped_changes(
    documents: Iterable[Document], base: Iterable[Document]
) -> Iterator[tuple[Document, tuple[str | int, ...], str, str | None]]:
    """(document, location, message, rule id) for each rule or parameter that changed since
    `base` in a ruleset whose version is the same as there."""
    before = _rulesets(base)
    for name, (document, data) in _rulesets(documents).items():
        if name not in before:
            continue
        _, old = before[name]
        version = str(data.get("version"))
        if version != str(old.get("version")):
            continue
        old_rules = {r.get("id"): r for r in old.get("rules") or [] if isinstance(r, dict)}
        for index, rule in enumerate(data.get("rules") or []):
            if not isinstance(rule, dict) or rule.get("id") not in old_rules:
                continue
            changed = [k for k in RULE_TEXT if rule.get(k) != old_rules[rule["id"]].get(k)]
            if changed:
                yield (
                    document,
                    ("rules", index, "id"),
                    f"rule {rule['id']} changed ({', '.join(changed)}) since the base, but "
                    f"ruleset {name} is still version {version}: give it a new version",
                    str(rule["id"]),
                )
        old_params = old.get("parameters") or {}
        for param, spec in (data.get("parameters") or {}).items():
            if param in old_params and spec != old_params[param]:
                yield (
                    document,
                    ("parameters", param),
                    f"parameter {param} changed since the base, but ruleset {name} is still "
                    f"version {version}: give it a new version",
                    None,
                )
