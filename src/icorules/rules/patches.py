"""Edits a ruleset test case makes to a base proposal or market (`patch:`), by path.

`organisations[GP3].list_size` selects by id (or code, organisation, service) inside a list,
`[0]` by place, and `[GP?]` by a pattern; `set`, `remove` and `append` change what the path
names. A path that names nothing is an error, so a typo cannot make a test pass vacuously.
"""

from __future__ import annotations

import copy
import re
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class PatchOp(BaseModel):
    """One edit: `set` a path to `value`, `remove` what a path names, or `append` `value`."""

    model_config = ConfigDict(extra="forbid")
    set: str | None = None
    remove: str | None = None
    append: str | None = None
    value: Any = None

    @model_validator(mode="after")
    def _one_operation(self) -> PatchOp:
        named = [k for k in ("set", "remove", "append") if getattr(self, k) is not None]
        if len(named) != 1:
            raise ValueError("each patch step has exactly one of set, remove or append")
        if named[0] == "remove" and "value" in self.model_fields_set:
            raise ValueError("'remove' takes no value")
        if named[0] != "remove" and "value" not in self.model_fields_set:
            raise ValueError(f"'{named[0]}' needs a value")
        return self


class PatchError(Exception):
    """A patch step that names nothing; `loc` is where the step is in the test file."""

    def __init__(self, message: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.loc = loc


_KEY = re.compile(r"[^.\[\]]+")
_SELECT_KEYS = ("id", "code", "organisation", "service")


def _steps(path: str) -> list[tuple[str, str]]:
    """`organisations[GP3].list_size` -> [(key, organisations), (select, GP3), (key, ...)]."""
    steps: list[tuple[str, str]] = []
    pos = 0
    while pos < len(path):
        if path[pos] == "[":
            end = path.find("]", pos)
            if end < 0:
                raise PatchError(f"'{path}': a '[' has no closing ']'")
            steps.append(("select", path[pos + 1 : end]))
            pos = end + 1
            continue
        if path[pos] == "." and steps and pos + 1 < len(path):
            pos += 1
        key = _KEY.match(path, pos)
        if key is None:
            raise PatchError(f"cannot read the path '{path}' at character {pos + 1}")
        steps.append(("key", key.group()))
        pos = key.end()
    if not steps:
        raise PatchError("the path is empty")
    return steps


def _selected(items: list[Any], selector: str) -> list[int]:
    """Indexes a `[...]` step picks: a number, or the elements whose id (or code, organisation,
    service, or the value itself) matches; `*` and `?` work as in file names."""
    if re.fullmatch(r"-?\d+", selector):
        index = int(selector)
        return [index % len(items)] if -len(items) <= index < len(items) else []
    out = []
    for i, item in enumerate(items):
        values = [item.get(k) for k in _SELECT_KEYS] if isinstance(item, dict) else [item]
        if any(v is not None and fnmatchcase(str(v), selector) for v in values):
            out.append(i)
    return out


Loc = tuple[str | int, ...]
Edit = tuple[str, Loc, Any]  # ("set" | "append" | "remove", where, value)


def apply_patch(data: Any, op: PatchOp) -> None:
    """Apply one patch step to `data` in place; raises PatchError if the path names nothing."""
    for kind, loc, value in concrete(data, op):
        *above, last = loc
        parent = data
        for part in above:
            parent = parent[part]
        if kind == "append":
            parent[last].append(copy.deepcopy(value))
        elif kind == "remove":
            del parent[last]
        else:
            parent[last] = copy.deepcopy(value)


def concrete(data: Any, op: PatchOp) -> list[Edit]:
    """The patch step as edits at concrete places in `data`: ("set", loc, value) to give a key
    (or list element) a value, creating what is missing on the way; ("append", loc, value) to
    add to the list at loc (starting it if the key is missing); ("remove", loc, None). This is
    what `apply_patch` does, and what `check --fix` splices into a file's text. Raises
    PatchError if the path names nothing."""
    path = op.set or op.remove or op.append or ""
    steps = _steps(path)
    reached = _reach(data, steps, op, path)
    if isinstance(reached, tuple):  # a `set` below a missing key: one edit creates it
        return [reached]
    kind, name = steps[-1]
    edits = [edit for target, loc in reached for edit in _edits(target, loc, kind, name, op)]
    if not edits:
        raise PatchError(f"'{path}' names nothing in the proposal")
    return edits


def _reach(
    data: Any, steps: list[tuple[str, str]], op: PatchOp, path: str
) -> list[tuple[Any, Loc]] | Edit:
    """What the path names above its last step, with where each is; or, for a `set` that meets
    a missing key, the single edit that creates it with the rest of the path below."""
    targets: list[tuple[Any, Loc]] = [(data, ())]
    for n, (kind, name) in enumerate(steps[:-1]):
        nxt: list[tuple[Any, Loc]] = []
        for target, loc in targets:
            if kind == "key" and isinstance(target, dict):
                if name in target:
                    nxt.append((target[name], (*loc, name)))
                elif op.set is not None:
                    return ("set", (*loc, name), _nested(steps[n + 1 :], op.value))
            elif kind == "select" and isinstance(target, list):
                nxt += [(target[i], (*loc, i)) for i in _selected(target, name)]
        if not nxt:
            raise PatchError(f"'{path}': nothing at '{_shown(steps[: n + 1])}'")
        targets = nxt
    return targets


def _edits(target: Any, loc: Loc, kind: str, name: str, op: PatchOp) -> list[Edit]:
    """The edits the path's last step makes in one target."""
    path = op.set or op.remove or op.append or ""
    if kind == "key" and isinstance(target, dict):
        here = (*loc, name)
        if op.set is not None:
            return [("set", here, copy.deepcopy(op.value))]
        if name not in target:  # remove: nothing to remove; append: the list starts here
            return [] if op.remove is not None else [("set", here, [copy.deepcopy(op.value)])]
        if op.remove is not None:
            return [("remove", here, None)]
        if not isinstance(target[name], list):
            raise PatchError(f"'{path}' is not a list, so nothing can be appended")
        return [("append", here, copy.deepcopy(op.value))]
    if kind == "select" and isinstance(target, list):
        if op.append is not None:
            raise PatchError(f"'{path}': append to a list, not to one element of it")
        edit = "remove" if op.remove is not None else "set"
        return [
            (edit, (*loc, i), None if edit == "remove" else copy.deepcopy(op.value))
            for i in sorted(_selected(target, name), reverse=True)
        ]
    return []


def _nested(steps: list[tuple[str, str]], value: Any) -> Any:
    """The value a `set` gives a missing key when the path goes on below it."""
    for kind, name in reversed(steps):
        value = [value] if kind == "select" else {name: value}
    return copy.deepcopy(value)


def _shown(steps: list[tuple[str, str]]) -> str:
    out = ""
    for kind, name in steps:
        out += f"[{name}]" if kind == "select" else (f".{name}" if out else name)
    return out
