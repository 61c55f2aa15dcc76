"""The tiny examples in the docstrings of loopscan's modules are true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import loopscan

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(loopscan.__path__, prefix="loopscan.")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
