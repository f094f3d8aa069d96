"""durable_rules' own floor for a bundle: the engine stage minus all of icorules' Python work.

The same engine rulesets icorules registers (`icorules.engines.durable.plan`: same chunks,
same compiled conditions, same `cap`, same session sentinel), and per check the same session
handling, made straight into durable_rules' C core as icorules' engine makes it: a fresh
session id, the facts of each chunk's kinds cut to the fields its rules read, with its
parameter fields (`icorules.engines.durable.encode`), asserted with the sentinel in one call,
every queued action started and completed without being read, the session deleted. The facts
are encoded once, before timing (`prepare`), with a placeholder for the session id: per check
only the id is put in, the least any caller must do, so the floor is as low as durable_rules
can go. What is left out is exactly icorules' own work: encoding the facts, reading the
matches, de-duplicating them and deriving facts (so there is no second round either).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

import orjson

from icorules.engines.durable import SENTINEL, _import_durable, encode, plan, sending
from icorules.rules.loader import RuleBundle

_REGISTERED: dict[str, int] = {}  # engine ruleset name -> its handle in the C core
_SID = "@@sid@@"  # stands for the session id in facts encoded ahead of time


class Floor:
    """Asserts facts into a bundle's engine rulesets; no action reads its matches."""

    def __init__(self, bundle: RuleBundle) -> None:
        self._core = _import_durable()
        self._sids = itertools.count(1)
        self.chunks: list[tuple[int, Any]] = []
        for chunk in plan(bundle):
            name = f"floor_{chunk.digest()[:16]}"
            if name not in _REGISTERED:
                definition = json.dumps(chunk.definition(), ensure_ascii=False)
                _REGISTERED[name] = self._core.create_ruleset(name, definition)
            how = sending(chunk.fields, chunk.values(bundle), chunk.members(bundle))
            self.chunks.append((_REGISTERED[name], how))

    def prepare(self, facts: Sequence[dict[str, Any]]) -> list[str | None]:
        """Per chunk, the facts as icorules sends them, encoded (outside any timing)."""
        out: list[str | None] = []
        for _, how in self.chunks:
            batch = encode(facts, how, _SID)
            text = orjson.dumps([{**SENTINEL, "sid": _SID}, *batch]).decode() if batch else None
            out.append(text)
        return out

    def run(self, prepared: list[str | None]) -> None:
        """One check's worth of engine work: a session, one assert per chunk, its actions."""
        core = self._core
        sid = str(next(self._sids))
        opened: list[int] = []
        try:
            for (handle, _), text in zip(self.chunks, prepared, strict=True):
                if text is None:
                    continue
                opened.append(handle)
                _, state = core.assert_facts(handle, text.replace(_SID, sid))
                started = core.start_action_for_state(handle, state)
                if started is not None:
                    while core.complete_and_start_action(handle, state) is not None:
                        pass
        finally:
            for handle in opened:
                core.delete_state(handle, sid)
