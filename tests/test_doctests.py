"""The examples in smplr's docstrings run, and print what their text says (doctest)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import smplr

# ``__main__`` modules run a command when imported.
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(smplr.__path__, "smplr.")
    if not info.name.endswith("__main__")
)
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def test_the_package_has_examples() -> None:
    assert len(MODULES) > 50
    examples = {"smplr.geometry.rotations", "smplr.metrics"}
    finder = doctest.DocTestFinder()
    for name in examples:
        tests = finder.find(importlib.import_module(name))
        assert sum(len(t.examples) for t in tests) >= 3, name


def test_docstring_examples_print_what_they_say() -> None:
    failed = {}
    for name in MODULES:
        result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS, report=True)
        if result.failed:
            failed[name] = f"{result.failed} of {result.attempted}"
    assert not failed, f"failing examples (see the captured output): {failed}"
