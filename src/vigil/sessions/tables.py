"""Tables the sessions stage writes (contracts in docs/architecture.md "Table contracts")."""
from __future__ import annotations

from vigil.store.schema import C, Table

SESSIONS = Table(
    "sessions",
    doc="One row per session: identity-provider sessions, and inferred ones where a source has no id.",
    columns=(
        C("session_key", "VARCHAR NOT NULL", "s:<SessionId> (Entra SessionId / AADSessionId / Okta rootSessionId)"
          " or i:<hash> for an inferred session"),
        C("session_id", "VARCHAR", "vendor session id (null when inferred)"),
        C("user_id", "VARCHAR", "user object id"),
        C("user_principal_name", "VARCHAR", "UPN, lower-cased"),
        C("inferred", "BOOLEAN NOT NULL", "true when stitched by heuristic (user + device + user agent + gap)"),
        C("stitch_method", "VARCHAR NOT NULL", "session_id | inferred"),
        C("first_time", "TIMESTAMP", "first event"),
        C("last_time", "TIMESTAMP", "last event"),
        C("root_event_id", "VARCHAR", "root authentication: first interactive successful sign-in"),
        C("root_time", "TIMESTAMP", "root authentication time"),
        C("root_ip", "VARCHAR", "root IP"),
        C("root_country", "VARCHAR", "root country"),
        C("root_city", "VARCHAR", "root city"),
        C("root_latitude", "DOUBLE", "root latitude"),
        C("root_longitude", "DOUBLE", "root longitude"),
        C("root_device_id", "VARCHAR", "root device id"),
        C("root_os", "VARCHAR", "root OS (vendor DeviceDetail, else parsed from the user agent)"),
        C("root_browser", "VARCHAR", "root browser (vendor DeviceDetail, else parsed)"),
        C("root_user_agent", "VARCHAR", "root user agent"),
        C("root_mfa", "BOOLEAN", "MFA satisfied at the root authentication"),
        C("root_ip_class", "VARCHAR", "ip_class of the root IP"),
        C("root_interactive", "BOOLEAN", "false when the session has no interactive sign-in (root = first event)"),
        C("root_asn", "INTEGER", "ASN of the root IP"),
        C("root_ua_class", "VARCHAR", "ua_class of the root user agent"),
        C("root_ua_family", "VARCHAR", "parsed family of the root user agent"),
        C("root_ua_os_family", "VARCHAR", "OS family parsed from the root user agent"),
        C("event_count", "BIGINT", "events"),
        C("signin_count", "BIGINT", "sign-ins"),
        C("activity_count", "BIGINT", "activities"),
        C("hop_count", "BIGINT", "rows in session_hops"),
        C("countries", "JSON", "distinct countries, sorted"),
        C("ips", "JSON", "distinct IPs, sorted"),
    ),
)

EVENT_SESSIONS = Table(
    "event_sessions",
    doc="Which session every sign-in and activity belongs to, and how it was linked (one row per event).",
    columns=(
        C("event_id", "VARCHAR NOT NULL", "signins / activities event_id"),
        C("event_table", "VARCHAR NOT NULL", "signins | activities"),
        C("session_key", "VARCHAR NOT NULL", "sessions.session_key"),
        C("link_method", "VARCHAR NOT NULL", "session_id | aad_session_id | unique_token_id | correlation_id |"
          " original_request_id | inferred"),
    ),
)

SESSION_HOPS = Table(
    "session_hops",
    doc="Every change of IP, ASN, country, device or user agent inside a session.",
    columns=(
        C("session_key", "VARCHAR NOT NULL", "session"),
        C("event_id", "VARCHAR NOT NULL", "event where the new value appears"),
        C("hop_time", "TIMESTAMP NOT NULL", "its time"),
        C("hop_kind", "VARCHAR NOT NULL", "ip | asn | country | device | user_agent"),
        C("from_value", "VARCHAR", "previous value in the session"),
        C("to_value", "VARCHAR", "new value"),
    ),
)

TRAVEL = Table(
    "travel",
    doc="Per user, consecutive located events with distance, speed and a verdict with its reason.",
    columns=(
        C("user_id", "VARCHAR", "user object id"),
        C("user_principal_name", "VARCHAR", "UPN"),
        C("from_event_id", "VARCHAR NOT NULL", "previous successful located event"),
        C("to_event_id", "VARCHAR NOT NULL", "this event"),
        C("from_time", "TIMESTAMP", ""), C("to_time", "TIMESTAMP", ""),
        C("from_ip", "VARCHAR", ""), C("to_ip", "VARCHAR", ""),
        C("from_country", "VARCHAR", ""), C("to_country", "VARCHAR", ""),
        C("from_city", "VARCHAR", ""), C("to_city", "VARCHAR", ""),
        C("from_latitude", "DOUBLE", ""), C("from_longitude", "DOUBLE", ""),
        C("to_latitude", "DOUBLE", ""), C("to_longitude", "DOUBLE", ""),
        C("distance_km", "DOUBLE", "great-circle distance"),
        C("adjusted_distance_km", "DOUBLE", "distance minus both accuracy radii (never below 0)"),
        C("elapsed_s", "DOUBLE", "seconds between the events"),
        C("speed_kmh", "DOUBLE", "adjusted distance / max(elapsed, travel.min_elapsed_s)"),
        C("same_session", "BOOLEAN", "both events in one session"),
        C("session_key", "VARCHAR", "session of the to-event"),
        C("from_ip_class", "VARCHAR", ""), C("to_ip_class", "VARCHAR", ""),
        C("to_failed", "BOOLEAN", "the to-event is a failed / interrupted attempt"),
        C("verdict", "VARCHAR NOT NULL", "same_location | egress_change | plausible | improbable | impossible"),
        C("reason", "VARCHAR NOT NULL", "one sentence"),
        C("from_accuracy_km", "DOUBLE", "accuracy radius used for the from-event"),
        C("to_accuracy_km", "DOUBLE", "accuracy radius used for the to-event"),
        C("from_event_table", "VARCHAR", "signins | activities"),
        C("to_event_table", "VARCHAR", "signins | activities"),
    ),
)

SESSION_HIJACKS = Table(
    "session_hijacks",
    doc="A session or token used from a device or network its root authentication never used.",
    primary_key=("finding_id",),
    columns=(
        C("finding_id", "VARCHAR NOT NULL", "md5(session_key|kind), 16 hex"),
        C("session_key", "VARCHAR NOT NULL", "session"),
        C("user_id", "VARCHAR", ""), C("user_principal_name", "VARCHAR", ""),
        C("detected_time", "TIMESTAMP", "first suspicious event"),
        C("kind", "VARCHAR NOT NULL", "token_replay | aitm | scripted_client | concurrent_use"),
        C("severity", "VARCHAR NOT NULL", "low | medium | high"),
        C("reason", "VARCHAR NOT NULL", "one sentence"),
        C("root_event_id", "VARCHAR", "root authentication"),
        C("evidence_event_ids", "JSON", "suspicious events (time order, capped at sessions.max_evidence_events)"),
        C("ip", "VARCHAR", "IP of the first suspicious event"),
        C("country", "VARCHAR", "its country"),
        C("user_agent", "VARCHAR", "its user agent"),
        C("event_count", "BIGINT", "suspicious events (before the cap)"),
    ),
)

SESSION_TABLES: tuple[Table, ...] = (SESSIONS, EVENT_SESSIONS, SESSION_HOPS, TRAVEL, SESSION_HIJACKS)
