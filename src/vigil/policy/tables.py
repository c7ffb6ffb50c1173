"""``ca_policies`` and ``named_locations``: the tenant's policy set kept in the store.

Each row keeps the Graph document itself (``document`` JSON), so reading the set back goes
through the same strict parser as a file; the other columns are for display and hunting.
"""
from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timezone
from typing import Any

import orjson
import pyarrow as pa

from vigil.errors import InputError
from vigil.policy.evaluate import PolicySet
from vigil.locations.named import CountryNamedLocation, NamedLocation, NamedLocations, parse_named_locations
from vigil.policy.model import Policy
from vigil.policy.parse import parse_policies
from vigil.store import Store
from vigil.store.schema import C, Table

CA_POLICIES = Table(
    "ca_policies",
    doc="Conditional access policies (Graph conditionalAccessPolicy), as loaded by `vigil policy load`.",
    primary_key=("id",),
    columns=(
        C("id", "VARCHAR NOT NULL", "policy id"),
        C("displayName", "VARCHAR", "policy name"),
        C("state", "VARCHAR", "enabled | disabled | enabledForReportingButNotEnforced"),
        C("grantControls", "VARCHAR", "required controls in Entra's order, joined by the operator"),
        C("sessionControls", "JSON", "enforced session control names"),
        C("document", "JSON", "the Graph document"),
        C("source", "VARCHAR", "file and JSON path it came from"),
        C("loaded_at", "TIMESTAMP", "when it was loaded"),
    ),
)

NAMED_LOCATIONS = Table(
    "named_locations",
    doc="Named locations (Graph ipNamedLocation / countryNamedLocation), as loaded by `vigil policy load`.",
    primary_key=("id",),
    columns=(
        C("id", "VARCHAR NOT NULL", "location id"),
        C("displayName", "VARCHAR", "location name"),
        C("kind", "VARCHAR", "ip | country"),
        C("isTrusted", "BOOLEAN", "trusted (ip locations only)"),
        C("ipRanges", "JSON", "cidrAddress values as published"),
        C("countriesAndRegions", "JSON", "ISO 3166 codes"),
        C("countryLookupMethod", "VARCHAR", "clientIpAddress | authenticatorAppGps"),
        C("includeUnknownCountriesAndRegions", "BOOLEAN", "unknown countries included"),
        C("document", "JSON", "the Graph document"),
        C("loaded_at", "TIMESTAMP", "when it was loaded"),
    ),
)


def location_document(loc: NamedLocation) -> dict[str, Any]:
    """The Graph JSON of a parsed named location."""
    base: dict[str, Any] = {"id": loc.id, "displayName": loc.display_name, "createdDateTime": loc.created,
                            "modifiedDateTime": loc.modified}
    if isinstance(loc, CountryNamedLocation):
        return {"@odata.type": "#microsoft.graph.countryNamedLocation", **base,
                "countriesAndRegions": sorted(loc.countries_and_regions),
                "countryLookupMethod": loc.country_lookup_method,
                "includeUnknownCountriesAndRegions": loc.include_unknown_countries_and_regions}
    ranges = [{"@odata.type": "#microsoft.graph.iPv4CidrRange" if r.network.version == 4
               else "#microsoft.graph.iPv6CidrRange", "cidrAddress": r.cidr_address} for r in loc.ip_ranges]
    return {"@odata.type": "#microsoft.graph.ipNamedLocation", **base, "isTrusted": loc.is_trusted, "ipRanges": ranges}


def save(store: Store, policies: PolicySet, *, transaction: bool = True,
         locations_only: bool = False) -> dict[str, int]:
    """Replace ``ca_policies`` and ``named_locations`` with ``policies`` (one transaction; with
    ``transaction=False`` inside the caller's, as a connector does with its checkpoint). With
    ``locations_only`` the stored policies stay (named locations loaded on their own)."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    pol = pa.table({
        "id": [p.id for p in policies.policies], "displayName": [p.display_name for p in policies.policies],
        "state": [p.state for p in policies.policies],
        "grantControls": [f" {p.grant_controls.operator} ".join(p.grant_controls.control_names())
                          if p.grant_controls else None for p in policies.policies],
        "sessionControls": [orjson.dumps(p.session_controls.enforced_names() if p.session_controls else []).decode()
                            for p in policies.policies],
        "document": [orjson.dumps(p.raw).decode() for p in policies.policies],
        "source": [p.source for p in policies.policies], "loaded_at": [now] * len(policies.policies),
    })
    locs = list(policies.locations)
    docs = [location_document(loc) for loc in locs]
    loc = pa.table({
        "id": [x.id for x in locs], "displayName": [x.display_name for x in locs], "kind": [x.kind for x in locs],
        "isTrusted": [x.is_trusted for x in locs],
        "ipRanges": [orjson.dumps(d.get("ipRanges")).decode() if "ipRanges" in d else None for d in docs],
        "countriesAndRegions": [orjson.dumps(d["countriesAndRegions"]).decode() if "countriesAndRegions" in d
                                else None for d in docs],
        "countryLookupMethod": [d.get("countryLookupMethod") for d in docs],
        "includeUnknownCountriesAndRegions": [d.get("includeUnknownCountriesAndRegions") for d in docs],
        "document": [orjson.dumps(d).decode() for d in docs], "loaded_at": [now] * len(locs),
    }, schema=pa.schema([("id", pa.string()), ("displayName", pa.string()), ("kind", pa.string()),
                         ("isTrusted", pa.bool_()), ("ipRanges", pa.string()), ("countriesAndRegions", pa.string()),
                         ("countryLookupMethod", pa.string()), ("includeUnknownCountriesAndRegions", pa.bool_()),
                         ("document", pa.string()), ("loaded_at", pa.timestamp("us"))]))
    con = store.con
    store.ensure([CA_POLICIES, NAMED_LOCATIONS])
    with store.transaction() if transaction else nullcontext():
        for name, table, spec in (("ca_policies", pol, CA_POLICIES), ("named_locations", loc, NAMED_LOCATIONS)):
            if locations_only and name == "ca_policies":
                continue
            con.register("_ca_save", table)
            cols = ", ".join(store.ident(c) for c in spec.column_names)
            casts = ", ".join(f'CAST({store.ident(c.name)} AS {c.type.replace(" NOT NULL", "")})'
                              for c in spec.columns)
            store.execute(f"DELETE FROM {store.ident(name)}")
            store.execute(f"INSERT INTO {store.ident(name)} ({cols}) SELECT {casts} FROM _ca_save")
            con.unregister("_ca_save")
    return {"policies": len(policies.policies), "named_locations": len(locs)}


def load_locations(store: Store) -> NamedLocations:
    """The named locations stored by :func:`save` (none when there are none)."""
    if "named_locations" not in store.relations():
        return NamedLocations()
    docs = [orjson.loads(r[0]) for r in store.con.execute(
        "select document from named_locations order by id").fetchall()]
    return parse_named_locations(docs, "named_locations")


def stored_policies(store: Store) -> list[Policy]:
    if "ca_policies" not in store.relations():
        return []
    docs = [orjson.loads(r[0]) for r in store.con.execute(
        "select document from ca_policies order by source, id").fetchall()]
    return parse_policies(docs, "ca_policies")


def load(store: Store, *, mfa_trusted_ips: list[str] | None = None, allow_unresolved: bool = False) -> PolicySet:
    """The policy set stored by :func:`save`, parsed again strictly."""
    policies = stored_policies(store)
    if not policies:
        raise InputError("no conditional access policies in the store; run `vigil policy load --policies FILE` "
                         "or pass --policies", path=store.path)
    return PolicySet(policies, load_locations(store),
                     mfa_trusted_ips=mfa_trusted_ips or (), allow_unresolved=allow_unresolved)
