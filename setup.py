"""Packages for setuptools; everything else is in pyproject.toml.

The wheel ships the repo's top-level ``skills/`` and ``shared/`` folders inside the package as
``bot/_data/skills`` and ``bot/_data/shared`` (bot/paths.py finds them there when installed).
They are mapped with ``package_dir``. Every folder in them whose path is importable
(``skills/field``, ``shared/queries``...) is listed as a package of its own, so setuptools
doesn't warn "Package would be ignored"; the rest (``skills/field/my-tickets``...) is
package data of the nearest such package. No ``__init__.py`` is needed in the data folders.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent
DATA = {"skills": "bot._data.skills", "shared": "bot._data.shared"}
SKIP = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def data_packages() -> tuple[list[str], dict[str, str], dict[str, list[str]]]:
    packages: list[str] = []
    package_dir: dict[str, str] = {}
    package_data: dict[str, list[str]] = {}
    for folder, package in DATA.items():
        package_dir[package] = folder
        todo = [(HERE / folder, package)]
        while todo:
            path, name = todo.pop()
            packages.append(name)
            globs = ["*"]
            for sub in sorted(p for p in path.iterdir() if p.is_dir() and p.name not in SKIP):
                if sub.name.isidentifier():
                    todo.append((sub, f"{name}.{sub.name}"))
                else:
                    globs.append(f"{sub.name}/**/*")
            package_data[name] = globs
    return packages, package_dir, package_data


PACKAGES, PACKAGE_DIR, PACKAGE_DATA = data_packages()

setup(
    packages=[*find_packages(include=["bot", "bot.*"]), *PACKAGES],
    package_dir=PACKAGE_DIR,
    package_data=PACKAGE_DATA,
    exclude_package_data={"": ["__pycache__/*", "*.pyc"]},
)
