"""Log formats (one module per format, a registry) and the ingest engine."""
