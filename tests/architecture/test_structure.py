"""Rules about the code itself: tables, errors and the public API."""

import ast
import inspect
from pathlib import Path

import creditgate
from creditgate.domain import errors
from creditgate.storage.tables import CATALOG_TABLES, SERVICE_TABLES, metadata

SRC = Path(creditgate.__file__).parent
CONFIG_TABLES = {"creditgate_meta", *CATALOG_TABLES, *SERVICE_TABLES}


def test_every_table_carries_the_account_id() -> None:
    missing = [
        table.name
        for table in metadata.sorted_tables
        if table.name not in CONFIG_TABLES
        and table.name != "accounts"
        and "account_id" not in table.c
    ]

    assert missing == []


def test_every_error_has_a_unique_stable_code() -> None:
    classes = [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.CreditgateError)
    ]

    codes = [cls.code for cls in classes]

    assert len(classes) >= 14
    assert len(codes) == len(set(codes))
    assert all(code.islower() and " " not in code for code in codes)


def test_every_error_is_exported() -> None:
    classes = {
        name
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.CreditgateError)
    }

    assert classes <= set(creditgate.__all__)


def test_public_names_are_sorted_and_importable() -> None:
    names = creditgate.__all__

    assert list(names) == sorted(names, key=lambda n: (not n.isupper(), n))
    assert all(hasattr(creditgate, name) for name in names)


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    allowed_roots = {
        "creditgate",
        "base64",
        "calendar",
        "collections",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "fractions",
        "hashlib",
        "hmac",
        "ipaddress",
        "re",
        "typing",
        "json",
        "math",
        "types",
    }
    found: set[str] = set()
    for path in (SRC / "domain").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)

    assert found <= allowed_roots


def test_wall_clock_is_read_only_in_the_clock_module() -> None:
    readers = [
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if "datetime.now(" in path.read_text() or "time.time(" in path.read_text()
    ]

    assert readers == ["engine/clock.py"]
