"""The canonical model: table definitions and migrations.

Every column is declared once here with its type and meaning; ``docs/schema.md``
documents which vendor field feeds it. Dynamic (KQL ``dynamic``) values are JSON,
never STRUCT, so hunting queries' ``tostring()`` and dotted access behave.

``event_id`` is unique in every event table. The ingest engine guarantees it (it
de-duplicates each batch against the store before inserting) instead of a PRIMARY KEY:
DuckDB's index maintenance made commits ~50x slower on million-row ingests (measured
in bench/ingest_throughput.py; see docs/benchmarks.md).

Downstream areas (enrichment, sessions, UEBA, detections, ...) declare their own
tables in their own modules with :class:`Table` and register them through
``vigil.store.db.ensure_tables``; the core tables below are created by every store.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    doc: str
    primary_key: tuple[str, ...] = field(default=())

    def ddl(self) -> str:
        cols = [f'"{c.name}" {c.type}' for c in self.columns]
        if self.primary_key:
            cols.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in self.primary_key) + ")")
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" (\n  ' + ",\n  ".join(cols) + "\n)"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def C(name: str, type_: str, doc: str) -> Column:
    return Column(name, type_, doc)


# Columns every event table starts with: provenance and identity of the record.
_PROVENANCE = (
    C("event_id", "VARCHAR NOT NULL", "stable id: first 16 hex of md5(source_format|source_record_id); tie-breaker"),
    C("event_time", "TIMESTAMP NOT NULL", "when it happened, UTC, microseconds"),
    C("source_format", "VARCHAR NOT NULL", "adapter name that read the record (see `vigil formats`)"),
    C("source_table", "VARCHAR", "vendor table or category, e.g. SigninLogs, AADNonInteractiveUserSignInLogs"),
    C("source_file", "VARCHAR", "file the record came from"),
    C("source_record_id", "VARCHAR NOT NULL", "vendor record id (or a content hash when the vendor gives none)"),
    C("tenant_id", "VARCHAR", "tenant / organisation id"),
)

_USER = (
    C("user_id", "VARCHAR", "user object id"),
    C("user_principal_name", "VARCHAR", "UPN or login name, lower-cased"),
    C("user_display_name", "VARCHAR", "display name"),
    C("user_type", "VARCHAR", "Member, Guest, ServicePrincipal, ..."),
)

SIGNINS = Table(
    "signins",
    doc="Every sign-in from every vendor, interactive and non-interactive.",
    columns=_PROVENANCE + _USER + (
        C("app_id", "VARCHAR", "client application id"),
        C("app_name", "VARCHAR", "client application name"),
        C("resource_id", "VARCHAR", "resource (audience) id"),
        C("resource_name", "VARCHAR", "resource display name"),
        C("client_app_type", "VARCHAR", "Browser, Mobile Apps and Desktop clients, Exchange ActiveSync, IMAP4, ..."),
        C("is_interactive", "BOOLEAN", "true for interactive sign-ins"),
        C("result", "VARCHAR", "success | failure | interrupted"),
        C("result_code", "VARCHAR", "vendor result code (Entra ResultType, Okta outcome.reason, ...)"),
        C("result_reason", "VARCHAR", "vendor failure reason / description"),
        C("auth_requirement", "VARCHAR", "singleFactorAuthentication | multiFactorAuthentication"),
        C("auth_methods", "JSON", "array of authentication methods used"),
        C("mfa_satisfied", "BOOLEAN", "MFA satisfied during this sign-in (performed or claim in token)"),
        C("auth_protocol", "VARCHAR", "oAuth2, ropc, deviceCode, saml20, ..."),
        C("incoming_token_type", "VARCHAR", "primaryRefreshToken, refreshToken, none, ..."),
        C("token_issuer_type", "VARCHAR", "AzureAD, ADFederationServices, ..."),
        C("client_credential_type", "VARCHAR", "confidential-client credential type when present"),
        C("ip", "VARCHAR", "source IP as seen by the identity provider"),
        C("resource_ip", "VARCHAR", "IP as seen by the resource provider (CAE), when it differs"),
        C("country", "VARCHAR", "vendor-given ISO 3166 alpha-2 country"),
        C("state", "VARCHAR", "vendor-given state / region"),
        C("city", "VARCHAR", "vendor-given city"),
        C("latitude", "DOUBLE", "vendor-given latitude"),
        C("longitude", "DOUBLE", "vendor-given longitude"),
        C("asn", "INTEGER", "vendor-given autonomous system number"),
        C("device_id", "VARCHAR", "device id"),
        C("device_name", "VARCHAR", "device display name"),
        C("device_os", "VARCHAR", "operating system"),
        C("device_browser", "VARCHAR", "browser"),
        C("device_managed", "BOOLEAN", "device is managed"),
        C("device_compliant", "BOOLEAN", "device is compliant"),
        C("device_trust_type", "VARCHAR", "Azure AD joined, Hybrid Azure AD joined, Azure AD registered, ..."),
        C("user_agent", "VARCHAR", "user agent string"),
        C("session_id", "VARCHAR", "identity-provider session id (Entra SessionId, Okta rootSessionId)"),
        C("unique_token_id", "VARCHAR", "Entra UniqueTokenIdentifier (uti claim)"),
        C("correlation_id", "VARCHAR", "correlation id of the sign-in trail"),
        C("original_request_id", "VARCHAR", "first request of a multi-step sign-in"),
        C("request_id", "VARCHAR", "vendor request id of this sign-in (Entra Id)"),
        C("risk_level_during_signin", "VARCHAR", "real-time vendor risk level"),
        C("risk_level_aggregated", "VARCHAR", "aggregated vendor risk level"),
        C("risk_state", "VARCHAR", "vendor risk state"),
        C("risk_detail", "VARCHAR", "vendor risk detail"),
        C("risk_event_types", "JSON", "vendor risk event types (array)"),
        C("ca_status", "VARCHAR", "conditional access status: success | failure | notApplied"),
        C("ca_policies", "JSON", "per-policy conditional access results as the vendor wrote them"),
    ),
)

ACTIVITIES = Table(
    "activities",
    doc="Cloud-app and audit activity (Office 365 unified audit log, Defender CloudAppEvents, ...).",
    columns=_PROVENANCE + _USER + (
        C("workload", "VARCHAR", "Exchange, SharePoint, OneDrive, MicrosoftTeams, AzureActiveDirectory, ..."),
        C("record_type", "VARCHAR", "vendor record type"),
        C("operation", "VARCHAR", "operation / action name, e.g. MailItemsAccessed, New-InboxRule"),
        C("result_status", "VARCHAR", "vendor result status"),
        C("object_id", "VARCHAR", "object acted upon (file URL, mailbox, rule, ...)"),
        C("ip", "VARCHAR", "client IP (port and brackets removed)"),
        C("user_agent", "VARCHAR", "client user agent"),
        C("client_app_id", "VARCHAR", "AppAccessContext.ClientAppId / AppId"),
        C("app_name", "VARCHAR", "client application name"),
        C("session_id", "VARCHAR", "AppAccessContext.AADSessionId / SessionId (joins signins.session_id)"),
        C("unique_token_id", "VARCHAR", "AppAccessContext.UniqueTokenId (joins signins.unique_token_id)"),
        C("correlation_id", "VARCHAR", "AppAccessContext.CorrelationId"),
        C("token_issued_at", "TIMESTAMP", "AppAccessContext.IssuedAtTime"),
        C("device_id", "VARCHAR", "device id when given"),
        C("country", "VARCHAR", "vendor-given country, when given"),
        C("city", "VARCHAR", "vendor-given city, when given"),
        C("isp", "VARCHAR", "vendor-given ISP, when given"),
        C("parameters", "JSON", "operation parameters (inbox-rule settings, ...)"),
        C("details", "JSON", "other vendor details worth keeping at hand (item counts, folders, ...)"),
    ),
)

DIRECTORY_EVENTS = Table(
    "directory_events",
    doc="Identity changes that matter to access (Entra AuditLogs, Graph directoryAudit).",
    columns=_PROVENANCE + (
        C("event_type", "VARCHAR", "password_changed | password_reset | user_disabled | user_enabled | user_deleted"
          " | sessions_revoked | mfa_registered | mfa_removed | role_requested | role_assigned | other"),
        C("operation", "VARCHAR", "vendor activity name (activityDisplayName / OperationName)"),
        C("category", "VARCHAR", "vendor category"),
        C("result", "VARCHAR", "success | failure"),
        C("result_reason", "VARCHAR", "vendor result reason"),
        C("actor_id", "VARCHAR", "initiating user or app id"),
        C("actor_upn", "VARCHAR", "initiating user UPN (lower-cased) or app name"),
        C("target_user_id", "VARCHAR", "target user id"),
        C("target_upn", "VARCHAR", "target user UPN, lower-cased"),
        C("target_display_name", "VARCHAR", "target display name"),
        C("ip", "VARCHAR", "caller IP"),
        C("correlation_id", "VARCHAR", "correlation id"),
        C("modified_properties", "JSON", "modified properties (old and new values)"),
        C("operation_type", "VARCHAR", "vendor operation type: Add, Update, Delete, Assign ... (AADOperationType)"),
        C("additional_details", "JSON", "vendor additional details, a list of {key, value} (AdditionalDetails)"),
    ),
)

RAW_RECORDS = Table(
    "raw_records",
    doc="Where the raw text of each stored record is kept: a slice of a compressed block in `raw_blocks` "
        "(read it with `vigil raw EVENT_ID` or `vigil.raw(store, ids)`).",
    columns=(
        C("event_id", "VARCHAR NOT NULL", "event id in signins / activities / directory_events"),
        C("target_table", "VARCHAR NOT NULL", "which canonical table holds the normalised row"),
        C("block_id", "VARCHAR NOT NULL", "block in raw_blocks holding the text"),
        C("start", "BIGINT NOT NULL", "byte offset of the record in the decompressed block"),
        C("length", "BIGINT NOT NULL", "byte length of the record (UTF-8)"),
    ),
)

RAW_BLOCKS = Table(
    "raw_blocks",
    doc="Raw record text exactly as read (JSON; CSV rows as a JSON object of their cells), concatenated and "
        "compressed per block of consecutive records. Compressing ~1 MB blocks with zstd level 1 in Arrow costs "
        "about a twentieth of storing each text in a DuckDB column (bench/ingest_throughput.py).",
    primary_key=("block_id",),
    columns=(
        C("block_id", "VARCHAR NOT NULL", "block id (ingest run, batch, block)"),
        C("codec", "VARCHAR NOT NULL", "compression codec of data (zstd)"),
        C("records", "INTEGER NOT NULL", "records in the block"),
        C("raw_bytes", "BIGINT NOT NULL", "decompressed size"),
        C("data", "BLOB NOT NULL", "compressed concatenated record texts"),
    ),
)

QUARANTINE = Table(
    "quarantine",
    doc="Records that could not be parsed or failed validation; never silently dropped.",
    columns=(
        C("ingest_id", "VARCHAR NOT NULL", "ingest run"),
        C("source_file", "VARCHAR NOT NULL", "file"),
        C("source_format", "VARCHAR", "adapter, when known"),
        C("line", "BIGINT", "1-based line where the record starts"),
        C("byte_offset", "BIGINT", "byte offset where the record starts (uncompressed)"),
        C("reason", "VARCHAR NOT NULL", "why it was quarantined"),
        C("raw", "VARCHAR", "raw text (first 64 KiB; bytes decoded with replacement when not UTF-8)"),
        C("quarantined_at", "TIMESTAMP NOT NULL", "when"),
    ),
)

INGEST_RUNS = Table(
    "ingest_runs",
    doc="One row per file ingested: what was read, stored, de-duplicated and quarantined.",
    primary_key=("ingest_id",),
    columns=(
        C("ingest_id", "VARCHAR NOT NULL", "run id"),
        C("source_file", "VARCHAR NOT NULL", "file"),
        C("source_format", "VARCHAR", "adapter"),
        C("started_at", "TIMESTAMP NOT NULL", "start"),
        C("finished_at", "TIMESTAMP", "end (null while running or after a crash)"),
        C("records_read", "BIGINT", "records read"),
        C("records_stored", "BIGINT", "new records stored"),
        C("records_duplicate", "BIGINT", "records already in the store (or repeated in the file)"),
        C("records_quarantined", "BIGINT", "records quarantined"),
        C("status", "VARCHAR", "running | complete | failed"),
        C("error", "VARCHAR", "one-line error when failed"),
    ),
)

META = Table(
    "vigil_meta",
    doc="Schema version and store metadata.",
    primary_key=("key",),
    columns=(C("key", "VARCHAR NOT NULL", "key"), C("value", "VARCHAR", "value")),
)

CORE_TABLES: tuple[Table, ...] = (
    SIGNINS, ACTIVITIES, DIRECTORY_EVENTS, RAW_RECORDS, RAW_BLOCKS, QUARANTINE, INGEST_RUNS, META,
)
EVENT_TABLES = {"signins": SIGNINS, "activities": ACTIVITIES, "directory_events": DIRECTORY_EVENTS}

SCHEMA_VERSION = 4
