"""The ingest engine (reading, detection, mapping, quarantine) and, in ``formats/``, the log formats."""
