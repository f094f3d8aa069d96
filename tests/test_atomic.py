"""Every file icorules writes is replaced in one step: an interrupted write leaves the old file.

icorules.atomic.write_atomic writes beside the target, flushes, and renames over it; on any
failure it removes what it wrote. The CLI's --output, `rules docs`, `schema`, `facts`,
`graph`, `diff`, `market import` and HTML pages all go through it (the audit test below keeps
it that way).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from icorules.cli import cli
from icorules.output import atomic
from icorules.output.atomic import write_atomic

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "south-lakeland.json"
OLD = "the previous report\n"


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_replaces_the_content(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text(OLD)
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert listing(tmp_path) == ["report.json"]


def test_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text(OLD)
    target.chmod(0o640)
    write_atomic(target, "new\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_new_file_gets_the_usual_mode(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new.json", "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left"), KeyboardInterrupt()])
@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_an_interrupted_write_leaves_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException, where: str
) -> None:
    """Fail after the new text is partly on disk (at the flush) or just before the rename."""
    target = tmp_path / "report.json"
    target.write_text(OLD)

    def interrupted(*args: Any) -> None:
        raise failure

    monkeypatch.setattr(atomic.os, where, interrupted)
    with pytest.raises(type(failure)):
        write_atomic(target, "new text " * 10_000)
    assert target.read_text() == OLD
    assert listing(tmp_path) == ["report.json"]  # no temporary file left behind


def test_text_that_cannot_be_encoded_leaves_no_trace(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text(OLD)
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "half a pair: \ud800")
    assert target.read_text() == OLD
    assert listing(tmp_path) == ["report.json"]


def test_a_symbolic_link_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text(OLD)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, "new\n")
    assert link.is_symlink()
    assert real.read_text() == "new\n"


def test_a_pipe_is_written_not_replaced(tmp_path: Path) -> None:
    """`--output /dev/stdout` or a named pipe: renaming over it would replace the device."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_atomic(fifo, "through the pipe\n")
        assert os.read(reader, 100) == b"through the pipe\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_the_cli_reports_a_failed_write_and_keeps_the_old_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    target.write_text(OLD)

    def full(*args: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full)
    args = ["check", str(EXAMPLE), "--format", "json", "--fail-on", "never", "-o", str(target)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.stderr == f"icorules: {target}: cannot write (No space left on device)\n"
    assert target.read_text() == OLD
    assert listing(tmp_path) == ["report.json"]


COMMANDS = [
    ["check", str(EXAMPLE), "--fail-on", "never"],
    ["check", str(EXAMPLE), "--format", "html", "--fail-on", "never"],
    ["rules", "docs"],
    ["schema"],
    ["facts"],
    ["graph", str(EXAMPLE)],
    ["diff", "@bundled", "@bundled"],
    [
        "market",
        "import",
        "--practices",
        str(ROOT / "examples" / "ods" / "epraccur.csv"),
        "--pct-areas",
        str(ROOT / "examples" / "ods" / "pct-areas.csv"),
    ],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_every_command_writes_through_the_atomic_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    written: list[Path] = []

    def recording(path: str | Path, text: str, **kwargs: Any) -> None:
        written.append(Path(path))
        write_atomic(path, text, **kwargs)

    monkeypatch.setattr("icorules.cli.common.write_atomic", recording)
    target = tmp_path / "out"
    result = CliRunner().invoke(cli, [*args, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert written == [target]
    assert target.read_text()


def test_nothing_else_in_icorules_writes_files() -> None:
    """An audit that keeps new code honest: only atomic.py opens files for writing."""
    writes = re.compile(
        r"write_text\(|write_bytes\(|os\.replace\(|mkstemp\(|shutil\.(copy|move)|"
        r"open\([^)]*['\"][wax]b?\+?['\"]"
    )
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted((ROOT / "src" / "icorules").rglob("*.py"))
        if path.name != "atomic.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if writes.search(line)
    ]
    assert offenders == []
