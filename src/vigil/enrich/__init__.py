"""Enrichment: location, ASN and IP class, user agents, corporate egress (see docs/enrich.md)."""
