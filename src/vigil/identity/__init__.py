"""Canonical identities: one id per account across its names, and links joining one person's accounts
across identity providers (docs/identity.md)."""
