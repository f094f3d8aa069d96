"""The tools teams already use: pre-commit hooks and the container recipe for `icorules serve`
(building the image is not part of CI; these check what can be checked without it)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import yaml

from icorules.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def _command(entry: str) -> click.Command:
    words = shlex.split(entry)
    assert words[0] == "icorules"
    command: click.Command = cli
    for word in words[1:]:
        if word.startswith("-"):
            break
        assert isinstance(command, click.Group), entry
        found = command.get_command(click.Context(command), word)
        assert found is not None, f"{entry}: no command {word!r}"
        command = found
    options = {
        o
        for p in command.params
        for o in [*getattr(p, "opts", []), *getattr(p, "secondary_opts", [])]
    }
    for word in words[1:]:
        if word.startswith("-"):
            assert word in options, f"{entry}: no option {word}"
    return command


def test_pre_commit_hooks_run_real_commands_on_the_right_files() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"icorules-check", "icorules-rules-check", "icorules-test"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["name"] and hook["description"]
        _command(hook["entry"])

    def matches(hook_id: str, path: str) -> bool:
        hook = hooks[hook_id]
        wanted = re.search(hook["files"], path) is not None
        return wanted and not ("exclude" in hook and re.search(hook["exclude"], path))

    assert matches("icorules-check", "bids/round-2/church-view.json")
    assert matches("icorules-check", "bids/norfolk.yaml")
    assert not matches("icorules-check", "rulesets/prospectus-2008/choice.yaml")
    assert not matches("icorules-check", "bids/tests/x.test.yaml")
    for ruleset in (ROOT / "rulesets").rglob("*.yaml"):
        path = str(ruleset.relative_to(ROOT))
        test_file = path.endswith(".test.yaml")
        assert matches("icorules-rules-check", path) is not test_file, path
        assert matches("icorules-test", path), path
    assert hooks["icorules-test"]["pass_filenames"] is False


def test_the_container_recipe() -> None:
    text = (ROOT / "Containerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert stages and all(s == "python:3.11-slim" for s in stages)
    assert "gcc" in text and '".[serve]"' in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    for copied in re.findall(r"^COPY (?!--from)(?:--\S+ )?(\S+(?: \S+)*) \S+$", text, re.M):
        for name in copied.split():
            assert (ROOT / name).exists(), name
    assert re.search(r'ENTRYPOINT \["icorules", "serve"', text)
