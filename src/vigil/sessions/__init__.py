"""Sessions: stitching, hops, travel verdicts and session-hijack findings (see docs/sessions.md)."""
