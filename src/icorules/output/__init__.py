"""Output: each report format behind one seam.

A format is a `Renderer` with one signature in two steps. `part` renders one check's result
where the check ran: in a batch that is a worker process, which still holds the partner graph,
the rules and the parsed proposal file, so nothing is read or built again and only text travels
back. `document` puts a run's parts together with what only the whole run knows (files that
could not be read, the verdicts, the rules described once), as pieces written one after
another: a batch's output is never held as one string. The CLI's `--format` choices are
the names in `FORMATS`; each module is imported only when its format is asked for.

`Renderer` and `RenderOptions` are defined in `options.py`, which the formats import (this
module imports the formats, by name); they are exported here for everyone else.
"""

from __future__ import annotations

import importlib

from icorules.output.options import Renderer, RenderOptions

__all__ = ["FORMATS", "RenderOptions", "Renderer", "renderer"]

_MODULES = {
    "text": "icorules.output.text",
    "json": "icorules.output.json_report",
    "markdown": "icorules.output.markdown",
    "csv": "icorules.output.tabular",
    "sarif": "icorules.output.sarif",
    "junit": "icorules.output.junit",
    "github": "icorules.output.github",
    "html": "icorules.output.html",
}
FORMATS = tuple(_MODULES)


def renderer(name: str) -> Renderer:
    """The renderer of a format (see FORMATS)."""
    module = _MODULES.get(name)
    if module is None:
        raise ValueError(f"unknown format {name!r}; formats: {', '.join(FORMATS)}")
    found: Renderer = importlib.import_module(module).RENDERER
    return found
