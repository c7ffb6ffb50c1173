"""One module per log format, each defining ``SOURCE`` or ``SOURCES``; found by :mod:`vigil.sources.registry`.

Modules starting with ``_`` hold mappings shared by several formats of one vendor.
"""
