"""The HTTP API (`icorules serve`), through FastAPI's TestClient: the same reports as the command
line, byte for byte, in every format; bad input as located problems; limits; errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx")

import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient

from icorules.cli import cli
from icorules.limits import Limits
from icorules.output import FORMATS, renderer
from icorules.service.app import create_app
from icorules.service.state import ServeOptions, load_state

ROOT = Path(__file__).resolve().parents[1]
MARKET = "examples/markets/morecambe-bay.json"
BAD = ROOT / "tests" / "bad" / "proposals"
WAIVERS = {
    "waivers": [
        {
            "rule": "GOV-002",
            "subject": "CHS-FT",
            "reason": "The trust signs the procedure before the pilot starts.",
            "approved_by": "Northern assessment panel",
        }
    ]
}


def cli_run(*args: str, input: bytes | None = None) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(cli, ["--isolated", *args], input=input)
    return result.exit_code, result.stdout_bytes, result.stderr


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("waivers") / "panel.yaml"
    path.write_text(yaml.safe_dump(WAIVERS))
    return path


@pytest.fixture(scope="module")
def client(panel: Path) -> Iterator[TestClient]:
    options = ServeOptions(
        markets=(str(ROOT / MARKET),),
        waivers=(str(panel),),
        examples=str(ROOT / "examples"),
    )
    with TestClient(create_app(load_state(options), workers=2)) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def _at_top(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # file names as the command line shows them


def post(client: TestClient, path: str, body: bytes | str, content_type: str, **query: str) -> Any:
    return client.post(path, content=body, headers={"content-type": content_type}, params=query)


# -- the same report as the command line ----------------------------------------------------


def test_check_returns_the_cli_json_report_byte_for_byte(client: TestClient) -> None:
    name = "examples/church-view.json"
    body = (ROOT / name).read_bytes()
    answer = post(client, "/v1/check", body, "application/json", filename=name)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-icorules-verdict"] == "pass"
    code, out, _ = cli_run("check", name, "--format", "json")
    assert code == 0 and answer.content == out


def test_a_bid_sent_with_no_name_is_the_cli_report_of_standard_input(client: TestClient) -> None:
    body = (ROOT / "examples/church-view.json").read_bytes()
    answer = post(client, "/v1/check", body, "application/json")
    code, out, _ = cli_run(
        "check", "-", "--stdin-filename", "<request>", "--format", "json", input=body
    )
    assert code == 0 and answer.content == out
    assert json.loads(answer.content)["proposal"]["file"] == "<request>"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_the_cli_output_with_its_media_type(client: TestClient, fmt: str) -> None:
    name = "examples/church-view-defects.json"
    answer = post(
        client,
        "/v1/check",
        (ROOT / name).read_bytes(),
        "application/json",
        filename=name,
        format=fmt,
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == renderer(fmt).media_type.split(";")[0]
    assert answer.headers["x-icorules-verdict"] == "fail"
    _, out, _ = cli_run("check", name, "--format", fmt)
    assert answer.content == out


def test_yaml_bodies_and_an_envelope_with_options(client: TestClient, panel: Path) -> None:
    name = "examples/norfolk-older-people.yaml"
    text = (ROOT / name).read_text()
    _, out, _ = cli_run("check", name, "--format", "json")
    for content_type in ("application/yaml", "text/yaml", "application/x-yaml"):
        answer = post(client, "/v1/check", text, content_type, filename=name)
        assert answer.content == out, content_type
    # the content type decides how the body is read, whatever the name says
    answer = post(client, "/v1/check", text, "application/yaml", filename="bid.json")
    assert answer.status_code == 200
    # an envelope: the proposal's text, the market and waivers by name, a threshold
    bid = "examples/church-view-defects.json"
    envelope = {
        "proposal": (ROOT / bid).read_text(),
        "filename": bid,
        "waivers": "panel",
        "fail_on": "warning",
        "format": "text",
    }
    answer = client.post("/v1/check", json=envelope)
    _, out, _ = cli_run(
        "check", bid, "--waivers", str(panel), "--fail-on", "warning", "--format", "text"
    )
    assert answer.status_code == 200 and answer.content == out
    assert "Waived" in answer.text


def test_market_by_name_inline_and_by_query(client: TestClient) -> None:
    bid = "examples/bay-clean.json"
    _, out, _ = cli_run("check", bid, "--market", MARKET, "--format", "json")
    by_query = post(
        client, "/v1/check", (ROOT / bid).read_bytes(), "application/json",
        filename=bid, market="morecambe-bay",
    )  # fmt: skip
    assert by_query.content == out
    inline = json.loads((ROOT / MARKET).read_text())
    answer = client.post(
        "/v1/check",
        json={"proposal": (ROOT / bid).read_text(), "filename": bid, "market": inline},
    )
    report = answer.json()
    assert answer.status_code == 200 and report["markets"] and not report["not_evaluated"]


def test_params_rules_selection_and_explain(client: TestClient) -> None:
    bid = "examples/south-lakeland.json"
    text = (ROOT / bid).read_text()
    answer = client.post(
        "/v1/check",
        json={"proposal": text, "filename": bid, "params": {"max_pct_population_share": 0.2}},
    )
    _, out, _ = cli_run("check", bid, "--param", "max_pct_population_share=0.2", "--format", "json")
    assert answer.content == out
    chosen = client.post(
        "/v1/check", json={"proposal": text, "select": ["ELIG", "GOV-001"], "explain": True}
    ).json()
    ids = {f["rule"] for f in chosen["findings"]} | set(chosen["passed"])
    assert ids and all(i.startswith("ELIG-") or i == "GOV-001" for i in ids)
    assert all(f.get("explanation") for f in chosen["findings"])
    s = chosen["summary"]
    assert s["passed"] == len(chosen["passed"])
    assert s["error"] + s["warning"] + s["info"] == len(chosen["findings"])


def test_batch_returns_the_runs_document(client: TestClient) -> None:
    names = ["examples/church-view.json", "examples/norfolk-older-people.yaml"]
    envelope = {"proposals": [{"proposal": (ROOT / n).read_text(), "filename": n} for n in names]}
    for fmt in ("json", "csv", "junit", "markdown"):
        answer = client.post("/v1/check/batch", json={**envelope, "format": fmt})
        _, out, _ = cli_run("check", *names, "--format", fmt)
        assert answer.status_code == 200 and answer.content == out, fmt
    # objects, not text: reports without a file, problems named after the item
    bad = {"proposals": [{"proposal": {"id": "x"}}, {"proposal": (ROOT / names[0]).read_text()}]}
    answer = client.post("/v1/check/batch", json=bad)
    assert answer.status_code == 400
    assert {p["file"] for p in answer.json()["problems"]} == {"proposals[0]"}
    html = client.post("/v1/check/batch", json={**envelope, "format": "html"})
    assert html.status_code == 400 and "one at a time" in html.text


# -- bad input: located problems, as the command line prints them ---------------------------


@pytest.mark.parametrize(
    "path",
    sorted(p for p in BAD.iterdir() if not p.name.startswith("valid")),
    ids=lambda p: p.name,
)
def test_a_bad_bid_gets_the_problems_the_cli_prints(client: TestClient, path: Path) -> None:
    name = f"tests/bad/proposals/{path.name}"
    kind = "application/yaml" if path.suffix == ".yaml" else "application/json"
    answer = post(client, "/v1/check", path.read_bytes(), kind, filename=name)
    code, _, err = cli_run("check", name)
    assert code == 2
    assert answer.status_code in (400, 413), answer.text
    problems = answer.json()["problems"]
    assert [f"icorules: {p['text']}" for p in problems] == err.splitlines()
    for p in problems:
        assert set(p) == {"file", "line", "column", "path", "message", "text"}
        assert p["file"] == name
        if p["path"] is not None:
            assert p["message"].startswith(p["path"] + ": ")


def test_problems_carry_their_json_path(client: TestClient) -> None:
    bid = json.loads((ROOT / "examples/church-view.json").read_text())
    bid["organisations"][1]["type"] = "hospital"
    bid["organisations"][2]["list_size"] = "many"
    answer = post(client, "/v1/check", json.dumps(bid, indent=2), "application/json")
    assert answer.status_code == 400
    by_path = {p["path"]: p for p in answer.json()["problems"]}
    assert {"organisations[1].type", "organisations[2].list_size"} <= set(by_path)
    assert by_path["organisations[1].type"]["line"] is not None
    envelope = client.post("/v1/check", json={"proposal": bid})  # an object: paths, no lines
    paths = {p["path"] for p in envelope.json()["problems"]}
    assert "organisations[1].type" in paths


@pytest.mark.parametrize(
    ("query", "envelope", "words"),
    [
        ({"format": "pdf"}, {}, "unknown format 'pdf'"),
        ({"market": "morecambe"}, {}, "did you mean 'morecambe-bay'"),
        ({"waivers": "nobody"}, {}, "no waiver file named 'nobody'"),
        ({}, {"params": {"no_such_param": 1}}, "no loaded ruleset has a parameter"),
        ({}, {"params": {"max_pct_population_share": "half"}}, "expected a number"),
        ({}, {"select": ["GOV-9"]}, "select: no loaded rule id starts with 'GOV-9'"),
        ({}, {"colour": "red"}, "colour"),
        ({}, {"waivers": {"waivers": [{"rule": "NOPE-001"}]}}, "waivers[0]"),
    ],
)
def test_bad_options_are_400_with_located_problems(
    client: TestClient, query: dict[str, str], envelope: dict[str, Any], words: str
) -> None:
    text = (ROOT / "examples/church-view.json").read_text()
    if envelope:
        answer = client.post("/v1/check", json={"proposal": text, **envelope}, params=query)
    else:
        answer = post(client, "/v1/check", text, "application/json", **query)
    assert answer.status_code == 400, answer.text
    assert words in answer.text


def test_not_utf8_and_not_json_at_all(client: TestClient) -> None:
    answer = post(client, "/v1/check", "é".encode("latin-1"), "application/json")
    assert answer.status_code == 400 and "not UTF-8" in answer.text
    answer = post(client, "/v1/check", b"{", "application/json")
    assert answer.status_code == 400
    assert answer.json()["problems"][0]["line"] == 1


# -- limits ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(panel: Path) -> Iterator[TestClient]:
    """A server with small limits."""
    limits = Limits(input_bytes=20_000, depth=12, organisations=10)
    with TestClient(create_app(load_state(ServeOptions(limits=limits)), workers=1)) as c:
        yield c


def test_a_body_over_the_byte_limit_is_413_before_it_is_parsed(small: TestClient) -> None:
    big = b"{" + b" " * 30_000 + b"}"
    answer = post(small, "/v1/check", big, "application/json")
    assert answer.status_code == 413
    (problem,) = answer.json()["problems"]
    assert "input_bytes limit is 20,000" in problem["message"]

    def chunks() -> Iterator[bytes]:  # no content-length: counted as it arrives
        for _ in range(40):
            yield b" " * 1000

    answer = small.post("/v1/check", content=chunks(), headers={"content-type": "text/yaml"})
    assert answer.status_code == 413
    for path in ("/v1/check/batch", "/v1/try"):
        assert post(small, path, big, "application/json").status_code == 413


def test_depth_and_organisation_limits_are_400(small: TestClient) -> None:
    deep = "[" * 40 + "]" * 40
    answer = post(small, "/v1/check", deep, "application/json")
    assert answer.status_code == 400 and "the depth limit is 12" in answer.text
    bid = json.loads((ROOT / "examples/south-lakeland.json").read_text())
    answer = small.post("/v1/check", json={"proposal": bid})
    assert answer.status_code == 400 and "the organisations limit is 10" in answer.text
    yaml_bomb = (BAD / "alias_bomb.yaml").read_bytes()
    answer = post(small, "/v1/check", yaml_bomb, "application/yaml")
    assert answer.status_code == 400 and "values limit" in answer.text


# -- failures inside: 500, one line, no traceback -------------------------------------------


@pytest.mark.parametrize(
    ("raised", "words"),
    [("engine", "the rules engine failed"), ("bug", "internal error (ZeroDivisionError")],
)
def test_a_failure_inside_is_a_500_with_one_line(
    monkeypatch: pytest.MonkeyPatch, raised: str, words: str
) -> None:
    from icorules.engines import EngineError
    from icorules.service import checks

    def broken(*args: Any, **kwargs: Any) -> Any:
        if raised == "engine":
            raise EngineError("a rule action failed: boom")
        return 1 / 0

    monkeypatch.setattr(checks, "run_check", broken)  # as the worker runs it
    state = load_state(ServeOptions())
    body = (ROOT / "examples/church-view.json").read_bytes()
    reply = checks.handle(
        state, checks.Request(body, "application/json"), checks.BundleCache(state)
    )
    assert reply.status == 500
    data = json.loads(reply.body)
    assert list(data) == ["error"] and words in data["error"]
    assert b"Traceback" not in reply.body and "\n" not in data["error"]


def test_a_worker_that_dies_is_a_500_and_the_pool_is_replaced() -> None:
    import asyncio
    import os

    from icorules.service.checks import Request
    from icorules.service.workers import Workers, check_in_worker

    workers = Workers(load_state(ServeOptions()), 1)
    try:
        died = asyncio.run(workers.run(os._exit, 9))
        assert died.status == 500 and b"worker process died" in died.body
        body = (ROOT / "examples/church-view.json").read_bytes()
        again = asyncio.run(workers.run(check_in_worker, Request(body, "application/json")))
        assert again.status == 200
    finally:
        workers.close()


def test_an_error_outside_the_workers_is_a_500_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from icorules.service import app as service_app

    monkeypatch.setattr(service_app, "__version__", object())  # /healthz cannot encode it
    with TestClient(
        create_app(load_state(ServeOptions()), workers=1), raise_server_exceptions=False
    ) as c:
        answer = c.get("/healthz")
    assert answer.status_code == 500 and list(answer.json()) == ["error"]
    assert "Traceback" not in answer.text


# -- rules, schemas, settings, health, OpenAPI ----------------------------------------------


def test_rules_and_one_rule_as_rules_show(client: TestClient) -> None:
    listed = client.get("/v1/rules").json()
    _, out, _ = cli_run("rules", "list", "--format", "json")
    assert [r["id"] for r in listed] == [r["id"] for r in json.loads(out)]
    assert all(r["fires_when"] and r["source"] for r in listed)
    rule = client.get("/v1/rules/ELIG-003").json()
    _, out, _ = cli_run("rules", "show", "ELIG-003", "--format", "json")
    shown = json.loads(out)
    assert rule == shown
    assert [p["name"] for p in rule["parameters"]] == ["max_pct_population_share"]
    assert rule["parameters"][0]["meaning"]
    missing = client.get("/v1/rules/GOV-999")
    assert missing.status_code == 404 and "GOV-" in missing.text


@pytest.mark.parametrize("document", ["proposal", "market", "report"])
def test_schemas_are_the_cli_schemas(client: TestClient, document: str) -> None:
    _, out, _ = cli_run("schema", document)
    assert client.get(f"/v1/schema/{document}").json() == json.loads(out)


def test_settings_health_examples_and_openapi(client: TestClient) -> None:
    settings = client.get("/v1/settings").json()
    assert [m["name"] for m in settings["markets"]] == ["morecambe-bay"]
    assert [w["name"] for w in settings["waivers"]] == ["panel"]
    assert "church-view.json" in settings["examples"] and "json" in settings["formats"]
    assert client.get("/healthz").json()["status"] == "ok"
    example = client.get("/v1/examples/church-view.json")
    assert example.text == (ROOT / "examples/church-view.json").read_text()
    assert client.get("/v1/examples/../pyproject.toml").status_code == 404
    spec = client.get("/openapi.json").json()
    assert {"/v1/check", "/v1/check/batch", "/v1/rules", "/v1/rules/{rule_id}"} <= set(
        spec["paths"]
    )
    schemas = spec["components"]["schemas"]
    assert {"Proposal", "Report", "CheckEnvelope", "BatchEnvelope", "Problems"} <= set(schemas)
    body = spec["paths"]["/v1/check"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/yaml"} <= set(body)


def test_the_workspace_is_served_from_the_package(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "Try a rule" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from elsewhere
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "innerHTML" not in script.text  # text from bids is only ever set as text
    assert client.get("/static/../app.py").status_code == 404


# -- Try a rule -----------------------------------------------------------------------------


def test_a_draft_copy_of_a_rule_loads_and_fires_where_the_rule_does(client: TestClient) -> None:
    draft = client.get("/v1/rules/GOV-002/draft")
    assert draft.status_code == 200 and "id: GOV-002" in draft.text
    assert yaml.safe_load(draft.text)["ruleset"] == "draft/governance"
    examples = ["church-view-defects.json", "church-view.json"]
    answer = client.post("/v1/try", json={"ruleset": draft.text, "examples": examples}).json()
    assert answer["loads"] and answer["problems"] == [] and answer["lint"] == []
    fired = {r["bid"]: r["fired"] for r in answer["results"]}
    assert [f["subject"]["id"] for f in fired["church-view-defects.json"]] == ["CHS-FT"]
    assert fired["church-view.json"] == []
    finding = fired["church-view-defects.json"][0]
    assert finding["ruleset"] == "draft/governance" and finding["explanation"]
    assert any(r["not_fired"] for r in answer["results"])


def test_an_edited_draft_fires_elsewhere_and_a_broken_one_says_where(client: TestClient) -> None:
    draft = client.get("/v1/rules/GOV-002/draft").text
    made_to_fire = draft.replace(
        "condition: not in_dispute_procedure",
        "condition: in_dispute_procedure or not in_dispute_procedure",
    )
    answer = client.post(
        "/v1/try", json={"ruleset": made_to_fire, "examples": ["church-view.json"]}
    ).json()
    assert answer["loads"] and answer["results"][0]["fired"]
    assert {f["code"] for f in answer["lint"]} == {"RL007"}  # always true
    broken = draft.replace("condition: not in_dispute_procedure", "condition: not in_dispute")
    answer = client.post("/v1/try", json={"ruleset": broken, "examples": []}).json()
    assert not answer["loads"]
    (problem,) = answer["problems"]
    assert problem["file"] == "draft.yaml" and problem["line"] is not None
    assert "in_dispute" in problem["message"]
    not_yaml = client.post("/v1/try", json={"ruleset": "rules: [", "examples": []}).json()
    assert not not_yaml["loads"] and not_yaml["problems"][0]["line"] is not None
    pasted = client.post(
        "/v1/try",
        json={"ruleset": made_to_fire, "proposal": (ROOT / "examples/surrey-pbc.json").read_text()},
    ).json()
    assert pasted["results"][0]["bid"] == "pasted bid" and pasted["results"][0]["fired"]


def test_a_draft_without_a_fix_is_linted(client: TestClient) -> None:
    draft = client.get("/v1/rules/ELIG-003/draft").text
    lines = [line for line in draft.splitlines() if not line.lstrip().startswith("fix:")]
    answer = client.post("/v1/try", json={"ruleset": "\n".join(lines)}).json()
    assert not answer["loads"]  # fix is required
    assert "RL004" in {f["code"] for f in answer["lint"]}


def test_try_refuses_what_is_not_a_trial(client: TestClient) -> None:
    assert client.post("/v1/try", content=b"[1]").status_code == 400
    assert client.post("/v1/try", json={"ruleset": 3}).status_code == 400
    answer = client.post("/v1/try", json={"ruleset": "x: 1", "market": "nowhere"})
    assert answer.status_code in (200, 400)


# -- the command --------------------------------------------------------------------------


def test_serve_refuses_a_ruleset_that_does_not_load(tmp_path: Path) -> None:
    rules = ROOT / "tests/bad/rulesets/missing_key.yaml"
    code, _, err = cli_run("serve", "-r", str(rules))
    assert code == 2
    assert f"{rules}:9:5: rules[0].fix: required field 'fix' is missing" in err
    code, _, err = cli_run("serve", "--market", str(tmp_path / "none.json"))
    assert code == 2 and "no such file" in err


def test_a_worker_works_out_its_markets_lookups_and_freezes_them_before_any_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """So that a worker's first check neither builds them nor sets off a full collection."""
    import gc
    import signal

    from icorules.inputs.market import LOOKUPS
    from icorules.service import workers

    state = load_state(ServeOptions(markets=(str(ROOT / MARKET),)))
    market = next(iter(state.markets.values()))
    assert not set(LOOKUPS) & market.__dict__.keys()
    frozen: list[bool] = []
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # not this test process's
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    monkeypatch.setattr(workers, "_state", None)
    monkeypatch.setattr(workers, "_bundles", None)
    workers._init(state)
    assert set(LOOKUPS) <= market.__dict__.keys()
    assert frozen == [True]
