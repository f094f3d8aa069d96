"""Market files compiled ahead: `icorules market compile area.json -o area.icm`.

A national market file is large (152 PCT areas, ~9,500 providers: 2 MB of JSON), and reading
it means parsing, checking every cross-reference and validating every provider: about 120 ms in
a warm process, 300 ms in a fresh one. A compiled market is the validated model written out
once, which loads in a few milliseconds, without validating it again, because what it says was
validated when it was compiled and nothing has changed since:

- its first line names the format and holds a SHA-256 digest of the rest, so a compiled file
  that was edited, cut short or damaged is refused;
- the rest records the icorules version and the shape of the market model it was compiled
  with (a compiled file from another version is refused: the model may have changed), the
  market file it came from (relative to the compiled file, and as it was named) and the
  SHA-256 of that file's bytes, which is checked against the file as it is now: a market file
  edited since is refused, so a compiled file never stands for anything but its source;
- the market itself, as JSON (never pickle: reading a file never runs code), with what every
  check looks up in it (its providers by id, ODS code and area, units' parents, practices per
  area: `Market.lookups`), which a check would otherwise work out again in a fresh process.

Each refusal is one line saying how to compile the file again (exit 2 at the command line).
Problems with the market that a check reports (reconcile's errors and warnings) are located
in the source file, as they are when the source is given.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import os
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

from icorules import version
from icorules.engines.base import gc_paused
from icorules.errors import InputError
from icorules.inputs.documents import Document
from icorules.inputs.reading import decode, read_bytes
from icorules.limits import DEFAULT_LIMITS, Limits

if typing.TYPE_CHECKING:
    from icorules.inputs.market import Market

FORMAT = "icorules/compiled-market/1"
SUFFIX = ".icm"
_HEADER = b'{"format":"' + FORMAT.encode() + b'","digest":"'


def is_compiled(source: str | Path) -> bool:
    """Whether `source` names a compiled market (by its extension)."""
    return str(source).lower().endswith(SUFFIX)


def compile_market(
    source: str | Path, output: str | Path, limits: Limits = DEFAULT_LIMITS
) -> Market:
    """Validate the market file `source` (every problem located, as for a check) and write it
    compiled to `output`, atomically."""
    from icorules.inputs.documents import load_document
    from icorules.inputs.market import Market, parse_market
    from icorules.output.atomic import same_file, write_atomic

    name = str(source)
    if same_file(output, source):  # a market file named *.icm, compiled in place
        raise InputError.single(
            str(output), f"is the market file itself ({name}); give another file for --output"
        )
    raw = read_bytes(Path(source), name, limits)
    document = load_document(source, text=decode(raw, name), limits=limits)
    market = parse_market(document.data, document)
    here = Path(output).resolve().parent
    body = {
        "icorules": _version(),
        "model": model_shape(Market),
        "source": os.path.relpath(Path(source).resolve(), here),
        "name": name,
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "market": market.model_dump(mode="json"),
        "lookups": market.lookups(),  # what every check looks up: ~15 ms to work out again
    }
    rest = orjson.dumps(body)
    header = _HEADER + hashlib.sha256(rest).hexdigest().encode() + b'"}\n'
    write_atomic(Path(output), (header + rest).decode())
    return market


def load_compiled(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> Market:
    """A compiled market, refused (InputError, one line) if it is damaged, was compiled by
    another version of icorules, or its market file has changed since."""
    from icorules.inputs.market import Market

    name = str(path)
    raw = read_bytes(Path(path), name, limits)
    header, _, rest = raw.partition(b"\n")
    if not header.startswith(_HEADER) or not header.endswith(b'"}'):
        raise _refused(name, f"is not a compiled market file ({FORMAT})", None)
    if header[len(_HEADER) : -2].decode("ascii", "replace") != hashlib.sha256(rest).hexdigest():
        raise _refused(name, "has been changed or damaged since it was compiled", None)
    try:
        body = orjson.loads(rest)
        source, shown = body["source"], body["name"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise _refused(name, "has been changed or damaged since it was compiled", None) from None
    if body.get("icorules") != _version():
        made = f"was compiled by icorules {body.get('icorules')}, this is {_version()}"
        raise _refused(name, made, shown)
    if body.get("model") != model_shape(Market):
        raise _refused(name, "was compiled for another form of the market model", shown)
    where = Path(path).resolve().parent / source
    try:
        original = read_bytes(where, str(where), limits)
    except InputError:
        raise _refused(
            name, f"was compiled from {shown}, which cannot be read now", shown
        ) from None
    if hashlib.sha256(original).hexdigest() != body["source_sha256"]:
        raise _refused(name, f"is out of date: {shown} has changed since it was compiled", shown)
    if not isinstance(body.get("lookups"), dict):
        raise _refused(name, "was compiled for another form of the market model", shown)
    try:
        with gc_paused():  # ~10,000 objects that form no cycles: no collector passes over them
            market: Market = trusted(Market, body["market"])
            market.know(body["lookups"])
    except (ValueError, TypeError, KeyError, AttributeError):  # edited, its digest made again
        raise _refused(name, "has been changed or damaged since it was compiled", shown) from None
    is_yaml = where.suffix.lower() in (".yaml", ".yml")
    document = Document(name=shown, text=decode(original, shown), data=None, is_yaml=is_yaml)
    market._document = document  # problems are located in the market file itself
    return market


def _refused(name: str, what: str, source: str | None) -> InputError:
    how = f"icorules market compile {source} -o {name}" if source else "icorules market compile"
    return InputError.single(name, f"{what}; compile it again: {how}")


def _version() -> str:
    return version.VERSION


# -- the validated model, built again without validating it ----------------------------------

Build = Callable[[Any], Any]


def model_shape(cls: type[BaseModel]) -> str:
    """The fields of a model and of the models inside it, with their types, as text: a
    compiled market is read only by a model of the same shape."""
    seen: dict[str, str] = {}

    def visit(model: type[BaseModel]) -> None:
        if model.__qualname__ in seen:
            return
        seen[model.__qualname__] = ", ".join(
            f"{n}: {f.annotation!r}" for n, f in model.model_fields.items()
        )
        for info in model.model_fields.values():
            for inner in _models_in(info.annotation):
                visit(inner)

    visit(cls)
    text = re.sub(r" at 0x[0-9a-fA-F]+", "", repr(sorted(seen.items())))  # no addresses
    digest = hashlib.sha256(text.encode()).hexdigest()
    return digest[:16]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def trusted(cls: type[Any], data: Any) -> Any:
    """`cls` (a pydantic model) from what its `model_dump(mode="json")` gave, without
    validating it again; a model whose fields this cannot rebuild is validated instead."""
    build = _model_builder(cls)
    return build(data) if build is not None else cls.model_validate(data)


_BUILDERS: dict[type[BaseModel], Build | None] = {}
# What pydantic puts in model_post_init for a model with private attributes and no hook of its
# own: setting them to their defaults, which `build` does.
_PRIVATE_ONLY = "init_private_attributes"


def _model_builder(cls: type[BaseModel]) -> Build | None:
    if cls in _BUILDERS:
        return _BUILDERS[cls]
    _BUILDERS[cls] = None  # (a model inside itself is not rebuilt: validated instead)
    post_init = getattr(cls.model_post_init, "__name__", "")
    if cls.model_post_init is not BaseModel.model_post_init and post_init != _PRIVATE_ONLY:
        return None  # a model that works something out after validation: validate it
    fields = [(name, _builder(info.annotation)) for name, info in cls.model_fields.items()]
    if any(build is None for _, build in fields):
        return None
    private = {name: attr.get_default() for name, attr in cls.__private_attributes__.items()}
    names = frozenset(name for name, _ in fields)
    count = len(fields)
    converted = tuple((name, convert) for name, convert in fields if convert is not _same)
    new = cls.__new__
    # BaseModel's slots, set through their descriptors (object.__setattr__ looks each up).
    slots = BaseModel.__dict__
    set_dict = slots["__dict__"].__set__
    set_fields = slots["__pydantic_fields_set__"].__set__
    set_extra = slots["__pydantic_extra__"].__set__
    set_private = slots["__pydantic_private__"].__set__

    def build(values: Any) -> Any:
        # `values` is a fresh dict from orjson with every field, in order (model_dump wrote it):
        # it becomes the model's __dict__, with the fields that need it converted.
        if values.__class__ is not dict or len(values) != count:
            return cls.model_validate(values)
        for name, convert in converted:
            values[name] = convert(values[name])  # type: ignore[misc]
        obj = new(cls)
        set_dict(obj, values)
        set_fields(obj, set(names))
        set_extra(obj, None)
        set_private(obj, dict(private) if private else None)
        return obj

    _BUILDERS[cls] = build
    return build


def _same(value: Any) -> Any:
    return value


def _builder(annotation: Any) -> Build | None:
    """How to rebuild a value of this type from its JSON form; None if this cannot."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _builder(args[0])
    if origin is typing.Literal or annotation in (str, int, float, bool, Any):
        return _same
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_builder(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum(annotation)
    if annotation is dt.date:
        return dt.date.fromisoformat
    if origin in (typing.Union, types.UnionType):
        return _optional(args) if type(None) in args else _union(args)
    if origin is list and len(args) == 1:
        return _list(args[0])
    return None


def _list(item: Any) -> Build | None:
    """A list: a national market has ~9,500 providers, each with a list of lines (enum members,
    looked up in one comprehension) or, in format 2, of lines and sized lines."""
    inner = _builder(item)
    if inner is None or inner is _same:
        return None if inner is None else list
    members = _MEMBERS.get(inner)
    if members is not None:  # a list of enum members (or of them and one model)
        get, model = members

        def lines(values: list[Any]) -> list[Any]:
            out = [get(v) if v.__class__ is str else model(v) for v in values]
            return out if None not in out else list(map(inner, values))  # inner says what's wrong

        return lines
    return lambda values: list(map(inner, values))


def _enum(cls: type[enum.Enum]) -> Build:
    """A member of `cls` from its value: a dict lookup (calling the class costs ten times as
    much, ~9,500 providers with several services each)."""
    members = cls._value2member_map_

    def member(value: Any) -> Any:
        found = members.get(value)
        return cls(value) if found is None else found

    _MEMBERS[member] = (members.get, _not_a_model)
    return member


# A member builder -> (its lookup, how to build anything else in the list): for `_list`.
_MEMBERS: dict[Build, tuple[Callable[[Any], Any], Build]] = {}


def _not_a_model(value: Any) -> None:
    return None  # a list of enum members holds no models: `_list` builds it the slow way


def _union(args: tuple[Any, ...]) -> Build | None:
    """One model or one other kind (a list item that is a line or an object, format 2): the
    value's JSON form says which (an object is the model). Without this a market with such a
    list was validated again in full (~60 ms for the national market)."""
    kinds = [typing.get_args(a)[0] if typing.get_origin(a) is typing.Annotated else a for a in args]
    models = [k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)]
    if len(kinds) != 2 or len(models) != 1:
        return None
    as_model = _builder(models[0])
    as_other = _builder(next(k for k in kinds if k is not models[0]))
    if as_model is None or as_other is None:
        return None

    def either(value: Any) -> Any:
        return as_model(value) if value.__class__ is dict else as_other(value)

    if as_other in _MEMBERS:  # a line or a sized line: `_list` looks the lines up itself
        _MEMBERS[either] = (_MEMBERS[as_other][0], as_model)
    return either


def _optional(args: tuple[Any, ...]) -> Build | None:
    kinds = [a for a in args if a is not type(None)]
    if len(kinds) != 1 or len(args) != 2:
        return None
    inner = _builder(kinds[0])
    if inner is None or inner is _same:
        return inner
    return lambda value: None if value is None else inner(value)
