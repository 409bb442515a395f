"""Importers: each turns one kind of source into statements and profiles for the store.

One module per source kind, each exposing ``ingest_<kind>(store, path, ...) -> IngestReport`` and
reachable as ``learnsight ingest <kind> PATH``.
"""
