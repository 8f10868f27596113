"""Every test module imports under a name of its own.

pytest runs with `--import-mode=importlib`: a test folder that is a package is imported under
its package path, so two services with a `unit/__init__.py` each would both give `unit.test_x`,
and the second module would silently replace the first in a whole-suite run. Service test
folders are therefore named for their service (`budgeting_unit`, `complaints_integration`, …).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from _pytest.pathlib import CouldNotResolvePathError, module_name_from_path, resolve_pkg_root_and_module_name

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", "gen", "node_modules", ".git", "build"}


def _test_modules() -> list[Path]:
    found = []
    for path in ROOT.rglob("*.py"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & SKIP or path.name == "__init__.py":
            continue
        if "tests" in parts or path.name.startswith("test_"):
            found.append(path)
    return found


def test_no_two_test_modules_share_an_import_name() -> None:
    names: dict[str, list[str]] = defaultdict(list)
    for path in _test_modules():
        try:
            _, name = resolve_pkg_root_and_module_name(path)
        except CouldNotResolvePathError:  # not in a package: named by its path from the root
            name = module_name_from_path(path, ROOT)
        names[name].append(str(path.relative_to(ROOT)))
    shared = {name: paths for name, paths in names.items() if len(paths) > 1}
    assert not shared, f"test modules that would replace each other: {shared}"
    assert len(names) > 50  # the walk found the suite
