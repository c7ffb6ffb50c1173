"""Continuous access evaluation: revocation state, ASGI enforcement, SSF / CAEP signals.

* :mod:`vigil.cae.events` -- the critical events that revoke tokens ("issued before T")
* :mod:`vigil.cae.journal` -- the durable SQLite journal (revocations, streams, outbox)
* :mod:`vigil.cae.state` -- the in-memory index on the hot path, fed by the journal
* :mod:`vigil.cae.keys`, :mod:`vigil.cae.tokens` -- signing keys, demo issuer, JWT validation
* :mod:`vigil.cae.challenge`, :mod:`vigil.cae.middleware` -- ``CAEMiddleware`` and the 401 claims challenge
* :mod:`vigil.cae.sets`, :mod:`vigil.cae.transmitter`, :mod:`vigil.cae.receiver` -- CAEP SETs
  (RFC 8417) pushed (RFC 8935) and polled (RFC 8936), and received from other transmitters
* :mod:`vigil.cae.service` -- wires them from settings; :mod:`vigil.api.cae` -- the FastAPI routers
* :mod:`vigil.cae.stage` -- the analyze stage; :mod:`vigil.api.cae_demo` -- a protected demo API

See docs/cae.md.
"""
