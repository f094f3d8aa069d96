"""What `icorules serve` loads once, at start-up: the rules, the market and waiver files a
request may name, and the example bids the workspace offers.

Everything is loaded before the server listens, so a ruleset that does not load stops it with
the same located problems `icorules rules check` prints. The workers get this state in their
initializer and never read these files again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from icorules.api import load_market_file, resolve_rulesets
from icorules.errors import InputError, Problem
from icorules.inputs.documents import read_text
from icorules.inputs.market import Market
from icorules.limits import DEFAULT_LIMITS, Limits
from icorules.results.report import FailOn
from icorules.results.waivers import Waiver, load_waivers
from icorules.rules.loader import RuleBundle

EXAMPLE_SUFFIXES = (".json", ".yaml", ".yml")
MAX_EXAMPLES = 200  # a folder of example bids for the workspace, not a data set


@dataclass(frozen=True)
class ServeOptions:
    """The server's settings (command line over the settings file)."""

    rulesets: tuple[str, ...] = ()  # empty: the bundled rules
    params: Mapping[str, Any] = field(default_factory=dict)
    limits: Limits = DEFAULT_LIMITS
    markets: tuple[str, ...] = ()  # market files a request may name
    waivers: tuple[str, ...] = ()  # waiver files a request may name
    examples: str | None = None  # a folder of example bids for the workspace
    fail_on: FailOn = "error"


@dataclass(frozen=True)
class State:
    """The loaded settings; sent once to each worker process."""

    options: ServeOptions
    bundle: RuleBundle
    markets: Mapping[str, Market]  # by name (the file's stem)
    market_files: Mapping[str, str]
    waivers: Mapping[str, tuple[Waiver, ...]]
    waiver_files: Mapping[str, str]
    examples: Mapping[str, str]  # file name -> text


def load_state(options: ServeOptions) -> State:
    """Load everything a request may refer to; InputError with every problem found."""
    limits = options.limits
    bundle = resolve_rulesets(list(options.rulesets) or None, options.params, limits)
    problems: list[Problem] = []
    markets: dict[str, Market] = {}
    market_files = _names(options.markets, "--market", problems)
    for name, path in market_files.items():
        try:
            markets[name] = load_market_file(path, limits)  # a compiled .icm too
        except InputError as exc:
            problems.extend(exc.problems)
    waivers: dict[str, tuple[Waiver, ...]] = {}
    waiver_files = _names(options.waivers, "--waivers", problems)
    for name, path in waiver_files.items():
        try:
            waivers[name] = tuple(load_waivers(path, bundle, limits=limits))
        except InputError as exc:
            problems.extend(exc.problems)
    examples: dict[str, str] = {}
    if options.examples is not None:
        try:
            examples = read_examples(Path(options.examples), limits)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return State(options, bundle, markets, market_files, waivers, waiver_files, examples)


def _names(paths: Sequence[str], option: str, problems: list[Problem]) -> dict[str, str]:
    """Each file under the name a request uses for it: its stem (`morecambe-bay`)."""
    named: dict[str, str] = {}
    for path in paths:
        name = Path(path).stem
        if name in named and named[name] != path:
            message = f"two files are named '{name}' ({named[name]} and {path}); rename one"
            problems.append(Problem(option, None, None, message))
        named.setdefault(name, path)
    return named


def read_examples(folder: Path, limits: Limits = DEFAULT_LIMITS) -> dict[str, str]:
    """The example bids in `folder` (not its subfolders): name -> text, sorted by name."""
    if not folder.is_dir():
        raise InputError.single(str(folder), "--examples: not a folder")
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXAMPLE_SUFFIXES
    )
    if len(files) > MAX_EXAMPLES:
        message = f"--examples: {len(files)} files; the workspace offers at most {MAX_EXAMPLES}"
        raise InputError.single(str(folder), message)
    return {p.name: read_text(p, str(p), limits) for p in files}
