"""Renderers: each formats values it is given (a finished report, loops, reviews, a diagram); none computes.

The findings formats of ``loopscan check --format`` are registered here, each
by a loader that imports its module only when that format is asked for (a
pre-commit run that prints text never imports the SARIF or JUnit code).

>>> sorted(FINDINGS_RENDERERS)
['github', 'json', 'junit', 'markdown', 'sarif', 'text']
>>> findings_renderer("json").__module__
'loopscan.render.json'
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from loopscan.linter import Report


class FindingsRenderer(Protocol):
    """What every findings format is: a finished report in, the whole output out."""

    def __call__(self, report: Report, /) -> str: ...


@dataclass(frozen=True)
class Style:
    """How the person at the terminal wants text: the only format that reads it is ``text``."""

    color: bool = False
    quiet: bool = False


def _text(style: Style) -> FindingsRenderer:
    from loopscan.render.text import render

    return functools.partial(render, color=style.color, quiet=style.quiet)


def _json(style: Style) -> FindingsRenderer:
    from loopscan.render.json import render

    return render


def _sarif(style: Style) -> FindingsRenderer:
    from loopscan.render.sarif import render

    return render


def _github(style: Style) -> FindingsRenderer:
    from loopscan.render.github import render

    return render


def _junit(style: Style) -> FindingsRenderer:
    from loopscan.render.junit import render

    return render


def _markdown(style: Style) -> FindingsRenderer:
    from loopscan.render.markdown import render

    return render


FINDINGS_RENDERERS: dict[str, Callable[[Style], FindingsRenderer]] = {
    "text": _text,
    "json": _json,
    "sarif": _sarif,
    "github": _github,
    "junit": _junit,
    "markdown": _markdown,
}
"""Each findings format by name, with the loader of its renderer; ``--format`` offers exactly these."""


def findings_renderer(name: str, style: Style = Style()) -> FindingsRenderer:
    """The renderer of the findings format ``name``; KeyError for a name that is not registered."""
    return FINDINGS_RENDERERS[name](style)
