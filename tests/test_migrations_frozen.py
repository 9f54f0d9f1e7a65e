"""Migrations are frozen: none imports application code, whose later edits would silently
change what an applied migration does. Each trigger's SQL is a literal in the migration that
installs it; a later change is a new migration."""

import ast
from pathlib import Path

from django.conf import settings

APPS = ["preorder_shop", "reservations", "orders", "fulfillment", "support", "events"]


def migration_files() -> list[Path]:
    root = Path(settings.BASE_DIR)
    return sorted(p for app in APPS for p in (root / app / "migrations").glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def test_there_are_migrations_to_check():
    assert len(migration_files()) > 20


def test_no_migration_imports_application_code():
    offenders = {
        str(path): sorted(
            name
            for name in imported_modules(path)
            if name.startswith(".") or name.split(".")[0] in APPS
        )
        for path in migration_files()
    }
    assert {path: names for path, names in offenders.items() if names} == {}
