"""The batch summary table at the end of a text report: its exact layout, with and without
colour, and file names shown whole and as they are (wide characters, brackets, backslashes,
control characters), never wrapped or cut short."""

from __future__ import annotations

from rich.cells import cell_len

from icorules.output.text import summary_table
from icorules.results.findings import construct
from icorules.results.outcome import Outcome
from icorules.results.report import Summary


def outcome(path: str, error: int = 0, warning: int = 0, info: int = 0) -> Outcome:
    counts = {"error": error, "warning": warning, "info": info, "waived": 0}
    return Outcome(path, summary=construct(Summary, **counts, passed=3, not_evaluated=0))


BATCH = [outcome("a.json", info=2), outcome("bids/b.json", error=12, warning=1), Outcome("c.json")]


def test_layout_without_colour() -> None:
    assert summary_table(BATCH, "error") == (
        "\n"
        " Proposal      Errors   Warnings   Notes   Waived   Verdict\n"
        " " + "─" * 61 + "\n"
        " a.json             0          0       2        0   pass\n"
        " bids/b.json       12          1       0        0   fail\n"
        " c.json             -          -       -        -   unreadable\n"
        "\n"
        "3 proposals: 1 pass, 1 fail, 1 unreadable\n"
    )


def test_layout_with_colour() -> None:
    def bold(text: str) -> str:
        return f"\x1b[1m{text}\x1b[0m"

    gap = bold(" ") + " " + bold(" ")
    header = gap.join(bold(c) for c in ["Proposal   ", "Errors", "Warnings", "Notes", "Waived"])
    rows = summary_table(BATCH[:2], "warning", color=True).splitlines()
    assert rows[1] == " " + header + gap + bold("Verdict")
    assert rows[3] == " a.json             0          0       2        0   \x1b[32mpass\x1b[0m"
    assert rows[4] == " bids/b.json       12          1       0        0   \x1b[1;31mfail\x1b[0m"
    assert rows[6] == (
        "\x1b[1;36m2\x1b[0m proposals: \x1b[1;36m1\x1b[0m pass, \x1b[1;36m1\x1b[0m fail"
    )


def test_names_are_shown_whole_and_as_they_are() -> None:
    names = [
        "提案/中文名の提案書.json",  # wide characters: two terminal columns each
        r"bids\[bold]x[/bold].json",  # markup-like text, and a backslash before a bracket
        "bid\x1b[31m\u202e.json",  # a control and a bidi character, escaped
        "long-" * 60 + ".json",
    ]
    rows = summary_table([outcome(n, warning=1) for n in names], "error").splitlines()[3:7]
    assert rows[0].startswith(" 提案/中文名の提案書.json ")
    assert rows[1].startswith(" " + r"bids\[bold]x[/bold].json" + " ")
    assert rows[2].startswith(r" bid\x1b[31m\u202e.json ")
    assert rows[3].startswith(" " + "long-" * 60 + ".json ")
    # every row's verdict starts in the same terminal column, whatever the name's characters
    assert len({cell_len(row[: row.rindex("pass")]) for row in rows}) == 1
