"""``incidents``, ``incident_comments`` and ``incident_deliveries`` (webhook bookkeeping)."""
from __future__ import annotations

from vigil.store.schema import C, Table

INCIDENTS = Table(
    "incidents",
    doc="Incidents: one campaign against one user (or one attack source against many) with its evidence.",
    primary_key=("incident_id",),
    columns=(
        C("incident_id", "VARCHAR NOT NULL", "INC- + 10 hex; stable across re-analysis"),
        C("title", "VARCHAR", "what happened, to whom"),
        C("severity", "VARCHAR", "high | medium | low | informational"),
        C("status", "VARCHAR", "new | active | closed (set by analysts, kept across re-analysis)"),
        C("classification", "VARCHAR", "truePositive | benignPositive | falsePositive | undetermined"),
        C("user_id", "VARCHAR", "user object id (NULL for a campaign against many accounts)"),
        C("user_principal_name", "VARCHAR", "UPN (NULL for a campaign against many accounts)"),
        C("first_activity", "TIMESTAMP", "earliest signal"),
        C("last_activity", "TIMESTAMP", "latest signal"),
        C("session_keys", "JSON", "sessions involved"),
        C("detection_ids", "JSON", "riskDetections.id"),
        C("event_ids", "JSON", "events involved (detections', behaviour rows', and their sessions')"),
        C("recommended_action", "VARCHAR", "what to do now"),
        C("reason", "VARCHAR", "why it was raised: score and the signals behind it"),
        C("priority", "DOUBLE", "ranking score (sum of the strongest level per detection kind, + behaviour)"),
        C("created_at", "TIMESTAMP", "first raised"),
        C("updated_at", "TIMESTAMP", "content or status last changed"),
        C("campaign_key", "VARCHAR", "attack source for multi-account campaigns (spray:..., stuffing:...)"),
        C("risk_event_types", "JSON", "kinds of detection in it"),
        C("behavior_ids", "JSON", "BehaviorAnalytics.SourceRecordId rows with high InvestigationPriority"),
        C("accounts", "JSON", "accounts targeted (campaign incidents)"),
        C("content_hash", "VARCHAR", "hash of the evidence; a change marks the incident updated"),
    ),
)

COMMENTS = Table(
    "incident_comments",
    doc="Analyst comments and status changes on incidents (never replaced by re-analysis).",
    columns=(
        C("incident_id", "VARCHAR NOT NULL", "incident"),
        C("author", "VARCHAR NOT NULL", "who"),
        C("created_at", "TIMESTAMP NOT NULL", "when (UTC)"),
        C("text", "VARCHAR NOT NULL", "comment"),
    ),
)

DELIVERIES = Table(
    "incident_deliveries",
    doc="Webhook deliveries: which version (content hash + status) of an incident reached which URL.",
    primary_key=("url", "incident_id", "version"),
    columns=(
        C("url", "VARCHAR NOT NULL", "webhook URL"),
        C("incident_id", "VARCHAR NOT NULL", "incident"),
        C("version", "VARCHAR NOT NULL", "content hash + status + classification delivered"),
        C("delivered_at", "TIMESTAMP NOT NULL", "when"),
        C("attempts", "INTEGER", "attempts it took"),
        C("http_status", "INTEGER", "final HTTP status"),
    ),
)

TABLES = (INCIDENTS, COMMENTS, DELIVERIES)
