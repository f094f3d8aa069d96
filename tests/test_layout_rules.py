"""Rules for the shape of the source: no import cycles between icorules modules, no module
over MAX_LINES lines, and no eval, exec or unsafe YAML loading anywhere in src/.

Each check is a plain function over a source tree, so the tests at the bottom can show on small
made-up trees that it finds what it is meant to find (a check that finds nothing is otherwise
indistinguishable from a broken one).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
MAX_LINES = 450


# -- modules -------------------------------------------------------------------------------


def modules(src: Path, package: str = "icorules") -> dict[str, Path]:
    """Every module under `src/package` by dotted name; a package is its `__init__.py`."""
    found = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


# -- import cycles -------------------------------------------------------------------------


def _type_checking_only(node: ast.AST) -> bool:
    """`if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`): its body never runs."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements anywhere (module level, functions, classes) except in the body of an
    `if TYPE_CHECKING:` block."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if _type_checking_only(node):
            assert isinstance(node, ast.If)
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _absolute(name: str, path: Path, node: ast.ImportFrom) -> str:
    """The module a `from ... import` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = name if _is_package(path) else name.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _imports_by_name(tree: ast.AST, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """A module that calls `importlib.import_module` imports, by name, every icorules module
    it names in a string (a table of formats, a lazy export): such a table is a dependency as
    much as an import statement is."""
    calls = any(
        isinstance(n, ast.Call)
        and (
            (isinstance(n.func, ast.Attribute) and n.func.attr == "import_module")
            or (isinstance(n.func, ast.Name) and n.func.id == "import_module")
        )
        for n in ast.walk(tree)
    )
    if not calls:
        return
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in known:
            yield n.value, n.lineno


def imports_of(name: str, path: Path, known: dict[str, Path]) -> dict[str, int]:
    """The icorules modules `name` depends on, each with the line of its first import.

    `import a.b` depends on `a.b`; `from a import b` on `a.b` when that is a module, else on
    `a` (the name `b` is defined, or re-exported, there). Python runs `a/__init__.py` before
    `a.b` in both cases, but that is the import system's doing, not a use of `a`'s code, so it
    is not a dependency on `a`.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: dict[str, int] = {}

    def add(target: str, line: int) -> None:
        if target in known and target != name:
            found.setdefault(target, line)

    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
            continue
        base = _absolute(name, path, node)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            add(submodule if submodule in known else base, node.lineno)
    for target, line in _imports_by_name(tree, known):
        add(target, line)
    return found


def import_graph(known: dict[str, Path]) -> nx.DiGraph[str]:
    """Modules and their dependencies; each edge has the `line` of the import."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(known)
    for name, path in known.items():
        for target, line in imports_of(name, path, known).items():
            graph.add_edge(name, target, line=line)
    return graph


def import_cycles(src: Path, package: str = "icorules") -> list[str]:
    """Every import cycle, as a readable chain: `a (line 3) -> b (line 9) -> a`."""
    graph = import_graph(modules(src, package))
    chains = []
    for cycle in nx.simple_cycles(graph):
        start = cycle.index(min(cycle))  # the same chain whichever module it was found from
        cycle = cycle[start:] + cycle[:start]
        steps = [
            f"{a} (line {graph.edges[a, b]['line']})"
            for a, b in zip(cycle, [*cycle[1:], cycle[0]], strict=True)
        ]
        chains.append(" -> ".join([*steps, cycle[0]]))
    return sorted(chains)


def test_no_import_cycles() -> None:
    """No chain of imports between icorules modules leads back to where it started.

    What counts as an import of module B by module A, and so what a cycle is:

    * Every import statement in A, at module level or inside a function or class: an import
      inside a function only puts off the moment the cycle bites, and still ties the two
      modules together.
    * Not the imports under `if TYPE_CHECKING:`, which never run; they let a module name a
      type without depending on its module at run time.
    * `import icorules.x.y` imports `icorules.x.y`. `from icorules.x import y` imports
      `icorules.x.y` if that is a module, else `icorules.x` (where the name `y` is defined or
      re-exported).
    * Running a package's `__init__` before its submodules is the import system's doing, so a
      submodule does not import its package merely by existing, and a package's `__init__`
      may import its own submodules (a facade or a table of them).
    * But a submodule that imports a name defined in its package's `__init__` does import the
      `__init__`; if that `__init__` imports the submodule too, the two import each other: a
      cycle (one of the two runs half-initialised, or the layering is tangled).
    * A string naming an icorules module, in a module that calls `importlib.import_module`,
      is an import of it (the output formats and the top-level lazy exports are imported so).
    """
    cycles = import_cycles(SRC)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


# -- module length -------------------------------------------------------------------------


def long_modules(src: Path, limit: int = MAX_LINES) -> list[str]:
    """Modules over `limit` lines."""
    too_long = []
    for path in modules(src).values():
        relative = path.relative_to(src).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            too_long.append(f"{relative}: {lines} lines")
    return too_long


def test_no_module_is_over_the_line_limit() -> None:
    """A module that long is doing more than one job: split it (see docs/design.md)."""
    too_long = long_modules(SRC)
    assert not too_long, f"modules over {MAX_LINES} lines:\n" + "\n".join(too_long)


# -- eval, exec and unsafe YAML ------------------------------------------------------------

# PyYAML's functions that build Python objects from YAML; unsafe unless given a safe loader.
_YAML_LOADING = {"load", "load_all", "compose", "compose_all", "parse", "scan"}
# PyYAML's functions and loaders that are never safe on input from outside.
_YAML_UNSAFE = {
    "full_load",
    "full_load_all",
    "unsafe_load",
    "unsafe_load_all",
    "Loader",
    "FullLoader",
    "UnsafeLoader",
    "CLoader",
    "CFullLoader",
    "CUnsafeLoader",
}
# eval( or exec( in a file that is not Python (a script shipped for the workspace); a method
# such as RegExp's .exec( is not the builtin.
_EVAL_IN_TEXT = re.compile(r"(?<![\w.$])(eval|exec)\s*\(")


def _yaml_names(tree: ast.AST) -> tuple[set[str], dict[str, str]]:
    """The names PyYAML is bound to (`import yaml`, `import yaml as y`), and the functions
    imported from it by local name (`from yaml import load as l` -> {"l": "load"})."""
    modules_: set[str] = set()
    functions: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules_ |= {a.asname or a.name for a in node.names if a.name == "yaml"}
        elif isinstance(node, ast.ImportFrom) and node.module == "yaml":
            functions |= {a.asname or a.name: a.name for a in node.names}
    return modules_, functions


def _safe_loader(call: ast.Call) -> bool:
    """The loader passed (Loader= or second argument) is one whose name says it is safe:
    yaml.SafeLoader, yaml.CSafeLoader or a name bound to one (such as _SafeLoader)."""
    given = [k.value for k in call.keywords if k.arg == "Loader"] + call.args[1:2]
    return any("Safe" in ast.unparse(loader) for loader in given)


def _yaml_function(call: ast.Call, bound: set[str], imported: dict[str, str]) -> str | None:
    """The PyYAML function or loader a call is to, if it is to one."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.attr if func.value.id in bound else None
    if isinstance(func, ast.Name):
        return imported.get(func.id)
    return None


def dangerous_calls(path: Path) -> list[str]:
    """eval, exec, and PyYAML loading without a safe loader, in one file of src/."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return [
            f"{path}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(1)}("
            for m in _EVAL_IN_TEXT.finditer(text)
        ]
    tree = ast.parse(text, str(path))
    bound, imported = _yaml_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        builtin = (isinstance(func, ast.Name) and func.id in ("eval", "exec")) or (
            isinstance(func, ast.Attribute)
            and func.attr in ("eval", "exec")
            and isinstance(func.value, ast.Name)
            and func.value.id in ("builtins", "__builtins__")
        )
        if builtin:
            found.append(f"{path}:{node.lineno}: {ast.unparse(func)}(")
            continue
        yaml_function = _yaml_function(node, bound, imported)
        unsafe = yaml_function in _YAML_UNSAFE or (
            yaml_function in _YAML_LOADING and not _safe_loader(node)
        )
        if unsafe:
            found.append(f"{path}:{node.lineno}: yaml.{yaml_function}( without a safe loader")
    return found


def _source_files(src: Path) -> Iterator[Path]:
    """Python, and the text files shipped beside it that could run code (scripts, pages)."""
    for path in sorted(src.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".js", ".html", ".j2"):
            yield path


def test_no_eval_exec_or_unsafe_yaml_in_src() -> None:
    """Nothing from a bid, a ruleset or a request is ever run as code: conditions are parsed
    and walked (rules/expr.py), YAML is read with the safe loaders only (inputs/)."""
    found = [problem for path in _source_files(SRC) for problem in dangerous_calls(path)]
    assert not found, "\n".join(found)


# -- the checks themselves, on small made-up trees ------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_cycle_check_finds_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import f\n",
            "pkg/b.py": "def f():\n    from pkg import a\n",
        },
    )
    assert import_cycles(src, "pkg") == ["pkg.a (line 1) -> pkg.b (line 2) -> pkg.a"]


def test_cycle_check_finds_a_submodule_using_its_package_facade(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "SHARED = 1\nfrom pkg.sub import thing\n",
            "pkg/sub.py": "from pkg import SHARED\nthing = SHARED\n",
        },
    )
    assert import_cycles(src, "pkg") == ["pkg (line 2) -> pkg.sub (line 1) -> pkg"]


def test_cycle_check_finds_modules_imported_by_name(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "import importlib\n"
            "FORMATS = {'a': 'pkg.a'}\n"
            "def get(n):\n    return importlib.import_module(FORMATS[n])\n",
            "pkg/a.py": "from pkg import FORMATS\n",
        },
    )
    assert import_cycles(src, "pkg") == ["pkg (line 2) -> pkg.a (line 1) -> pkg"]


def test_cycle_check_allows_what_is_not_a_cycle(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            # a package importing its submodules, which import one another, not the package
            "pkg/__init__.py": "from pkg import a, b\nfrom .b import g\n",
            "pkg/a.py": "from pkg import b\nfrom . import c\n",
            "pkg/b.py": "import pkg.c\ndef g():\n    pass\n",
            "pkg/c.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from pkg.a import x\n",
        },
    )
    assert import_cycles(src, "pkg") == []
    graph = import_graph(modules(src, "pkg"))
    assert sorted(graph.edges) == [
        ("pkg", "pkg.a"),
        ("pkg", "pkg.b"),
        ("pkg.a", "pkg.b"),
        ("pkg.a", "pkg.c"),
        ("pkg.b", "pkg.c"),
    ]


def test_length_check_counts_lines_in_every_package(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "icorules/__init__.py": "",
            "icorules/short.py": "x = 1\n" * MAX_LINES,
            "icorules/long.py": "x = 1\n" * (MAX_LINES + 1),
            "icorules/rules/long.py": "x = 1\n" * (MAX_LINES + 1),
            "icorules/engines/long.py": "x = 1\n" * (MAX_LINES + 1),
        },
    )
    assert long_modules(src) == [
        f"icorules/engines/long.py: {MAX_LINES + 1} lines",
        f"icorules/long.py: {MAX_LINES + 1} lines",
        f"icorules/rules/long.py: {MAX_LINES + 1} lines",
    ]


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("eval('1')\n", ["eval("]),
        ("exec('x = 1')\n", ["exec("]),
        ("import builtins\nbuiltins.eval('1')\n", ["builtins.eval("]),
        ("import yaml\nyaml.load(text)\n", ["yaml.load("]),
        ("import yaml\nyaml.load(text, Loader=yaml.Loader)\n", ["yaml.load("]),
        ("import yaml as y\ny.load_all(text, y.FullLoader)\n", ["yaml.load_all("]),
        ("import yaml\nyaml.unsafe_load(text)\n", ["yaml.unsafe_load("]),
        ("import yaml\nyaml.full_load(text)\n", ["yaml.full_load("]),
        ("from yaml import load\nload(text)\n", ["yaml.load("]),
        ("import yaml\nyaml.compose(text)\n", ["yaml.compose("]),
        ("import yaml\nyaml.load(text, Loader=yaml.SafeLoader)\n", []),
        ("import yaml\nyaml.safe_load(text)\n", []),
        ("import yaml\n_SafeLoader = yaml.CSafeLoader\nyaml.compose(t, Loader=_SafeLoader)\n", []),
        ("import ast\nast.parse(text, mode='eval')\n'eval(x)'\n", []),  # words, not calls
        ("import json\njson.load(f)\n", []),
    ],
)
def test_danger_check(tmp_path: Path, source: str, found: list[str]) -> None:
    path = tmp_path / "module.py"
    path.write_text(source, encoding="utf-8")
    assert [p.split(": ", 1)[1].split(" ")[0] for p in dangerous_calls(path)] == found


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("var f = eval(text);\n", 1),
        ("var m = /^a$/.exec(location.hash);\n", 0),
        ("exec(x)\n", 1),
    ],
)
def test_danger_check_in_scripts(tmp_path: Path, source: str, found: int) -> None:
    path = tmp_path / "app.js"
    path.write_text(source, encoding="utf-8")
    assert len(dangerous_calls(path)) == found
