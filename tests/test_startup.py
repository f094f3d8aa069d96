"""What a cold `icorules check` pays for before it checks anything: the modules it imports.

A command's module is imported only when that command runs, a format's only when it is asked
for, and what only other commands need (the service, lint, the explainer, fixes, HTML, the
reference backend, a process pool, rich) is never imported by a check. pydantic's plugin
loader, which imports importlib.metadata, is replaced by one that finds none when the command
line disables plugins (as it does by default). Importing the command line itself imports no
pydantic model at all. And the collector stays as a program that calls `cli` set it.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import icorules
from icorules.cli import cli

ROOT = Path(__file__).resolve().parents[1]
# The icorules under test, wherever the child runs (its folder is not this repository).
SOURCE = str(Path(icorules.__file__).resolve().parents[1])
EXAMPLE = ROOT / "examples" / "church-view.json"

# Never imported by `icorules check` of a JSON proposal, as text, with the bundled rules (PyYAML
# and the readers built on it: only a YAML document, or a problem to locate, needs them).
NOT_FOR_A_CHECK = {
    "asyncio",
    "concurrent.futures",
    "durable",  # durable_rules' Python package (its stock host): only its C extension is used
    "fastapi",
    "importlib.metadata",
    "icorules.compiled_market",
    "icorules.engines.reference",
    "icorules.inputs.marks",
    "icorules.inputs.yaml_reader",
    "icorules.output.editing",
    "icorules.output.html",
    "icorules.output.json_report",
    "icorules.results.fixes",
    "icorules.rules.explain",
    "icorules.rules.lint",
    "icorules.rules.testing",
    "icorules.service",
    "jinja2",
    "junitparser",
    "multiprocessing",
    "networkx",
    "rich",
    "sarif_pydantic",
    "tomllib",
    "yaml",
}


def modules_after(code: str, cwd: Path) -> set[str]:
    """The modules a fresh interpreter holds after running `code` (which may exit)."""
    report = "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)))"
    wrapped = f"import atexit, json, sys\natexit.register(lambda: {report})\n{code}"
    path = os.pathsep.join(filter(None, [SOURCE, os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", wrapped],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert done.returncode == 0, done.stderr
    found: list[str] = json.loads(done.stderr.rpartition("MODULES ")[2])
    return set(found)


def test_importing_the_command_line_imports_no_models(tmp_path: Path) -> None:
    held = modules_after("import icorules.cli", tmp_path)
    assert "icorules.cli.common" in held
    assert not held & {"pydantic", "yaml", "icorules.api", "icorules.engines.cost"}


def test_a_check_imports_only_what_a_check_needs(tmp_path: Path) -> None:
    code = (
        "sys.argv = ['icorules', 'check', sys.argv[1]]\nfrom icorules.cli import main\nmain()\n"
    ).replace("sys.argv[1]", repr(str(EXAMPLE)))
    modules_after(code, tmp_path)  # the bundled rules compiled and cached (this suite's cache)
    held = modules_after(code, tmp_path)  # and read from the cache
    assert {"icorules.cli.check", "icorules.engines.durable", "icorules.output.text"} <= held
    assert not held & NOT_FOR_A_CHECK, sorted(held & NOT_FOR_A_CHECK)


def test_a_program_that_calls_cli_keeps_its_collector() -> None:
    """Only main(), whose process is the command line's, freezes what it imports and makes."""
    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    result = CliRunner().invoke(cli, ["check", str(EXAMPLE), "--quiet"])
    assert result.exit_code == 0, result.output
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_the_stand_in_plugin_loader_hands_anything_else_to_pydantics_own(tmp_path: Path) -> None:
    """Plugins disabled: no plugins, and importlib.metadata only once pydantic asks the loader
    for something the stand-in does not have."""
    code = (
        "import os; os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'\n"
        "from icorules.cli import _no_plugin_loader\n"
        "_no_plugin_loader()\n"
        "from pydantic import BaseModel\n"
        "class A(BaseModel):\n"
        "    x: int\n"
        "assert A(x=1).x == 1\n"
        "from pydantic.plugin._loader import get_plugins\n"
        "assert tuple(get_plugins()) == () and 'importlib.metadata' not in sys.modules\n"
        "from pydantic.plugin._loader import PYDANTIC_ENTRY_POINT_GROUP\n"
        "assert PYDANTIC_ENTRY_POINT_GROUP == 'pydantic'\n"
    )
    held = modules_after(code, tmp_path)
    assert "importlib.metadata" in held
