"""The ```console blocks of README.md and docs/*.md are run, and their output must match.

The docs present these blocks as real runs, so a change to what icorules prints must change
them too; this test is what keeps them true (as cram, trycmd or Sybil do for other projects).

A block is read as a terminal session: a line starting with `$ ` is a command (a trailing `\\`
continues it on the next line), and the lines up to the next `$ ` are what it prints on
standard output and standard error together. In the expected output, a line that is just `…`
(indented or not) stands for any number of lines, and a line ending with `…` matches any line
that starts with what comes before the `…`. Trailing spaces and blank lines at the end are not
compared, nor are exit codes (the docs do not show them).

Each block runs in a new temporary directory holding copies of `examples/`, `rulesets/` and
`tests/bad/`, as if at the top of the repository, with `NO_COLOR=1` and an 80-column terminal.
Commands go through bash (so pipes work), with `icorules` meaning `python -m icorules` of the
Python running the tests. The directory's path is shown as `/tmp/docrun` in the docs, and the
bundled rules' folder (wherever icorules is installed) as `rulesets`, where it is in the
repository.

Three HTML comments, each on the line before a fenced block (blank lines between are allowed),
say what a block needs:

- `<!-- not run: REASON -->`: the console block is not run (a pytest skip with the reason).
  For blocks whose output is another program's (Click's help layout, a server, curl, Graphviz)
  or depends on the version of a dependency, or that only show commands.
- `<!-- file: PATH -->`: the fenced block that follows (of any language) is saved as PATH
  before each console block of the same page, as the prose asks the reader to save it. Where
  the page gives PATH more than once, a block gets the last version above it (or, if all are
  below it, the first).
- `<!-- setup: COMMANDS -->`: shell commands run before the console block that follows only
  (for example, to copy a bid into place, write a `pyproject.toml` or make the edit the prose
  describes). `<!-- setup: as above -->` runs the page's previous setup again.

`python tests/test_docs_examples.py usage.md:143` prints what a block's commands print now,
to paste into the docs when the output changed on purpose.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from icorules.rules.loader import bundled_ruleset_dir

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# What the docs show for the directory a block runs in.
SHOWN_DIRECTORY = "/tmp/docrun"
# The bundled rules, wherever icorules is installed, shown as in the repository.
BUNDLED = str(bundled_ruleset_dir())
SHOWN_BUNDLED = "rulesets"
# Copied into each block's directory: what the docs' commands name, from the repository's top.
COPIED = ["examples", "rulesets", "tests/bad"]
ANY_LINES = "…"
SAME_SETUP = "as above"
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<info>\S*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*(?P<kind>not run|file|setup):\s*(?P<text>.*?)\s*-->\s*$", re.S)
# Bash functions, not PATH entries: the icorules (and Python) of the interpreter running the tests.
SHELL_PRELUDE = (
    'icorules() { "$ICORULES_DOCS_PYTHON" -m icorules "$@"; }\n'
    'python() { "$ICORULES_DOCS_PYTHON" "$@"; }\n'
)
TIMEOUT_S = 120


@dataclass
class Command:
    """One `$ ` command and the output the docs show for it."""

    text: str
    expected: list[str]


@dataclass
class Block:
    """A ```console block, with what must be in place before it runs."""

    page: str
    line: int
    commands: list[Command]
    files: dict[str, str] = field(default_factory=dict)
    setup: str | None = None
    skip: str | None = None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def _comment_before(lines: list[str], index: int) -> str | None:
    """The HTML comment ending just above line `index` (blank lines skipped), if any."""
    end = index - 1
    while end >= 0 and not lines[end].strip():
        end -= 1
    if end < 0 or not lines[end].rstrip().endswith("-->"):
        return None
    start = end
    while start >= 0 and "<!--" not in lines[start]:
        start -= 1
    return "\n".join(lines[start : end + 1]) if start >= 0 else None


def _commands(body: list[str]) -> list[Command]:
    commands: list[Command] = []
    continued = False
    for line in body:
        if continued:
            commands[-1].text += "\n" + line
        elif line.startswith("$ "):
            commands.append(Command(line[2:], []))
        elif commands:
            commands[-1].expected.append(line)
        continued = bool(commands) and line.endswith("\\") and not commands[-1].expected
    return commands


def parse_page(path: Path) -> list[Block]:
    """Every console block of a page, each with the page's files as the reader has them there."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    saved: list[tuple[int, str, str]] = []  # (line, path, text) of each `file:` block
    last_setup: str | None = None
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        indent = len(fence["indent"])
        close = index + 1
        while not lines[close].strip().startswith("```"):
            close += 1
        body = [line[indent:] for line in lines[index + 1 : close]]
        comment = _comment_before(lines, index)
        marker = MARKER.match(comment) if comment else None
        kind, text = (marker["kind"], marker["text"]) if marker else (None, "")
        if kind == "file":
            saved.append((index + 1, text, "\n".join(body) + "\n"))
        if fence["info"] == "console":
            block = Block(path.name, index + 1, _commands(body))
            block.skip = text if kind == "not run" else None
            if kind == "setup":
                last_setup = last_setup if text == SAME_SETUP else text
                block.setup = last_setup
            blocks.append(block)
        index = close + 1
    for block in blocks:
        block.files = _files_at(saved, block.line)
    return blocks


def _files_at(saved: list[tuple[int, str, str]], line: int) -> dict[str, str]:
    """Each file's last version above the line; a file the page only gives further down (as in
    "with the files of the examples below saved"), its first version."""
    files: dict[str, str] = {}
    for at, name, text in saved:
        if at < line or name not in files:
            files[name] = text
    return files


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in parse_page(page)]


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether the actual lines fit the expected ones, `…` lines and `…` endings as wildcards."""

    @cache
    def fit(e: int, a: int) -> bool:
        if e == len(expected):
            return a == len(actual)
        want = expected[e]
        if want.strip() == ANY_LINES:
            return any(fit(e + 1, later) for later in range(a, len(actual) + 1))
        if a == len(actual):
            return False
        got = actual[a]
        same = got == want or (want.endswith(ANY_LINES) and got.startswith(want[:-1]))
        return same and fit(e + 1, a + 1)

    return fit(0, 0)


def _tidy(lines: list[str]) -> list[str]:
    tidied = [line.rstrip() for line in lines]
    while tidied and not tidied[-1]:
        tidied.pop()
    return tidied


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"FORCE_COLOR", "CI", "COLUMNS"}}
    env.update(
        NO_COLOR="1",
        COLUMNS="80",
        LINES="24",
        TERM="dumb",
        LC_ALL="C.UTF-8",
        PYTHONIOENCODING="utf-8",
        PYTHONUNBUFFERED="1",  # standard output and error interleave as on a terminal
        ICORULES_DOCS_PYTHON=sys.executable,
    )
    return env


def prepare(block: Block, directory: Path) -> None:
    """Copy what the block's commands name, save the page's files, and run the block's setup."""
    for name in COPIED:
        shutil.copytree(ROOT / name, directory / name, symlinks=True)
    for name, text in block.files.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    if block.setup:
        done = subprocess.run(
            ["bash", "-ec", SHELL_PRELUDE + block.setup],
            cwd=directory,
            env=_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            pytest.fail(f"{block.id}: the setup failed:\n{done.stdout}{done.stderr}", pytrace=False)


def run(command: str, directory: Path) -> list[str]:
    """What the command prints, standard output and error together, the directory as shown."""
    done = subprocess.run(
        ["bash", "-c", SHELL_PRELUDE + command],
        cwd=directory,
        env=_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=TIMEOUT_S,
        check=False,
    )
    text = done.stdout.decode("utf-8", errors="replace")
    text = text.replace(str(directory), SHOWN_DIRECTORY).replace(BUNDLED, SHOWN_BUNDLED)
    return _tidy(text.splitlines())


BLOCKS = all_blocks()


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_console_block(block: Block) -> None:
    if block.skip:
        pytest.skip(f"{block.id} not run: {block.skip}")
    with tempfile.TemporaryDirectory(prefix="icorules-docs-") as temporary:
        directory = Path(temporary).resolve()
        prepare(block, directory)
        for command in block.commands:
            actual = run(command.text, directory)
            expected = _tidy(command.expected)
            if not matches(expected, actual):
                diff = difflib.unified_diff(expected, actual, "docs", "printed", lineterm="")
                shown = "\n".join(diff)
                pytest.fail(f"{block.id}: `$ {command.text}`:\n{shown}", pytrace=False)


def test_blocks_found() -> None:
    """Markers are spelt right and blocks are read: a mistake here would quietly skip a check."""
    assert len(BLOCKS) > 50
    for page in PAGES:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("<!--") and ":" in line and "Generated by" not in line:
                assert MARKER.match(line) or not line.rstrip().endswith("-->"), (
                    f"{page.name}:{number}: unknown marker {line.strip()!r}"
                )
    assert all(block.commands or block.skip for block in BLOCKS)


@pytest.mark.parametrize(
    ("expected", "actual", "fits"),
    [
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "b", "c"], False),
        (["a", "…", "d"], ["a", "b", "c", "d"], True),
        (["a", "  …", "d"], ["a", "d"], True),
        (["a", "…"], ["a"], True),
        (["…", "c"], ["a", "b"], False),
        (["source: Dr …"], ["source: Dr Gerard Panting"], True),
        (["source: Dr …"], ["source: Mr P. Dobson"], False),
        (["a …"], ["a …"], True),
    ],
)
def test_matching(expected: list[str], actual: list[str], fits: bool) -> None:
    """The wildcards match what the docstring says, and nothing more."""
    assert matches(expected, actual) is fits


def main(ids: list[str]) -> None:
    """Print what the named blocks' commands print now."""
    for block in BLOCKS:
        if block.id not in ids:
            continue
        with tempfile.TemporaryDirectory(prefix="icorules-docs-") as temporary:
            directory = Path(temporary).resolve()
            prepare(block, directory)
            for command in block.commands:
                print(f"$ {command.text}")
                print("\n".join(run(command.text, directory)))


if __name__ == "__main__":
    main(sys.argv[1:])
