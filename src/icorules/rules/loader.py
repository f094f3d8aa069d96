"""Loading ruleset files: validate everything up front, so a ruleset that loads cannot fail later.

A ruleset file is YAML with metadata, parameters and rules (see docs/rulesets.md). Every problem
in every file is collected and reported as `file:line:col: message`, not just the first.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from icorules.analysis.facts import FACT_KINDS, FieldType, field_types
from icorules.engines import rule_problems
from icorules.errors import InputError, Problem, did_you_mean
from icorules.inputs.documents import Document, load_document
from icorules.inputs.kinds import refuse_other_kind
from icorules.inputs.validation import pydantic_problems
from icorules.limits import CEILINGS, DEFAULT_LIMITS, Limits
from icorules.rules import ir
from icorules.rules.autofix import Autofix, compile_autofix
from icorules.rules.citations import Citation, Reference, rule_source, unknown_keys
from icorules.rules.condition import Compiled, compile_condition
from icorules.rules.derives import Derive, check_derive
from icorules.rules.params import Parameter, parameters_of
from icorules.rules.spec import (
    RulesetSpec,
    RuleSpec,
    Severity,
)
from icorules.rules.syntax import ExpressionError
from icorules.rules.templates import template_problems


@dataclass(frozen=True)
class Rule:
    """A rule ready to run: its text fields plus its compiled patterns (`given` ones first,
    the rule's own fact last), which refer to parameters by name; `params` holds the values
    this rule runs with."""

    id: str
    title: str
    severity: Severity
    source: str  # the citation in full, as findings give it
    fact: str
    condition: str
    message: str
    fix: str
    ruleset: str
    file: str
    line: int | None
    patterns: tuple[ir.Pattern, ...]
    reads: tuple[str, ...]
    params: Mapping[str, Any]
    derive: Derive | None = None
    needs_market: bool = False
    given: tuple[tuple[str, str], ...] = ()  # (fact kind, condition text) as written
    autofix: Autofix | None = None
    cites: tuple[Citation, ...] = ()  # what `source` says, item by item
    description: str = ""  # what the rule decides and why
    needs_format: int = 1  # 2: not evaluated for a format-1 proposal

    @property
    def condition_ir(self) -> ir.Cond:
        """The compiled condition about the rule's own fact."""
        return self.patterns[-1].condition


@dataclass(frozen=True)
class Ruleset:
    name: str
    version: str
    description: str
    file: str
    parameters: Mapping[str, Any]  # name -> value in force (default or override)
    parameter_info: Mapping[str, Parameter]  # name -> unit, bounds and meaning
    rules: tuple[Rule, ...]
    references: Mapping[str, Reference] = dataclasses.field(default_factory=dict)

    @property
    def parameter_docs(self) -> dict[str, str]:
        return {name: p.description for name, p in self.parameter_info.items()}


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it holds dicts
class RuleBundle:
    """Rulesets that run together (so derived facts reach every rule). `checked`: every rule
    passed each engine backend's own checks when it loaded, so a backend need not repeat them."""

    rulesets: tuple[Ruleset, ...]
    checked: bool = False

    @functools.cached_property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule, by id (worked out once: a check reads it for every match)."""
        return tuple(sorted((r for rs in self.rulesets for r in rs.rules), key=lambda r: r.id))

    @functools.cached_property
    def _by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    def rule(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]


BUNDLED = "@bundled"  # names the bundled rulesets among --ruleset paths, to add rules to them
# Rules loaded together: the `rules` limit (icorules.limits), whose ceiling bounds the time to
# load and register them (the engine splits a big bundle into engine rulesets it survives).
MAX_RULES = CEILINGS["rules"]


def bundled_ruleset_dir() -> Path:
    """The ruleset that ships with icorules (rulesets/ in the repository)."""
    spec = importlib.util.find_spec("icorules.bundled")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[3] / "rulesets"


def ruleset_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories into their *.yaml/*.yml files (recursively, sorted); `@bundled`
    stands for the bundled rulesets."""
    files: list[Path] = []
    for raw in paths:
        path = bundled_ruleset_dir() if str(raw) == BUNDLED else Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in (".yaml", ".yml")
                and not p.name.endswith(".test.yaml")
                and p.is_file()  # a pipe or device named *.yaml is never opened
            )
            if not found:
                raise InputError.single(str(path), "the directory holds no .yaml ruleset files")
            files.extend(found)
        else:
            files.append(path)
    return files


def load_rulesets(
    paths: Iterable[str | Path] | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> RuleBundle:
    """Load and compile rulesets (the bundled ones if `paths` is None) within `limits`.

    `params` overrides parameter defaults by name: `{"share_of_supply": 0.3}` sets it in every
    ruleset that declares it; `{"market/share_of_supply": 0.3}` in one ruleset only.
    """
    files = ruleset_files([bundled_ruleset_dir()] if paths is None else paths)
    problems: list[Problem] = []
    rulesets: list[Ruleset] = []
    for file in files:
        try:
            document = load_document(file, limits=limits)
            refuse_other_kind(document.data, "ruleset", document, document.name)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        loaded = sum(len(rs.rules) for rs in rulesets)
        ruleset, found = _load_one(document, params or {}, limits, loaded)
        problems.extend(found)
        if ruleset is not None:
            rulesets.append(ruleset)
    problems.extend(_cross_file_problems(rulesets, params or {}))
    if problems:
        raise InputError(problems)
    return RuleBundle(tuple(sorted(rulesets, key=lambda r: r.name)), checked=True)


MANY_DUPLICATES = 3  # more ids than this copied from one folder are reported in one line


def _cross_file_problems(rulesets: list[Ruleset], params: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    seen_rules: dict[str, Rule] = {}
    seen_sets: dict[str, Ruleset] = {}
    # (folder loaded later, folder loaded first) -> the duplicates between them
    copies: dict[tuple[str, str], list[tuple[Problem, str]]] = {}
    for rs in rulesets:
        if rs.name in seen_sets:
            first_set = seen_sets[rs.name]
            message = f"ruleset name '{rs.name}' is also used by {first_set.file}"
            problems.append(Problem(rs.file, 1, None, message))
        seen_sets.setdefault(rs.name, rs)
        for rule in rs.rules:
            if rule.id in seen_rules:
                first = seen_rules[rule.id]
                message = f"duplicate rule id '{rule.id}' (also at {first.file}:{first.line})"
                pair = (str(Path(rule.file).parent), str(Path(first.file).parent))
                copies.setdefault(pair, []).append(
                    (Problem(rule.file, rule.line, None, message), rule.id)
                )
            seen_rules.setdefault(rule.id, rule)
    for (later, earlier), found in copies.items():
        if len(found) <= MANY_DUPLICATES:
            problems.extend(problem for problem, _ in found)
            continue
        # A copy of rules already loaded (-r @bundled -r my-copy/): one line, not one per rule.
        problems = [p for p in problems if not (p.line == 1 and str(Path(p.file).parent) == later)]
        ids = [rule_id for _, rule_id in found]
        files = {problem.file for problem, _ in found}
        where = files.pop() if len(files) == 1 else later
        message = (
            f"{len(ids)} rule ids are already loaded from {earlier} ({', '.join(ids[:3])}, ...): "
            "is this a copy of those rules? Load one of the two, or give your rules ids of "
            "their own"
        )
        problems.append(Problem(where, None, None, message))
    known = {name for rs in rulesets for name in rs.parameters}
    known |= {f"{rs.name}/{name}" for rs in rulesets for name in rs.parameters}
    for name in params:
        if name not in known:
            problems.append(
                Problem(
                    "--param",
                    None,
                    None,
                    f"no loaded ruleset has a parameter '{name}'{did_you_mean(name, known)}",
                )
            )
    return problems


def _load_one(
    document: Document, overrides: Mapping[str, Any], limits: Limits, loaded: int = 0
) -> tuple[Ruleset | None, list[Problem]]:
    if not isinstance(document.data, dict):
        return None, [
            document.problem(
                (), "a ruleset file is a YAML mapping with 'ruleset', 'version' and 'rules'"
            )
        ]
    try:
        spec = RulesetSpec.model_validate(document.data)
    except ValidationError as exc:
        return None, pydantic_problems(exc, RulesetSpec, document, document.name)
    if loaded + len(spec.rules) > limits.rules:  # refused before compiling any of them
        found = f"the file has {len(spec.rules):,} rules"
        if loaded:
            found += f" and {loaded:,} are already loaded from other files"
        message = limits.exceeded("rules", found) + "; split them into separate runs"
        return None, [document.problem(("rules",), message)]

    problems: list[Problem] = []
    params: dict[str, Any] = {}
    for name in spec.parameters:
        if not name.isidentifier() or name.startswith("_") or not name.isascii():
            problems.append(
                document.problem(
                    ("parameters", name),
                    f"the parameter name {name!r} must be letters, digits and _ "
                    "(starting with a letter), so that conditions can say params.NAME",
                )
            )
    params, info, declared = parameters_of(spec.ruleset, spec.parameters, overrides, document)
    problems.extend(declared)

    overridden = {
        n: v for n, v in params.items() if n in overrides or f"{spec.ruleset}/{n}" in overrides
    }
    references = {key: Reference.of(key, ref) for key, ref in spec.references.items()}
    rules: list[Rule] = []
    for index, raw in enumerate(spec.rules):
        loc = ("rules", index)
        try:  # one rule at a time, so a slip in one does not hide problems in the others
            rule_spec = RuleSpec.model_validate(raw)
        except ValidationError as exc:
            problems.extend(pydantic_problems(exc, RuleSpec, document, document.name, loc))
            continue
        rule, rule_problems = _compile_rule(
            rule_spec, loc, document, spec.ruleset, params, limits, references
        )
        problems.extend(_blame_overrides(rule_problems, rule_spec, overridden))
        if rule is not None:
            rules.append(rule)
    ruleset = Ruleset(
        name=spec.ruleset,
        version=spec.version,
        description=spec.description,
        file=document.name,
        parameters=params,
        parameter_info=info,
        rules=tuple(rules),
        references=references,
    )
    return ruleset, problems


def _blame_overrides(
    problems: list[Problem], spec: RuleSpec, overridden: Mapping[str, Any]
) -> list[Problem]:
    """A rule that compiled before a --param override and not after: the override is wrong."""
    texts = [spec.condition, *spec.given.values()]
    used = [n for n in overridden if any(f"params.{n}" in t for t in texts)]
    if not problems or not used:
        return problems
    value = overridden[used[0]]
    shown = ",".join(map(str, value)) if isinstance(value, list) else value
    return [
        Problem("--param", None, None, f"{used[0]}={shown}: {p.message} (in {p.file}:{p.line})")
        for p in problems
    ]


def _compile_rule(
    spec: RuleSpec,
    loc: tuple[str | int, ...],
    document: Document,
    ruleset: str,
    params: dict[str, Any],
    limits: Limits = DEFAULT_LIMITS,
    references: Mapping[str, Reference] | None = None,
) -> tuple[Rule | None, list[Problem]]:
    problems: list[Problem] = []

    def problem(at: tuple[str | int, ...], message: str) -> None:
        problems.append(document.problem((*loc, *at), f"rule {spec.id}: {message}"))

    known = references if references is not None else {}
    for (index, key), message in unknown_keys(spec.cite or [], known):
        problem(("cite", index, key), message)
    cites, source = rule_source(spec.cite, spec.source, known)

    fields = _fields_of(spec.fact, problem, ("fact",))
    if fields is None:
        return None, problems
    if FACT_KINDS[spec.fact].derived and spec.derive is not None and spec.derive.kind == spec.fact:
        problem(("derive",), "a rule cannot derive the kind of fact it matches (it would loop)")

    patterns = _given_patterns(spec, params, problem, limits)
    compiled = _compile(spec.condition, fields, params, spec.fact, problem, ("condition",), limits)
    if compiled is not None:
        patterns.append(ir.Pattern(spec.fact, compiled.condition, subject=True))

    for key in ("message", "fix"):
        for message in template_problems(getattr(spec, key), fields, params):
            problem((key,), message)
    derive = check_derive(spec, problem)
    autofix = compile_autofix(spec, fields, params, problem)

    if problems or compiled is None:
        return None, problems
    line, _ = document.position(loc)
    rule = Rule(
        id=spec.id,
        title=spec.title,
        severity=spec.severity,
        source=source,
        fact=spec.fact,
        condition=spec.condition.strip(),
        message=spec.message.strip(),
        fix=spec.fix.strip(),
        ruleset=ruleset,
        file=document.name,
        line=line,
        patterns=tuple(patterns),
        reads=tuple(compiled.reads),
        params=params,
        derive=derive,
        needs_market=spec.needs_market or spec.fact == "market",
        given=tuple((kind, " ".join(text.split())) for kind, text in spec.given.items()),
        autofix=autofix,
        cites=cites,
        description=" ".join(spec.description.split()),
        needs_format=spec.needs_format,
    )
    # What the engines cannot hold is refused here too, so a ruleset that loads will run.
    for found in rule_problems(rule):
        problem(("condition",) if found.given is None else ("given", found.given), found.message)
    return (None, problems) if problems else (rule, [])


def _given_patterns(
    spec: RuleSpec, params: dict[str, Any], problem: Any, limits: Limits
) -> list[ir.Pattern]:
    """The compiled `given` patterns: facts of other kinds that must exist for the rule to fire."""
    patterns: list[ir.Pattern] = []
    for kind, text in spec.given.items():
        given_fields = _fields_of(kind, problem, ("given", kind))
        if given_fields is None:
            continue
        if kind == spec.fact:
            problem(("given", kind), "'given' must name a different kind from 'fact'")
            continue
        compiled = _compile(text, given_fields, params, kind, problem, ("given", kind), limits)
        if compiled is not None:
            patterns.append(ir.Pattern(kind, compiled.condition, subject=False))
    return patterns


def _fields_of(kind: str, problem: Any, at: tuple[str, ...]) -> dict[str, FieldType] | None:
    if kind not in FACT_KINDS:
        problem(
            at,
            f"unknown fact kind '{kind}'{did_you_mean(kind, FACT_KINDS)}; "
            f"known kinds: {', '.join(FACT_KINDS)}",
        )
        return None
    return field_types(kind)


def _compile(
    text: str,
    fields: dict[str, FieldType],
    params: dict[str, Any],
    kind: str,
    problem: Any,
    at: tuple[str, ...],
    limits: Limits = DEFAULT_LIMITS,
) -> Compiled | None:
    try:
        return compile_condition(text, fields, params, kind, limits)
    except ExpressionError as exc:
        where = f" (at character {exc.column} of the condition)" if exc.column else ""
        problem(at, f"{exc.message}{where}")
        return None
