"""Parameter values reach the engine with the facts, not inside its rulesets: durable_rules
can never free a registered ruleset, so registering one per set of values leaked about 0.75 MB
for each (and a batch or a rule-test file with many `params:` grew without bound)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import icorules
from icorules.engines import durable
from icorules.rules.testing import run_suite
from tests.proposals import clean_proposal, edited

SHARE = "max_pct_population_share"  # ELIG-003 fires above it; the clean bid's share is 0.08
SMALL_PCT = edited(lambda p: p["pct_areas"][0].update(population=30_000))  # a share of 0.6667


def registered() -> int:
    return durable.get_engine().registered


def test_new_parameter_values_register_nothing_new() -> None:
    icorules.check(SMALL_PCT)
    before = registered()
    for i in range(20):
        share = round(0.5 + i / 100, 4)
        bundle = icorules.load_rulesets(params={SHARE: share})
        fired = bool(icorules.check(SMALL_PCT, rulesets=bundle).by_rule("ELIG-003"))
        reference = icorules.check(SMALL_PCT, rulesets=bundle, engine="reference")
        assert fired == (share < 0.6667) == bool(reference.by_rule("ELIG-003")), share
    assert registered() == before


def test_list_parameters_register_one_ruleset_per_few_sizes() -> None:
    icorules.check(clean_proposal())
    before = registered()
    types = ["gp_practice", "pct", "local_authority", "nhs_trust", "foundation_trust", "school"]
    for size in range(1, len(types) + 1):
        for start in range(len(types) - size + 1):
            chosen = types[start : start + size]
            bundle = icorules.load_rulesets(params={"eligible_types": ",".join(chosen)})
            durable_report = icorules.check(clean_proposal(), rulesets=bundle)
            reference = icorules.check(clean_proposal(), rulesets=bundle, engine="reference")
            assert durable_report.findings == reference.findings, chosen
    assert registered() - before <= 4  # 1, 2, 4 or 8 places for up to six values


def test_a_rule_test_file_with_many_params_registers_nothing_new(tmp_path: Path) -> None:
    icorules.check(SMALL_PCT)
    before = registered()
    cases = [
        {
            "name": f"share {share}",
            "proposal": "small",
            "params": {SHARE: share},
            **({"expect": [{"rule": "ELIG-003"}]} if share < 0.6667 else {}),
            **({"expect_absent": ["ELIG-003"]} if share >= 0.6667 else {}),
        }
        for share in (round(0.3 + i / 50, 4) for i in range(25))
    ]
    path = tmp_path / "shares.test.yaml"
    path.write_text(yaml.safe_dump({"proposals": {"small": SMALL_PCT}, "tests": cases}))
    run = run_suite([path], None)
    assert run.failed == 0 and len(run.results) == 25
    assert registered() == before


MEMORY = """
import dataclasses, json, sys
import icorules
from icorules.engines import durable

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

bid = icorules.load_proposal(json.loads(sys.argv[1]))
loaded = icorules.default_rulesets()

def with_share(share):
    # What load_rulesets(params=...) makes, without reading the files again each time: the
    # same compiled rules with other values (the loader's own path is tested above).
    rulesets = []
    for rs in loaded.rulesets:
        params = dict(rs.parameters)
        if "max_pct_population_share" in params:
            params["max_pct_population_share"] = share
        rules = tuple(dataclasses.replace(r, params=params) for r in rs.rules)
        rulesets.append(dataclasses.replace(rs, parameters=params, rules=rules))
    return icorules.RuleBundle(tuple(rulesets))

def check(i):
    return icorules.check(bid, rulesets=with_share(round(0.3 + i / 10000, 4)))
for i in range(100):  # warm up: caches, the bundled rules' own engine rulesets
    check(i)
start, rulesets = rss_mb(), durable.get_engine().registered
for i in range(100, 1100):
    check(i)
new = durable.get_engine().registered - rulesets
print(json.dumps({"grew_mb": rss_mb() - start, "new_rulesets": new}))
"""


@pytest.mark.slow
def test_memory_stays_flat_over_1000_distinct_parameter_sets() -> None:
    """Once: 1,000 new engine rulesets and 766 MB more. In a child process, so what the rest of
    the suite allocated does not count."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", MEMORY, json.dumps(SMALL_PCT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=root,
    )
    got = json.loads(done.stdout)
    assert got["new_rulesets"] == 0
    assert got["grew_mb"] < 20, got
