"""A service in a list, in a bid or a market file, is a line or an object
(services.LineOrEntry): pydantic tries both forms, and validation.py reports only the errors of
the form the item has. Held here to what a union whose form is chosen first by the item's kind
(as services were validated before) says: the same values, and the same messages at the same
places."""

from __future__ import annotations

from typing import Annotated, Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Discriminator, Tag, ValidationError

from icorules.inputs.codes import ServiceLine
from icorules.inputs.market import LineSize, MarketService
from icorules.inputs.services import Provided, ProvidedService, ServiceEntry
from icorules.inputs.validation import pydantic_problems


def _kind(value: Any) -> str:
    return "~entry" if isinstance(value, dict | ServiceEntry | LineSize) else "~line"


Chosen = Annotated[
    Annotated[ServiceLine, Tag("~line")] | Annotated[ProvidedService, Tag("~entry")],
    Discriminator(_kind),
]
ChosenInMarket = Annotated[
    Annotated[ServiceLine, Tag("~line")] | Annotated[LineSize, Tag("~entry")],
    Discriminator(_kind),
]


class Both(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provides: list[Provided]


class Reference(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provides: list[Chosen]


class BothInMarket(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provides: list[MarketService]


class ReferenceInMarket(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provides: list[ChosenInMarket]


def _answer(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data).model_dump()
    except ValidationError as exc:
        return [p.message for p in pydantic_problems(exc, model, None, "x")]


WORDS = ["outpatients", "therapies", "outpatient", "", "diabetes", "Bad Name", "beds"]
SCALARS = st.one_of(
    st.sampled_from(WORDS), st.none(), st.booleans(), st.integers(-5, 10**12), st.floats()
)
FIELDS = ["service", "specialty", "size", "size_measure", "sevice", "other"]
ITEMS = st.one_of(
    SCALARS,
    st.dictionaries(st.sampled_from(FIELDS), SCALARS, max_size=4),
    st.lists(SCALARS, max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(ITEMS, max_size=5))
def test_a_list_of_services_gets_the_chosen_forms_answer(items: list[Any]) -> None:
    data = {"provides": items}
    assert _answer(Both, data) == _answer(Reference, data)
    assert _answer(BothInMarket, data) == _answer(ReferenceInMarket, data)


def test_both_forms_are_reported_once_each() -> None:
    data = {"provides": [5, {"service": "outpatient"}, "therapies", {"specialty": "x"}]}
    assert _answer(Both, data) == [
        "provides[0]: '5' is not allowed here; expected one of: "
        + ", ".join(line.value for line in ServiceLine),
        "provides[1].service: 'outpatient' is not allowed here (did you mean 'outpatients'?); "
        "expected one of: " + ", ".join(line.value for line in ServiceLine),
        "provides[3].service: required field 'service' is missing",
    ]
