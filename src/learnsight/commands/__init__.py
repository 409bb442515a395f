"""Command groups of the ``learnsight`` CLI that live beside :mod:`learnsight.cli` (one module per stage).

:mod:`learnsight.cli` owns the app and registers every group; the shared options, consoles and the
store opener are in :mod:`learnsight.commands.common` so that a group never imports the app.
"""
