"""A team's settings in one file, like ruff's: `icorules.toml`, or `[tool.icorules]` in
pyproject.toml, found by walking up from the current folder.

```toml
[tool.icorules]
rulesets = ["@bundled", "our-rules/"]
market = "markets/cumbria.json"
waivers = "waivers.yaml"
fail-on = "warning"
format = "text"

[tool.icorules.params]
max_pct_population_share = 0.5

[tool.icorules.limits]
organisations = 2000
```

Paths are relative to the folder of the file that names them, so a setting means the same
wherever icorules is run from. Options on the command line override the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from icorules.errors import InputError, Problem

CONFIG_NAME = "icorules.toml"
PYPROJECT = "pyproject.toml"

Scalar = bool | int | float | str


class Settings(BaseModel):
    """What a config file may set (each key also has a command-line option)."""

    # Its validator is built when a file is read, not at every start (most runs have no file).
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, defer_build=True)
    rulesets: list[str] | None = Field(None, description="Ruleset files or folders (-r).")
    market: str | None = Field(None, description="Market context file (--market).")
    waivers: str | None = Field(None, description="Waiver file (--waivers).")
    fail_on: Literal["error", "warning", "info", "never"] | None = Field(
        None, alias="fail-on", description="Lowest severity that fails the check (--fail-on)."
    )
    format: str | None = Field(None, description="Report format (--format).")
    select: list[str] | None = Field(None, description="Rule-id prefixes to run (--select).")
    ignore: list[str] | None = Field(None, description="Rule-id prefixes to leave out (--ignore).")
    params: dict[str, Scalar | list[Scalar]] | None = Field(
        None, description="Ruleset parameter overrides (--param NAME=VALUE)."
    )
    limits: dict[str, int | str] | None = Field(
        None, description="Limits on input (--limit NAME=VALUE)."
    )

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        from icorules.output import FORMATS

        if value is not None and value not in FORMATS:
            raise ValueError(f"not a format; formats: {', '.join(FORMATS)}")
        return value


@dataclass(frozen=True)
class Config:
    """Settings and the file they came from (for messages and `icorules config`)."""

    file: Path
    settings: Settings

    @property
    def where(self) -> str:
        return f"{self.file} [tool.icorules]" if self.file.name == PYPROJECT else str(self.file)

    def path(self, value: str) -> str:
        """A path the file names, relative to the file's folder (`@bundled` stays as it is)."""
        if value.startswith("@") or Path(value).is_absolute():
            return value
        return str(self.file.parent / value)


def find_config(start: Path | None = None) -> Path | None:
    """The nearest icorules.toml, or pyproject.toml with a [tool.icorules] table, from `start`
    (default: the current folder) up to the root."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        own = candidate / CONFIG_NAME
        if own.is_file():
            return own
        project = candidate / PYPROJECT
        if project.is_file() and _has_tool_table(project):
            return project
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return re.search(r"^\s*\[tool\.icorules[\].]", text, re.M) is not None


def load_config(path: Path) -> Config:
    """Read and check a config file; InputError, located, for anything wrong in it."""
    import tomllib  # only when there is a file to read

    from icorules.inputs.documents import read_text

    name = str(path)
    text = read_text(path, name)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        line, column = (int(where.group(1)), int(where.group(2))) if where else (None, None)
        raise InputError([Problem(name, line, column, f"invalid TOML: {message}")]) from None
    prefix: tuple[str, ...] = ()
    if path.name == PYPROJECT:
        data = data.get("tool", {}).get("icorules", {})
        prefix = ("tool", "icorules")
    if not isinstance(data, dict):
        raise InputError.single(name, "[tool.icorules] should be a table of settings")
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        from icorules.inputs.validation import pydantic_problems

        problems = pydantic_problems(exc, Settings, None, name)
        raise InputError([_locate(text, prefix, p) for p in problems]) from None
    return Config(path, settings)


def _locate(text: str, prefix: tuple[str, ...], problem: Problem) -> Problem:
    """TOML keeps no positions: find the line of the setting a problem names (its last key
    written at the start of a line), and say where it is in the file's own terms."""
    path, _, message = problem.message.partition(": ")
    keys = [k for k in re.split(r"[.\[\]]+", path) if k and not k.isdigit()]
    line = None
    for key in reversed(keys):
        for number, row in enumerate(text.splitlines(), 1):
            if re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", row):
                line = number
                break
        if line is not None:
            break
    shown = ".".join([*prefix, *keys]) if keys else ".".join(prefix) or "(top level)"
    return Problem(problem.file, line, None, f"{shown}: {message}" if keys else problem.message)


def command_defaults(config: Config) -> dict[str, dict[str, Any]]:
    """Click's default map: each setting as the default of the options that take it, per
    command, so an option given on the command line still wins."""
    s = config.settings
    shared: dict[str, Any] = {}
    if s.rulesets is not None:
        shared["rulesets"] = [config.path(p) for p in s.rulesets]
    if s.params is not None:
        shared["params"] = [f"{k}={_text(v)}" for k, v in s.params.items()]
    limits = [f"{k}={v}" for k, v in (s.limits or {}).items()]
    check: dict[str, Any] = dict(shared)
    if s.market is not None:
        check["market_path"] = config.path(s.market)
    if s.waivers is not None:
        check["waivers_path"] = config.path(s.waivers)
    if s.fail_on is not None:
        check["fail_on"] = s.fail_on
    if s.format is not None:
        check["fmt"] = s.format
    if s.select is not None:
        check["select"] = s.select
    if s.ignore is not None:
        check["ignore"] = s.ignore
    if limits:
        check["limit_values"] = limits
    return {
        "check": check,
        "test": {k: v for k, v in shared.items() if k == "rulesets"},
        "graph": {k: v for k, v in check.items() if k in ("market_path", "limit_values")},
        "rules": {
            "list": shared,
            "show": shared,
            "docs": shared,
            "check": {k: v for k, v in check.items() if k in ("params", "limit_values")},
        },
    }


def _text(value: Scalar | list[Scalar]) -> str:
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
