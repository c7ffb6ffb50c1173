"""One module per detection; each defines ``DETECTION`` and keeps its cases in ``<module>.yml``."""
