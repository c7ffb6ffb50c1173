"""Detections as code: one module per detection (``rules/``), a registry, and the engine
that writes Graph-shaped ``riskDetections``. Detections read only normalised tables
(``signins_enriched``, ``activities_enriched``, ``travel``, ``session_hijacks``, ...),
never vendor formats."""
