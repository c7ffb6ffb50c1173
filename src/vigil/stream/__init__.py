"""Real time: a Kafka consumer in ``vigil serve``, micro-batches analysed incrementally, outputs as they happen.

Layer: above ``pipeline`` (it runs the stages, scoped) and below ``api`` (status and lag are shown there).
See docs/stream.md.
"""
