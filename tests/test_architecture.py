"""The shape of the house: the library apart from the companion, no import cycles, a light `import gmm`.

The library (every module of ``gmm`` outside ``gmm.companion``) is what a user installs: it must
not import the companion, must not import plotting or notebook machinery at import time, and must
not know where a checkout is. Imports between the package's modules form no cycle, counting
imports inside functions too (a cycle hidden in a function is still a cycle).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import gmm

PACKAGE = Path(gmm.__file__).resolve().parent
HEAVY_AT_IMPORT = ("matplotlib", "papermill", "nbformat", "IPython")
#: Back ends a module may import at its top only if the library loads that module lazily.
LAZY_BACKENDS = ("dask", "distributed", "numba", "matplotlib")
#: The modules a user imports directly.
ENTRY_MODULES = ("gmm.mixture", "gmm.segmentation", "gmm.distinct", "gmm.image", "gmm.metrics", "gmm.labels",
                 "gmm.regions", "gmm.render", "gmm.history", "gmm.data")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def _imports(path: Path, *, top_level_only=False) -> set[str]:
    """Absolute names of modules imported by a file (``from a import b`` counts ``a`` and ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _library_modules():
    return {name: path for name, path in _modules().items() if not name.startswith("gmm.companion")}


def test_the_library_never_imports_the_companion():
    offenders = {name: sorted(i for i in _imports(path) if i.startswith("gmm.companion"))
                 for name, path in _library_modules().items()}
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("heavy", HEAVY_AT_IMPORT)
def test_the_library_imports_no_heavy_machinery_at_import_time(heavy):
    offenders = [name for name, path in _library_modules().items()
                 if any(i == heavy or i.startswith(heavy + ".") for i in _imports(path, top_level_only=True))]
    assert offenders == []


def test_the_library_does_not_know_the_checkout():
    # A checkout's folders named from library code would be created inside site-packages.
    for name, path in _library_modules().items():
        source = path.read_text(encoding="utf-8")
        for marker in ("REPO_ROOT", "PACKAGE_DIR.parent", "pipeline.yml", '"notebooks"', "'notebooks'"):
            assert marker not in source, f"{name} mentions {marker}"


def test_no_import_cycle_between_the_package_modules():
    modules = _modules()
    graph = {name: {i for i in _imports(path) if i in modules and i != name and not name.startswith(i + ".")}
             for name, path in modules.items()}
    # Importing a submodule imports its parent packages: only the gmm.X -> gmm edge is implied.
    for name in graph:
        graph[name].discard("gmm")
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(target):] + [target]))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)


@pytest.mark.parametrize("module", ENTRY_MODULES)
def test_entry_modules_load_no_backend_until_used(module):
    code = f"import sys, {module}; print(','.join(m for m in {LAZY_BACKENDS!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_import_gmm_is_light():
    code = ("import sys, gmm; heavy = ['matplotlib', 'sklearn', 'scipy', 'papermill', 'nbformat', 'skimage', "
            "'dask', 'numba']; print(','.join(m for m in heavy if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""
    assert gmm.GaussianMixture.__module__ == "gmm.mixture"  # the lazy names resolve
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gmm.nope  # noqa: B018
    assert set(gmm.__all__) <= set(dir(gmm))
