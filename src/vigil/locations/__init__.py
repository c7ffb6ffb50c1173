"""Where a request comes from: IP addresses as logs write them and the tenant's named locations.

Three stages read the same Graph ``namedLocations`` document: enrich (trusted ranges are
corporate egress), policy (location conditions) and cae (strict-location enforcement). The
parsing lives here, below all three and below the store (it needs neither a database nor a
setting), so none of them imports another for it.

* :mod:`vigil.locations.ip` -- ``parse_ip``;
* :mod:`vigil.locations.named` -- ``ipNamedLocation`` / ``countryNamedLocation``, O(log n) lookups;
* :mod:`vigil.locations.graphdoc` -- the strict Graph JSON reader (JSON paths in every error),
  which policy/ also uses for conditional-access policies.
"""
