"""Sigma rules (pySigma 2.x) run as vigil detections: ``vigil detections import-sigma DIR``."""
