"""Renderers: each formats a finished :class:`~loopscan.linter.Report`; none computes."""
