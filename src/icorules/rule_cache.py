"""The bundled rules, compiled once and kept between runs.

Loading the bundled rulesets (YAML read with positions, validated, every condition compiled
and checked against both backends) is most of what a cold `icorules check` does after its
imports. The compiled `RuleBundle` is therefore kept in the user's cache directory
(`$XDG_CACHE_HOME/icorules`, else `~/.cache/icorules`) as JSON, under a key made of:

- the bytes of every bundled ruleset file, with its name, and where the bundle is installed;
- icorules' version, and the size and modification time of each of its source files (so an
  edited icorules, as in development, never reads rules another one compiled);
- the Python version.

A cache whose key differs is not read, so the rules that run are always the ones the files
say. A damaged or unreadable cache is ignored and written again; writing is atomic (a reader
sees the old file or the new one), and a cache that cannot be written costs nothing but the
next start's time. The file is safe to delete.

The cache is JSON, read with a closed list of the classes a bundle is made of (the rules'
dataclasses, their enums and pydantic models, from named icorules modules): never pickle, so
reading it runs no code but those classes' constructors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel

from icorules import version

if TYPE_CHECKING:
    from icorules.rules.loader import RuleBundle

FORMAT = "icorules/rule-cache/1"
FILE = "bundled-rules.json"
# The modules whose classes a cached bundle may name; any other name makes it unreadable.
_MODULES = frozenset(
    {
        "icorules.rules.loader",
        "icorules.rules.ir",
        "icorules.rules.params",
        "icorules.rules.autofix",
        "icorules.rules.citations",
        "icorules.rules.derives",
        "icorules.rules.patches",
        "icorules.rules.spec",
        "icorules.analysis.facts",
        "icorules.inputs.codes",
    }
)
_TYPES: dict[str, type] = {"bool": bool, "int": int, "float": float, "str": str, "date": dt.date}
_TYPE_NAMES = {cls: name for name, cls in _TYPES.items()}


def bundled_rules() -> RuleBundle:
    """The bundled rulesets: from the cache when its key matches, else loaded (and cached)."""
    from icorules.rules.loader import bundled_ruleset_dir, load_rulesets, ruleset_files

    root = bundled_ruleset_dir()
    try:
        key = cache_key(root, ruleset_files([root]))
    except OSError:
        return load_rulesets()
    path = cache_dir() / FILE
    bundle = read_cache(path, key)
    if bundle is None:
        bundle = load_rulesets()
        write_cache(path, key, bundle)
    return bundle


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "icorules"


def cache_key(root: Path, files: list[Path]) -> str:
    """What the compiled bundle depends on (see the module's docstring), as one digest."""
    digest = hashlib.sha256()
    for part in (FORMAT, version.VERSION, sys.version, str(root.resolve())):
        digest.update(part.encode() + b"\0")
    for file in files:
        digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes() + b"\0")
    package = Path(__file__).resolve().parent
    for source in sorted(package.rglob("*.py")):
        info = source.stat()
        where = source.relative_to(package).as_posix()
        digest.update(f"{where}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def read_cache(path: Path, key: str) -> RuleBundle | None:
    """The cached bundle if the file holds one under `key`; None otherwise (or if damaged)."""
    from icorules.rules.loader import RuleBundle  # and so every module a bundle's classes are in

    try:
        data = orjson.loads(path.read_bytes())
        if data.get("format") != FORMAT or data.get("key") != key:
            return None
        bundle = decode(data["bundle"])
    except Exception:  # anything wrong with the file: it is ignored and written again
        return None
    return bundle if isinstance(bundle, RuleBundle) else None


def write_cache(path: Path, key: str, bundle: RuleBundle) -> None:
    """Keep `bundle` under `key`, atomically; a bundle or place that cannot be written is left."""
    from icorules.output.atomic import write_atomic

    try:
        text = orjson.dumps({"format": FORMAT, "key": key, "bundle": encode(bundle)}).decode()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)
    except (OSError, _Unsupported, orjson.JSONEncodeError):
        pass


# -- a bundle as JSON and back ---------------------------------------------------------------


class _Unsupported(TypeError):
    """A value the cache does not know how to write (the bundle is then not cached)."""


class _Damaged(ValueError):
    """A cache that does not decode to a bundle."""


def _name(cls: type) -> str:
    if cls.__module__ not in _MODULES:
        raise _Unsupported(f"{cls.__module__}.{cls.__qualname__}")
    return f"{cls.__module__}:{cls.__qualname__}"


def encode(value: Any) -> Any:
    """`value` as JSON: dataclasses, pydantic models and enums of the allowed modules by
    name, tuples, mappings, dates and types marked, everything else as JSON has it."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is list:
        return [encode(v) for v in value]
    if kind is tuple:
        return {"@tuple": [encode(v) for v in value]}
    if kind is dict:
        return {"@map": [[encode(k), encode(v)] for k, v in value.items()]}
    if kind is dt.date:
        return {"@date": value.isoformat()}
    if isinstance(value, type):
        if value not in _TYPE_NAMES:
            raise _Unsupported(repr(value))
        return {"@type": _TYPE_NAMES[value]}
    if isinstance(value, enum.Enum):
        return {"@enum": _name(kind), "v": encode(value.value)}
    if dataclasses.is_dataclass(value):
        fields = {
            f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
        return {"@class": _name(kind), "f": fields}
    if isinstance(value, BaseModel):
        fields = {n: encode(getattr(value, n)) for n in kind.model_fields}
        return {"@model": _name(kind), "f": fields, "s": sorted(value.model_fields_set)}
    raise _Unsupported(repr(kind))


def decode(node: Any) -> Any:
    """What `encode` wrote, built again; a name outside the allowed classes is refused."""
    if type(node) is list:
        return [decode(v) for v in node]
    if type(node) is not dict:
        return node
    if "@class" in node:  # the commonest first: most of a bundle is its conditions' dataclasses
        found = _CLASSES.get(node["@class"]) or _class(node["@class"], None)
        return found(**{k: decode(v) for k, v in node["f"].items()})
    if "@tuple" in node:
        return tuple(decode(v) for v in node["@tuple"])
    if "@map" in node:
        return {decode(k): decode(v) for k, v in node["@map"]}
    if "@date" in node:
        return dt.date.fromisoformat(node["@date"])
    if "@type" in node:
        return _TYPES[node["@type"]]
    if "@enum" in node:
        return _class(node["@enum"], enum.Enum)(decode(node["v"]))
    if "@model" in node:
        model = _class(node["@model"], BaseModel)
        fields = {k: decode(v) for k, v in node["f"].items()}
        return model.model_construct(_fields_set=set(node["s"]), **fields)
    raise _Damaged(f"not a cached value: {sorted(node)[:3]}")


# Dataclasses already looked up by name, so each is checked once per process, not per object.
_CLASSES: dict[str, Any] = {}


def _class(name: str, base: type | None) -> Any:
    module, _, qualname = name.partition(":")
    if module not in _MODULES or not qualname.isidentifier():
        raise _Damaged(f"{name} is not a class a cached bundle is made of")
    found = getattr(sys.modules.get(module), qualname, None)  # loaded with the rule loader
    if not isinstance(found, type):
        raise _Damaged(f"{name} is not a class")
    if base is None and not dataclasses.is_dataclass(found):
        raise _Damaged(f"{name} is not a dataclass")
    if base is not None and not issubclass(found, base):
        raise _Damaged(f"{name} is not a {base.__name__}")
    if base is None:
        _CLASSES[name] = found
    return found
