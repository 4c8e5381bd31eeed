"""Rules of the code's shape that a reader would otherwise have to trust.

Import rules between apps are `lint-imports`' (pyproject.toml); that writing views go
through a service is each app's `test_write_paths`. These scan the source.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["personas", "chat", "memory", "voices", "mybella/users", "mybella/core", "mybella"]

# Adapters turn a request, a form or a task's ids into a service call; they never write.
# (mybella/core/tasks.py is not one: it is the task backend's upkeep, on its own table.)
ADAPTER_APPS = [app for app in APPS if app != "mybella/core"]
ADAPTER_MODULES = [
    "views.py",
    "api/views.py",
    "api.py",
    "admin.py",
    "forms.py",
    "api/serializers.py",
    "tasks.py",
]
ORM_WRITES = {
    "save",
    "delete",
    "update",
    "create",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
    "set",
    "add",
    "remove",
    "clear",
}


def _modules(names: list[str], apps: list[str] = APPS) -> list[Path]:
    found = {ROOT / app / name for app in apps for name in names}
    return sorted(path for path in found if path.is_file())


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_scans_find_the_modules():
    """Not an empty check: the adapters and services known today are found."""
    adapters = {_rel(path) for path in _modules(ADAPTER_MODULES, ADAPTER_APPS)}
    assert {"personas/views.py", "chat/api/views.py", "voices/tasks.py"} <= adapters
    assert {"memory/services.py", "voices/services/persona_voice.py"} <= {
        _rel(path) for path in _service_and_selector_modules()
    }


@pytest.mark.parametrize("path", _modules(ADAPTER_MODULES, ADAPTER_APPS), ids=_rel)
def test_adapters_write_nothing_themselves(path):
    """No `.save()`, `.delete()`, `.update()`, `.create()`, `bulk_*`, `*_or_create` or
    related-manager `.set/.add/.remove/.clear` in a view, form, serializer, admin or task:
    the write is a service's. (Merge dicts with `|=`, so `.update(` always means a write.)"""
    calls = [
        f"{_rel(path)}:{node.lineno}: {ast.unparse(node)[:80]}"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ORM_WRITES
    ]
    assert calls == []


def _service_and_selector_modules() -> list[Path]:
    paths = [*_modules(["services.py", "selectors.py"])]
    for app in APPS:
        package = ROOT / app / "services"
        if package.is_dir():
            paths.extend(sorted(package.glob("*.py")))
    return paths


@pytest.mark.parametrize("path", _service_and_selector_modules(), ids=_rel)
def test_services_and_selectors_know_no_http(path):
    """Services and selectors raise domain errors; `django.http` (Http404, responses) is
    the adapters' business."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    assert not {name for name in imported if name.startswith("django.http")}
