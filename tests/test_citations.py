"""Every bundled rule cites the documents it rests on, by a key its ruleset declares, and
every output gives the citation in full: a reader can find each document without any file of
ours. Outlets are given only where a document states one."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

import icorules
from icorules.cli import cli
from icorules.rules.citations import Citation, Reference, citation_text, shown_date

ROOT = Path(__file__).resolve().parents[1]
PRESS = ("news report", "feature", "article")


def test_every_bundled_rule_cites_references_its_ruleset_declares() -> None:
    for ruleset in icorules.default_rulesets().rulesets:
        cited: set[str] = set()
        for rule in ruleset.rules:
            assert rule.cites, rule.id
            for cite in rule.cites:
                if cite.ref is None:
                    assert cite.note, rule.id  # the ruleset's own statement, said to be so
                    continue
                assert cite.ref in ruleset.references, (rule.id, cite.ref)
                assert cite.quote or cite.point or cite.says, rule.id
                cited.add(cite.ref)
                if cite.reports is not None:
                    cited.add(cite.reports)
            heads = [ruleset.references[c.ref].text for c in rule.cites if c.ref]
            assert rule.source.startswith((*heads, "The ruleset's own statement"))
        assert cited == set(ruleset.references), ruleset.name  # none declared in vain


def test_no_outlet_is_guessed() -> None:
    """The trade-press articles name no outlet: each says so; nothing names one it lacks."""
    for path in sorted((ROOT / "rulesets" / "prospectus-2008").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, reference in data["references"].items():
            if reference["kind"] in PRESS and "outlet" not in reference:
                loaded = Reference(key=key, **{k: str(v) for k, v in reference.items()})
                assert "outlet not stated" in loaded.text, key
        text = path.read_text(encoding="utf-8")
        for guess in ("Pulse", "HSJ", "Health Service Journal"):
            assert guess not in text, (path.name, guess)


def test_a_quote_from_the_go_live_report_is_not_given_to_a_speaker() -> None:
    """The quote "This not about producing an ICO for a geographic area." follows Dr Kingsland
    in the report; the rule cites the report, naming no one."""
    rule = icorules.default_rulesets().rule("ELIG-001")
    assert '"This not about producing an ICO for a geographic area."' in rule.source
    assert "Dixon" not in rule.source and "Kingsland" not in rule.source


def test_a_citation_is_rendered_in_full_each_document_once() -> None:
    crump = Reference(
        key="crump-2009",
        kind="feature",
        author="Helen Crump",
        opening="A speedy selection process",
        date="2009",
    )
    act = Reference(
        key="act",
        kind="legislation",
        title="Enterprise Act 2002",
        number="2002 c. 40",
        date="2002",
        url="https://www.legislation.gov.uk/ukpga/2002/40/section/23",
    )
    refs = {"crump-2009": crump, "act": act}
    cites = (
        Citation(ref="crump-2009", quote="one"),
        Citation(ref="act", point="section 23", says="the share of supply test"),
        Citation(ref="crump-2009", quote="two"),
        Citation(note="no public source"),
    )
    assert citation_text(cites, refs) == (
        'Helen Crump, untitled feature beginning "A speedy selection process …" (outlet not '
        'stated, 2009): "one"; "two" — "Enterprise Act 2002" (legislation, 2002 c. 40, 2002, '
        "https://www.legislation.gov.uk/ukpga/2002/40/section/23): section 23: the share of "
        "supply test — The ruleset's own statement (no public source is cited): no public source"
    )
    assert [shown_date(d) for d in ("2009", "2008-11", "2009-04-01")] == [
        "2009",
        "November 2008",
        "1 April 2009",
    ]


def test_rules_show_and_docs_give_each_citation_and_the_bibliography() -> None:
    shown = json.loads(
        CliRunner().invoke(cli, ["rules", "show", "MKT-004", "--format", "json"]).stdout
    )
    [cite] = shown["citations"]
    assert cite["ref"] == "enterprise-act-2002" and cite["point"] == "section 23"
    assert cite["reference"].startswith('"Enterprise Act 2002" (legislation, 2002 c. 40')
    assert shown["source"].startswith(cite["reference"])
    assert "undertakings" in shown["description"]
    docs = CliRunner().invoke(cli, ["rules", "docs"]).stdout
    assert "### References of prospectus-2008/market" in docs
    assert "- `eu-merger-guidelines-2004`: European Commission," in docs


def test_the_markdown_and_json_reports_carry_the_full_citation() -> None:
    path = ROOT / "examples" / "church-view-defects.json"
    report = json.loads(CliRunner().invoke(cli, ["check", str(path), "--format", "json"]).stdout)
    gov002 = next(f for f in report["findings"] if f["rule"] == "GOV-002")
    expected = icorules.default_rulesets().rule("GOV-002").source
    assert gov002["source"] == expected
    assert expected.startswith('Dr Gerard Panting, untitled article beginning "Dr Gerard Panting')
    markdown = CliRunner().invoke(cli, ["check", str(path), "--format", "markdown"]).stdout
    assert '(outlet not stated, 2009): "establishing dispute resolution procedures"' in markdown
