"""Input errors that the CLI reports as `file:line:col: message` and exit code 2."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Control characters (C0, DEL, C1), line and paragraph separators, bidirectional overrides
# and lone surrogates from input would break the one-line-per-problem output, drive the
# terminal (ANSI escapes, OSC titles and hyperlinks) or reorder what is shown (U+202E), so
# every terminal output shows them escaped.
_UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)


def printable(text: str) -> str:
    """`text` on one line with control and bidi characters written as escapes (\\n, \\x1b,
    \\u202e, ...): what a terminal may be shown of text icorules did not write."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, located as precisely as we can."""

    file: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = printable(self.file)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {printable(self.message)}"


def _order(p: Problem) -> tuple[str, int, int, str]:
    return (p.file, p.line or 0, p.column or 0, p.message)


class InputError(Exception):
    """Raised for bad input (a proposal, market file or ruleset); carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=_order)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type, tuple[list[Problem]]]:
        """So an InputError raised in a worker process reaches the parent intact."""
        return (InputError, (self.problems,))

    @classmethod
    def single(cls, file: str, message: str, line: int | None = None) -> InputError:
        return cls([Problem(file, line, None, message)])


def did_you_mean(word: str, choices: Iterable[object]) -> str:
    """A ' (did you mean 'x'?)' suffix for the closest choice, or ''."""
    import difflib

    options = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
