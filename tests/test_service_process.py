"""`icorules serve` as a real process on a loopback port: it checks a bid, refuses a bad one
and shuts down cleanly on SIGTERM (exit 0, the port free again)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
pytest.importorskip("uvicorn", reason="the serve extra is not installed")

from click.testing import CliRunner

from icorules.cli import cli
from tests.serving import ROOT, port_is_free, serving

pytestmark = pytest.mark.slow


def _post(url: str, body: bytes, content_type: str) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"content-type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_a_real_server_checks_refuses_and_stops_cleanly(tmp_path: Path) -> None:
    name = "examples/church-view.json"
    body = (ROOT / name).read_bytes()
    with serving("--examples", "examples") as server:
        status, content, headers = _post(
            f"{server.url}/v1/check?filename={name}", body, "application/json"
        )
        assert status == 200 and headers["content-type"] == "application/json"
        assert "server" not in {k.lower() for k in headers}  # no version banner
        result = CliRunner().invoke(
            cli, ["--isolated", "check", str(ROOT / name), "--format", "json"]
        )
        expected = json.loads(result.stdout)
        expected["proposal"]["file"] = name
        assert json.loads(content) == expected

        bad = (ROOT / "tests/bad/proposals/trailing_comma.json").read_bytes()
        status, content, _ = _post(f"{server.url}/v1/check", bad, "application/json")
        assert status == 400
        (problem,) = json.loads(content)["problems"]
        assert problem["line"] and problem["column"] and "trailing comma" in problem["message"]

        with urllib.request.urlopen(f"{server.url}/", timeout=10) as page:
            assert b"icorules workspace" in page.read()
        code, output = server.stop()
    assert code == 0, output
    assert "Traceback" not in output
    assert port_is_free(server.port)
