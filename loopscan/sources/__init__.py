"""Sources: what loopscan reads, turned into typed values with the file and line of each.

Today one source: pipeline manifests (``discover`` finds the files, ``load``
reads them through ``yamlsource``, ``schema`` and ``validity`` check them, and
``manifest`` builds :class:`~loopscan.sources.manifest.Manifest` objects).
A new source (lineage events, a git revision) is a module here that gives the
graph stage what it links.
"""
