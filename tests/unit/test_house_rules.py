"""The layout's rules, read off the source: imports run one way, files and functions stay short."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bootstrap", "devstack", "intake", "models", "workers", "tests", "bench", "telemetry")
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 40
# Layers, innermost first: each may import only from itself and the layers before it.
MODEL_LAYERS = ("models.domain", "models.ports", "models.tables", "models.store", "models.services")


def sources(*packages: str) -> Iterator[Path]:
    """The Python files of the packages; migrations are records, not code to read."""
    for package in packages:
        yield from (
            p for p in sorted((ROOT / package).rglob("*.py")) if "migrations" not in p.parts
        )


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports(path: Path) -> set[str]:
    """Every module the file imports, at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def layer_of(module: str) -> int | None:
    for index, layer in enumerate(MODEL_LAYERS):
        if module == layer or module.startswith(f"{layer}."):
            return index
    return None


def test_the_domain_imports_nothing_but_the_standard_library_and_itself() -> None:
    wrong = {
        (module_of(path), name)
        for path in sources("models/domain")
        for name in imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith("models.domain")
        and name != "__future__"
    }
    assert wrong == set()


def test_models_never_import_the_entry_points_or_the_adapters() -> None:
    outer = ("intake", "workers", "devstack", "bootstrap", "tests", "bench", "telemetry")
    wrong = {
        (module_of(path), name)
        for path in sources("models")
        for name in imports(path)
        if name.split(".")[0] in outer
    }
    assert wrong == set()


def test_each_layer_of_models_imports_only_inner_layers() -> None:
    wrong = set()
    for path in sources("models"):
        own = layer_of(module_of(path))
        for name in imports(path):
            theirs = layer_of(name)
            if own is not None and theirs is not None and theirs > own:
                wrong.add((module_of(path), name))
    assert wrong == set()


def test_files_stay_under_three_hundred_lines() -> None:
    long = [
        f"{module_of(path)}: {lines}"
        for path in sources(*PACKAGES)
        if (lines := len(path.read_text().splitlines())) > MAX_FILE_LINES
    ]
    assert long == []


def test_functions_stay_under_forty_lines() -> None:
    long = []
    for path in sources(*PACKAGES):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{module_of(path)}.{node.name}: {length}")
    assert long == []


def test_telemetry_imports_none_of_the_processes_that_record_into_it() -> None:
    processes = ("intake", "workers", "devstack", "bootstrap", "tests", "bench")
    wrong = {
        (module_of(path), name)
        for path in sources("telemetry")
        for name in imports(path)
        if name.split(".")[0] in processes
    }
    assert wrong == set()
