"""The durable_rules backend: the only package that imports durable_rules or speaks its JSON.

Rules arrive as typed conditions (icorules.rules.ir) and facts as plain records; this package
turns both into durable_rules' form and back, one job per module:

- `forms`: rules and facts in durable_rules' JSON (`$and`, `$lt`, `$m`, dates as YYYYMMDD, a
  fact's own id as `ref`);
- `network`: a model of the engine's fixed tables, `rule_problems` (what one rule could never
  fit) and the limits;
- `chunks`: `plan`, which packs a bundle into engine rulesets ("chunks") that stay inside every
  table, and what each chunk is sent;
- `host`: the engine itself (`Engine`, `get_engine`), driving durable_rules' C core directly.

durable_rules has sharp edges (see its C source, src/rules/*.c in jruizgit/rules, and the
pitfalls table in docs/design.md); each is handled here:

- rulesets cannot be unregistered, so each distinct engine ruleset is registered once per
  process, keyed by a hash of its JSON, and reused. Parameter values are not part of that JSON:
  each fact a chunk gets carries them as extra fields (`_0`, `_1`, ...: one per parameter
  value, compared with by `$m`, and for `field in params.LIST` one saying whether the fact's
  value is in the list, tested for true or false). So a new set of parameter values registers
  nothing new;
- the engine's tables have fixed sizes and it hangs, fails or corrupts memory past them
  (`network`): `rule_problems` refuses at load what one rule cannot fit (the loader reports it,
  located), and `plan` packs a bundle into chunks that stay inside every table. Equal tests in
  one `and`/`or` are sent once, and nested groups of the same kind are merged;
- every chunk runs in the same check. Actions only record derived facts, and the check asserts
  them into every chunk that reads their kind, round after round until none is new, so
  chaining works across chunks exactly as within one;
- sessions are capped at 1,024 per ruleset, so every check uses a fresh session id and deletes
  it in `finally` (memory stays flat over a batch);
- the stock Host runs actions on timer threads, builds Closure and Content objects per action
  and encodes the session state again after each; `host._Host` makes the same calls into the C
  core itself, in the caller's thread, under a process-wide lock;
- a fact that no rule matches makes the stock host raise MessageNotHandledException (which
  encodes the whole batch again) and defer the other actions; called directly, the C core only
  returns a code, and the actions queued for the session run at once;
- JSON encoding was most of the engine's cost: a chunk is sent only the fields its rules read
  (plus kind, id and ref, and its parameter fields), encoded by orjson; matches are mapped back
  to the caller's records by id;
- exceptions inside actions would be swallowed by the stock host; here actions catch
  everything and the error is raised again after the run; anything else the engine raises (its
  own error codes, a MemoryError) becomes EngineError, and its logger is kept quiet;
- `$or` fires once per true branch (and `given` once per matching fact): matches are
  de-duplicated on (rule, subject fact); every rule has `cap`, so an action is called once per
  rule with all its matches, not once per match;
- identical facts without an id are refused: every fact's engine id is its place among the
  session's facts (a number: shorter JSON than its kind and id, made without any text);
- floats such as 1e-07 fail to parse and integer division truncates: numbers are rounded to 4
  decimal places, dates become YYYYMMDD integers, and a divisor is always sent as a float;
- found here: `delete_state` segfaults for a session in which no action ran (first seen with
  a join rule; it happens with plain rules too). Every session therefore asserts a `~session`
  fact that a no-op rule matches, so at least one action always runs (tests/test_engine.py).
"""

from __future__ import annotations

from icorules.engines.durable.chunks import (
    SENTINEL,
    SENTINEL_RULE,
    WINDOW,
    Chunk,
    encode,
    plan,
    sending,
)
from icorules.engines.durable.forms import (
    CAP,
    SUBJECT,
    engine_value,
    pattern_json,
    translate,
)
from icorules.engines.durable.host import (
    Engine,
    Prepared,
    _import_durable,
    engine_started,
    get_engine,
)
from icorules.engines.durable.network import (
    CHUNK_RULES,
    MAX_BETAS,
    MAX_CHILDREN,
    MAX_FORWARDS,
    MAX_GROUPS,
    MAX_PATTERNS,
    MAX_PROPERTIES,
    MAX_STACK,
    MAX_TESTS,
    _Network,
    rule_problems,
)

__all__ = [
    "CAP",
    "CHUNK_RULES",
    "MAX_BETAS",
    "MAX_CHILDREN",
    "MAX_FORWARDS",
    "MAX_GROUPS",
    "MAX_PATTERNS",
    "MAX_PROPERTIES",
    "MAX_STACK",
    "MAX_TESTS",
    "SENTINEL",
    "SENTINEL_RULE",
    "SUBJECT",
    "WINDOW",
    "Chunk",
    "Engine",
    "Prepared",
    "_Network",
    "_import_durable",
    "encode",
    "engine_started",
    "engine_value",
    "get_engine",
    "pattern_json",
    "plan",
    "rule_problems",
    "sending",
    "translate",
]
