"""Text icorules did not write, made safe for each place it is written to.

Names, reasons, messages and rule texts come from bids, waiver files and rulesets. Each output
is a different language with its own dangerous characters, so each has its own function here,
and every renderer passes such text through the one for its format:

- a terminal: control and bidirectional-override characters are shown escaped (`printable`),
  so an ESC, an OSC title or a U+202E cannot drive or spoof what the reader sees;
- a CSV cell: a cell that begins with = + - @, a tab or a carriage return is read as a formula
  by spreadsheets, so it gets a leading apostrophe (OWASP's advice for CSV injection);
- Markdown: HTML, links, images and emphasis are inert; code spans hold any backticks;
- XML 1.0 (JUnit, GraphML, SVG): characters XML forbids are replaced, never emitted;
- Graphviz DOT: a quoted string escapes backslashes and quotes;
- any text output: a lone surrogate, which no UTF-8 file can hold, becomes U+FFFD.
"""

from __future__ import annotations

import functools
import re

from icorules.errors import printable

__all__ = [
    "csv_cell",
    "dot_quoted",
    "markdown_code",
    "markdown_text",
    "printable",
    "unicode_safe",
    "xml_text",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A cell no spreadsheet evaluates: a leading formula character is preceded by '. Line
    breaks become \\n, which the CSV writer quotes (a lone CR would end the row early)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "'" + text if text.startswith(_FORMULA_START) else text


# What Markdown gives a meaning to anywhere in a line (links and images need brackets;
# emphasis, code and strikethrough their marks; tables the bar) ...
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]|~])")
# ... and what it reads as a block when a line (or a list item) starts with it.
_MARKDOWN_BLOCK_START = re.compile(r"^(\d*)([#+\-=.)])")


def markdown_text(text: str) -> str:
    """Text shown as itself in Markdown, on one line (and so safe in a table cell or a list
    item): no HTML tags or entities, links, images, emphasis, code spans or headings."""
    flat = " ".join(text.split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _MARKDOWN_INLINE.sub(r"\\\1", flat)
    return _MARKDOWN_BLOCK_START.sub(r"\1\\\2", flat)


def markdown_code(text: str) -> str:
    """A code span holding `text` as written, whatever backticks it contains."""
    flat = " ".join(text.split()).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


@functools.cache
def _not_xml() -> re.Pattern[str]:
    """What XML 1.0 forbids: it allows tab, newline, carriage return and U+0020 up, except
    surrogates and U+FFFE/F. Compiled on first use; written as the allowed ranges negated, the
    class took 5 ms to compile, at every start."""
    return re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text any XML 1.0 parser accepts: forbidden characters are shown as escapes (\\x1b)."""
    return _not_xml().sub(lambda m: repr(m.group())[1:-1], text)


def dot_quoted(text: str) -> str:
    """A Graphviz quoted string: backslash, quote and line breaks escaped (a name ending in a
    backslash would otherwise escape the closing quote)."""
    inner = text.replace("\\", "\\\\").replace('"', '\\"')
    inner = inner.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    return f'"{xml_text(inner)}"'


_SURROGATE = re.compile("[\ud800-\udfff]")


def unicode_safe(text: str) -> str:
    """Text that can be written as UTF-8: lone surrogates become U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)
