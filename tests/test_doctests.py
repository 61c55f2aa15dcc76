"""The tiny examples in the docstrings of loopscan's modules are true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import loopscan
import loopscan.rules

# loopscan.rules ships from the top-level rules/ folder, outside loopscan/'s own path.
MODULES = sorted({
    info.name
    for package in (loopscan, loopscan.rules)
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
})


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
