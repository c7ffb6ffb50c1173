"""The CAE pieces wired from settings: journal, in-memory revocation index, keys, SSF.

Whoever runs CAE creates one :class:`CaeService` and passes it on: ``vigil serve`` keeps it in
``app.state.cae`` for its router, the analyze stage and any :class:`CAEMiddleware` built from
:meth:`CaeService.middleware_options`, so a revocation posted to the service is enforced on
the very next request. Other processes share the journal, not the object.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vigil.cae.events import CriticalEvent
from vigil.cae.journal import Journal
from vigil.cae.keys import load_jwks, load_or_create_signing_keys, public_jwks
from vigil.cae.middleware import CAEEnforcer
from vigil.cae.receiver import Receiver
from vigil.cae.state import RevocationState
from vigil.cae.tokens import TokenValidator
from vigil.cae.transmitter import PushDeliverer, Transmitter
from vigil.errors import ConfigError
from vigil.locations.named import IpNamedLocation, load_named_locations
from vigil.settings import Settings
from vigil.store.runtime import ensure_parent, runtime_file

def _beside_store(settings: Settings, suffix: str) -> str:
    store = settings.store.path
    if store == ":memory:":
        raise ConfigError("cae.state_path / cae.keys_path must be set when the store is in memory")
    p = Path(store)
    return str(ensure_parent(runtime_file(p, p.stem + suffix)))


def state_path(settings: Settings) -> str:
    return settings.cae.state_path or _beside_store(settings, ".cae.sqlite")


def keys_path(settings: Settings) -> str:
    return settings.cae.keys_path or _beside_store(settings, ".cae-keys.json")


class CaeService:
    def __init__(self, settings: Settings, *, base_url: str = "") -> None:
        self.settings = settings
        c = settings.cae
        self.journal = Journal(state_path(settings), synchronous=c.synchronous)
        self.state = RevocationState(self.journal, sync_interval_s=c.sync_interval_ms / 1000)
        self.keys = load_or_create_signing_keys(keys_path(settings))
        self.transmitter = Transmitter(self.journal, self.keys, c, base_url)
        self.receiver = Receiver(self.journal, self.record_received)
        self.deliverer = PushDeliverer(self.transmitter)
        self._enforcer: CAEEnforcer | None = None

    # -- events ---------------------------------------------------------------------------------
    def record(self, events: Sequence[CriticalEvent], *, emit: bool = True) -> list[CriticalEvent]:
        """Revoke (durably, then in memory) and queue SETs for the new events."""
        return self.record_and_emit(events)[0] if emit else self.state.record(events)

    def record_and_emit(self, events: Sequence[CriticalEvent]) -> tuple[list[CriticalEvent], int]:
        """:meth:`record`, also returning how many SETs were queued."""
        new = self.state.record(events)
        return new, self.transmitter.emit(new) if new else 0

    def record_received(self, events: Sequence[CriticalEvent]) -> list[CriticalEvent]:
        # Events learnt from another transmitter are enforced but not re-broadcast (no loops).
        return self.state.record(events)

    # -- enforcement ----------------------------------------------------------------------------
    def allowed_locations(self) -> list[IpNamedLocation]:
        c = self.settings.cae
        if not c.allowed_locations:
            return []
        path = self.settings.enrich.named_locations
        if not path:
            raise ConfigError("cae.allowed_locations needs enrich.named_locations (the Graph namedLocations JSON)")
        locs = load_named_locations(path)
        wanted = set(c.allowed_locations)
        found = [loc for loc in locs.ip_locations() if loc.id in wanted or loc.display_name in wanted]
        missing = wanted - {loc.id for loc in found} - {loc.display_name for loc in found}
        if missing:
            raise ConfigError(f"cae.allowed_locations: no IP named location {sorted(missing)[0]!r}", path=path)
        return found

    def validator(self) -> TokenValidator:
        c = self.settings.cae
        keys = load_jwks(c.trusted_jwks_path) if c.trusted_jwks_path else self.keys
        return TokenValidator(keys, c.trusted_issuer or c.issuer, c.audience, c.leeway_s)

    def enforcer(self) -> CAEEnforcer:
        if self._enforcer is None:
            c = self.settings.cae
            self._enforcer = CAEEnforcer(state=self.state, validator=self.validator(),
                                         authorization_uri=c.authorization_uri, strict_location=c.strict_location,
                                         allowed_locations=self.allowed_locations() if c.strict_location else ())
        return self._enforcer

    def middleware_options(self) -> dict[str, Any]:
        """``CAEMiddleware`` keyword arguments from the settings: this service's enforcer and
        ``cae.trust_forwarded_for`` (``app.add_middleware(CAEMiddleware, **svc.middleware_options())``)."""
        return {"enforcer": self.enforcer(), "trust_forwarded_for": self.settings.cae.trust_forwarded_for}

    # -- reporting ------------------------------------------------------------------------------
    def jwks(self) -> dict[str, Any]:
        return public_jwks(self.keys)

    def status(self) -> dict[str, Any]:
        self.state.sync()  # include what other processes appended since the last request
        j = self.journal
        by_source = {r["source"]: r["n"] for r in j.rows("select source, count(*) n from revocations group by 1")}
        by_state = {r["state"]: r["n"] for r in j.rows("select state, count(*) n from ssf_outbox group by 1")}
        return {
            "state_path": j.path,
            "revocations": int(j.scalar("select count(*) from revocations") or 0),
            "revocations_by_source": by_source,
            "indexed_subjects": self.state.size(),
            "last_seq": self.state.last_seq,
            "streams": int(j.scalar("select count(*) from ssf_receivers") or 0),
            "outbox": by_state,
            "transmitters": int(j.scalar("select count(*) from ssf_transmitters") or 0),
            "sets_received": int(j.scalar("select count(*) from ssf_received") or 0),
        }

    def close(self) -> None:
        self.deliverer.stop()
        self.journal.close()
