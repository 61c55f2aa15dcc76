"""loopscan: a static data-flow loop analyzer for ML and data pipelines."""

__version__ = "0.1.0"
