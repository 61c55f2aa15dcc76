"""Link: the manifests become one data-flow graph, joined through the URIs their artifacts share.

``dataflow`` is the graph, ``link`` builds it, ``uris`` finds which URIs
overlap, and ``globs`` matches URI and path patterns.
"""
