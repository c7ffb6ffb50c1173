"""The one settings definition, and the one place the environment is read.

Settings come from, in increasing precedence: defaults below, a YAML config file
(``--config``, else ``$VIGIL_CONFIG``, else ``./vigil.yaml`` if present), then the
environment variables listed in ``ENV``. Components receive the parsed object (or
their section of it) as an argument; nothing reads the environment elsewhere.

Each area owns one section class here; add fields to your own section only.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from vigil.errors import ConfigError

DEFAULT_DB = "vigil.duckdb"

#: environment variable -> dotted settings path
ENV = {
    "VIGIL_DB": "store.path",
    "VIGIL_GEO_DB": "enrich.mmdb_path",
    "VIGIL_FEEDS_DIR": "enrich.feeds_dir",
    "VIGIL_SERVICE_HOST": "service.host",
    "VIGIL_SERVICE_PORT": "service.port",
    # connector secrets: from the environment (or a file named in the config), never from the config itself
    "VIGIL_GRAPH_CLIENT_SECRET": "connectors.graph.client_secret",
    "VIGIL_O365_CLIENT_SECRET": "connectors.o365.client_secret",
    "VIGIL_OKTA_TOKEN": "connectors.okta.token",
    "VIGIL_KAFKA_PASSWORD": "stream.sasl_password",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreSettings(_Section):
    path: str = Field(DEFAULT_DB, description="DuckDB file holding every table")
    threads: int = Field(0, description="DuckDB threads (0 = all cores)")
    memory_limit: str = Field("4GB", description="DuckDB memory_limit for batch work")


class IngestSettings(_Section):
    batch_bytes: int = Field(64 * 1024 * 1024, description="raw bytes parsed per set-based batch")
    max_record_bytes: int = Field(
        16 * 1024 * 1024, description="records longer than this are quarantined, not parsed"
    )
    max_record_depth: int = Field(
        256, ge=1, le=1000, description="records nested deeper than this (objects / arrays) are quarantined"
    )
    memory_limit: str = Field("1GB", description="DuckDB memory_limit while ingesting (keeps ingest RSS bounded)")
    map_workers: int = Field(
        1, ge=0, le=16, description="threads that read and map the next files (each batch's parse, outside the "
        "store's transaction) while the store writes them in the order given; 0 maps inside each batch's transaction")


class EnrichSettings(_Section):
    mmdb_path: str | None = Field(None, description="MaxMind-format City database (.mmdb)")
    feeds_dir: str | None = Field(None, description="folder with tor/vpn/hosting/threat-intel feeds")
    corporate_asns: list[int] = Field(default_factory=list, description="ASNs that are corporate egress")
    named_locations: str | None = Field(None, description="Graph namedLocation JSON of the tenant")
    named_locations_trusted_only: bool = Field(
        False, description="take only trusted ipNamedLocations as corporate egress (default: all IP locations)")
    corporate_cidrs: list[str] = Field(default_factory=list, description="CIDRs that are corporate egress")
    data_dir: str | None = Field(
        None,
        description="where `vigil geo install|use` and `vigil feeds update` keep files "
                    "(default $XDG_DATA_HOME/vigil, else ~/.local/share/vigil)")
    default_accuracy_km: dict[str, float] = Field(
        default_factory=lambda: {"vendor": 25.0, "mmdb": 50.0},
        description="accuracy radius (km) when the source gives none, per geo_source")
    learn_egress: bool = Field(True, description="propose corporate egress learned from managed+MFA sign-ins")
    learn_lookback_days: int = Field(30, ge=1, description="days of sign-ins egress learning looks at")
    learn_min_users_prefix: int = Field(
        5, ge=2, description="distinct managed+MFA users on one /24 (v4) or /48 (v6) to propose it")
    learn_min_users_asn: int = Field(
        25, ge=2, description="distinct managed+MFA users on one ASN (not a known ISP/mobile/hosting/VPN one)")
    trust_proposed_egress: bool = Field(
        True, description="treat proposed (learned, not yet rejected) egress points as corporate egress")


class SessionSettings(_Section):
    inactivity_gap_minutes: int = Field(
        480, ge=1, description="inferred sessions (no session id): user+device+UA events split by this gap")
    concurrency_minutes: int = Field(
        15, ge=1, description="a novel device/network within this many minutes of the root device is concurrent")
    max_evidence_events: int = Field(50, ge=1, description="evidence event ids kept per hijack finding")
    owner_active_minutes: int = Field(
        60, ge=1, description="a replay while the owner used the root device within this many minutes is high")


class TravelSettings(_Section):
    plausible_kmh: float = Field(900.0, gt=0, description="speeds at or below this are plausible")
    impossible_kmh: float = Field(2000.0, gt=0, description="speeds above this are impossible; between: improbable")
    min_elapsed_s: int = Field(60, ge=1, description="elapsed time floor for speed (clock skew between logs)")


class CaeSettings(_Section):
    state_path: str | None = Field(
        None, description="SQLite file of revocations, SSF streams and outbox (default: <store>.cae.sqlite)")
    keys_path: str | None = Field(
        None, description="private JWKS signing demo tokens and SETs (default: <store>.cae-keys.json)")
    issuer: str = Field("https://vigil.local", description="iss of issued tokens and of SETs")
    audience: str = Field("api://vigil-demo", description="aud the middleware requires in access tokens")
    trusted_jwks_path: str | None = Field(
        None, description="public JWKS of the token issuer the middleware trusts (default: vigil's own keys)")
    trusted_issuer: str | None = Field(None, description="iss the middleware requires (default: issuer)")
    authorization_uri: str = Field(
        "https://login.microsoftonline.com/common/oauth2/authorize",
        description="authorization_uri in the claims challenge")
    cp1_token_lifetime_s: int = Field(28 * 3600, ge=60, le=28 * 3600,
                                      description="lifetime of tokens for cp1 (CAE-capable) clients, max 28 h")
    token_lifetime_s: int = Field(3600, ge=60, le=28 * 3600, description="lifetime of tokens for other clients")
    leeway_s: int = Field(30, ge=0, le=300, description="clock skew allowed on exp / nbf / iat")
    strict_location: bool = Field(False, description="block callers whose IP is outside allowed_locations")
    allowed_locations: list[str] = Field(
        default_factory=list, description="ids or names of IP named locations allowed in strict mode")
    trust_forwarded_for: bool = Field(False, description="take the caller IP from X-Forwarded-For")
    sync_interval_ms: int = Field(50, ge=1, description="how often the hot path re-reads the journal")
    synchronous: str = Field("NORMAL", pattern="^(NORMAL|FULL)$", description="SQLite synchronous mode")
    stage_emit_window_s: int = Field(
        28 * 3600, description="the stage emits SETs only for events newer than this (older tokens expired)")
    push_timeout_s: float = Field(5.0, gt=0, description="HTTP timeout of one push delivery")
    push_max_attempts: int = Field(8, ge=1, description="push attempts before a SET is marked failed")
    push_backoff_s: float = Field(1.0, gt=0, description="first retry delay; doubles each attempt")
    push_backoff_max_s: float = Field(300.0, gt=0, description="retry delay cap")
    poll_max_wait_s: float = Field(10.0, ge=0, description="longest a poll without returnImmediately waits")


class UebaSettings(_Section):
    learning_days: int = Field(
        7, description="days after a user's first event during which they are marked, not scored")
    lookback_action_days: int = Field(180, description="baseline for action (operation) insights")
    lookback_app_days: int = Field(180, description="baseline for app insights")
    lookback_resource_days: int = Field(180, description="baseline for resource insights")
    lookback_browser_days: int = Field(30, description="baseline for browser insights")
    lookback_device_days: int = Field(30, description="baseline for device insights (first-time / tenant)")
    lookback_device_peers_days: int = Field(180, description="baseline for DeviceUncommonlyUsedAmongPeers / InTenant")
    lookback_isp_days: int = Field(30, description="baseline for ISP insights")
    lookback_country_days: int = Field(90, description="baseline for country insights")
    uncommon_by_user_days: int = Field(10, description="window of the *UncommonlyUsedByUser insights")
    volume_days: int = Field(7, description="window of UncommonHighVolumeOfActions")
    dormant_days: int = Field(180, description="IsDormantAccount: no activity for this many days")
    new_account_days: int = Field(30, description="IsNewAccount: created within this many days")
    uncommon_user_share: float = Field(0.1, description="value is uncommon by user below this share of their events")
    uncommon_peer_share: float = Field(0.1, description="value is uncommon among peers below this share of peers")
    uncommon_tenant_share: float = Field(0.01, description="value is uncommon in tenant below this share of user-days")
    volume_factor: float = Field(3.0, description="high volume: today's count > factor x 7-day daily mean")
    volume_min: int = Field(20, description="high volume needs at least this many actions today")
    failure_burst_min: int = Field(5, description="failure burst: at least this many failed logons in a clock hour")
    peers: int = Field(20, description="peers kept per user (UserPeerAnalytics ranks 1..N)")
    max_peer_group_size: int = Field(2000, description="groups larger than this carry ~no TF-IDF weight; skipped")


class ServiceSettings(_Section):
    host: str = Field("127.0.0.1", description="address `vigil serve` binds")
    port: int = Field(8765, ge=1, le=65535, description="port `vigil serve` binds")
    public_url: str | None = Field(
        None, pattern=r"^https?://[^/?#\s@]+(/[^?#\s]*)?$",
        description="URL clients reach the service at (behind a TLS proxy: its https URL); every URL the "
                    "service hands out starts with it. Default: http://<host>:<port>, the bind address")
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="largest request body outside file upload")
    max_upload_bytes: int = Field(256 * 1024 * 1024, ge=1024, description="largest POST /api/v1/ingest upload")
    session_ttl_s: int = Field(8 * 3600, ge=60, description="lifetime of a web UI sign-in session")
    page_limit: int = Field(1000, ge=1, le=100_000, description="default and maximum rows per list request")
    hunt_row_limit: int = Field(10_000, ge=1, description="rows returned by one hunting query")
    map_event_limit: int = Field(5000, ge=10, description="most sign-ins drawn on one itinerary map")
    backup_dir: str | None = Field(
        None, description="where POST /api/v1/backup (and `vigil backup` while serving) writes (default: "
        "<store folder>/backups)")
    log_format: str = Field("text", pattern="^(text|json)$",
                            description="`vigil serve` log lines: text, or json (one object per line)")

    def url(self, host: str | None = None, port: int | None = None) -> str:
        """The service's base URL: ``public_url``, else the bind address (``host``/``port`` override
        the settings', as ``vigil serve --host/--port`` do). Never derived from a request."""
        if self.public_url:
            return self.public_url.rstrip("/")
        bind = host or self.host
        if ":" in bind and not bind.startswith("["):
            bind = f"[{bind}]"
        return f"http://{bind}:{port or self.port}"


class HuntSettings(_Section):
    timeout_s: float = Field(30.0, gt=0, description="longest a hunting query (KQL or read-only SQL) may run; "
                                                      "it is interrupted past this")
    max_concurrent_per_token: int = Field(
        2, ge=1, description="hunts one API token may run at once in `vigil serve`; more get 429 + Retry-After")
    now: str = Field(
        "auto", pattern=r"^(auto|wall|latest|\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
                        r"(Z|[+-]\d{2}:?\d{2})?)?)$",
        description="what now() / ago() mean in every hunt (CLI, API, UI): auto (the wall clock, or the newest "
                    "event once the store's logs are over a day old), wall, latest, or an ISO time; docs/hunting.md")


class DetectionSettings(_Section):
    disabled: list[str] = Field(
        default_factory=list, description="detection ids not to run (see `vigil detections list`)")
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-detection parameter overrides: {detection id: {param: value}}"
    )
    leaked_credentials_path: str | None = Field(
        None, description="file of leaked-credential SHA-256 hashes (see docs/detections.md#leakedcredentials)"
    )


class RiskSettings(_Section):
    low_risk_age_days: int = Field(180, ge=1, description="low-level risk ages out after this many days")
    mfa_remediation_minutes: int = Field(
        10, ge=0, description="a successful MFA sign-in this soon after a risky sign-in remediates it"
    )


class IncidentSettings(_Section):
    merge_gap_hours: float = Field(24.0, gt=0, description="signals for one user closer than this are one campaign")
    min_score: float = Field(
        6.0, ge=0, description="a campaign becomes an incident at this score (see docs/incidents.md)")
    behavior_min_priority: int = Field(
        7, ge=0, le=10, description="BehaviorAnalytics rows at or above this InvestigationPriority join incidents"
    )
    webhook_url: str | None = Field(None, description="URL receiving new or updated incidents (POST JSON)")
    webhook_secret: str | None = Field(None, description="HMAC-SHA256 key for the X-Vigil-Signature header")
    webhook_max_attempts: int = Field(5, ge=1, description="delivery attempts per incident before giving up")
    webhook_backoff_s: float = Field(0.5, gt=0, description="first retry delay; doubles each attempt")
    webhook_timeout_s: float = Field(10.0, gt=0, description="HTTP timeout of one delivery")


class PolicySettings(_Section):
    policies: str | None = Field(None, description="Graph conditionalAccessPolicy JSON the decision point uses")
    named_locations: str | None = Field(
        None, description="Graph namedLocation JSON the policies refer to (default: enrich.named_locations)"
    )
    mfa_trusted_ips: list[str] = Field(
        default_factory=list, description="legacy MFA trusted IPs (CIDRs); part of AllTrusted"
    )
    allow_unresolved_locations: bool = Field(
        False, description="evaluate policies naming locations that are not loaded (they never match)"
    )
    realtime_risk: bool = Field(
        True, description="the decision point applies vigil's user risk and scores sign-ins in real time "
        "when a request gives no risk (docs/policy.md)"
    )


class ConnectorCommonSettings(_Section):
    enabled: bool = Field(False, description="`vigil serve` runs this connector in the background")
    interval_s: float = Field(60.0, gt=0, description="seconds between polls")
    initial_lookback_hours: float = Field(24.0, gt=0, description="first poll (no checkpoint) starts this far back")
    overlap_minutes: float = Field(
        120.0, ge=0,
        description="each poll re-reads this much before the newest record seen (late and republished records)")
    timeout_s: float = Field(30.0, gt=0, description="HTTP timeout of one request")
    max_attempts: int = Field(6, ge=1, description="attempts per request on 5xx, timeouts and throttling")
    backoff_s: float = Field(1.0, ge=0, description="first retry delay after a 5xx or timeout; doubles each attempt")
    max_retry_wait_s: float = Field(
        300.0, ge=0, description="longest wait honoured from Retry-After / X-Rate-Limit-Reset")
    max_pages: int = Field(10_000, ge=1, description="pages read per stream per poll (the rest on the next poll)")
    ca_bundle: str | None = Field(
        None, description="PEM CA bundle to verify TLS with (a TLS-inspecting proxy, or the local test server)")


class EntraAppSettings(ConnectorCommonSettings):
    tenant_id: str | None = Field(None, description="Entra tenant id (GUID) or domain")
    client_id: str | None = Field(None, description="application (client) id of the app registration")
    client_secret: SecretStr | None = Field(
        None, description="client secret; set it through the environment variable, never in the config file")
    client_secret_file: str | None = Field(None, description="file holding the client secret")
    certificate_file: str | None = Field(
        None, description="PEM file with the certificate's private key (and certificate)")
    certificate_thumbprint: str | None = Field(None, description="SHA-1 thumbprint of that certificate (hex)")
    authority_host: str = Field("https://login.microsoftonline.com", description="Entra sign-in endpoint")


class GraphConnectorSettings(EntraAppSettings):
    graph_url: str = Field("https://graph.microsoft.com", description="Microsoft Graph endpoint")
    streams: list[str] = Field(
        default_factory=lambda: ["signins", "directoryAudits", "riskDetections", "riskyUsers", "policies"],
        description="what to pull: signins, directoryAudits, riskDetections, riskyUsers, policies")
    sign_in_event_types: list[str] = Field(
        default_factory=lambda: ["interactiveUser", "nonInteractiveUser", "servicePrincipal", "managedIdentity"],
        description="signInEventTypes of auditLogs/signIns (beta) to pull")
    page_size: int = Field(1000, ge=1, le=1000, description="$top of each request")
    overlap_minutes: float = Field(
        15.0, ge=0, description="each poll re-reads this much before the newest record seen (late records)")
    republished_minutes: float = Field(
        120.0, ge=0, description="a periodic re-read goes this far back (MFA and risk details republished up to 2 h)")
    republished_every_s: float = Field(
        900.0, gt=0, description="how often the long re-read of republished records runs")


class O365ConnectorSettings(EntraAppSettings):
    manage_url: str = Field("https://manage.office.com", description="Office 365 Management Activity API endpoint")
    content_types: list[str] = Field(
        default_factory=lambda: ["Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint", "Audit.General"],
        description="subscriptions to start and read")
    overlap_minutes: float = Field(720.0, ge=0, description="content re-listed this far back (records up to 12 h late)")


class OktaConnectorSettings(ConnectorCommonSettings):
    org_url: str | None = Field(None, description="https://<your org>.okta.com")
    token: SecretStr | None = Field(None, description="API token (okta.logs.read); set it through $VIGIL_OKTA_TOKEN")
    token_file: str | None = Field(None, description="file holding the API token")
    auth_scheme: str = Field("SSWS", pattern="^(SSWS|Bearer)$",
                             description="SSWS for an API token, Bearer for an OAuth access token")
    limit: int = Field(1000, ge=1, le=1000, description="records per page")


class StreamSettings(_Section):
    """The Kafka consumer of ``vigil serve`` (Azure Event Hubs' Kafka endpoint or a Kafka cluster); docs/stream.md."""

    enabled: bool = Field(False, description="`vigil serve` consumes the topics below")
    brokers: str = Field("127.0.0.1:9092", description="bootstrap servers, host:port[,host:port]; Event Hubs: "
                         "<namespace>.servicebus.windows.net:9093")
    topics: list[str] = Field(default_factory=list, description="topics to consume (any format `vigil formats` lists)")
    group_id: str = Field("vigil", min_length=1, description="consumer group (offsets are kept per group)")
    security_protocol: str = Field("PLAINTEXT", pattern="^(PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)$",
                                   description="PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL (Event Hubs: SASL_SSL)")
    sasl_mechanism: str = Field("PLAIN", pattern="^(PLAIN|SCRAM-SHA-256|SCRAM-SHA-512)$",
                                description="SASL mechanism (Event Hubs: PLAIN)")
    sasl_username: str | None = Field(None, description="SASL user (Event Hubs: the literal $ConnectionString)")
    sasl_password: SecretStr | None = Field(
        None, description="SASL password (Event Hubs: the connection string); set it through $VIGIL_KAFKA_PASSWORD")
    sasl_password_file: str | None = Field(None, description="file holding the SASL password")
    ssl_ca_location: str | None = Field(None, description="PEM CA bundle verifying the brokers (default: system's)")
    auto_offset_reset: str = Field("earliest", pattern="^(earliest|latest)$",
                                   description="where a group with no committed offset starts")
    session_timeout_ms: int = Field(30_000, ge=1000, description="consumer group session timeout")
    instance_id: str | None = Field(
        None, min_length=1, description="static group membership (group.instance.id, unique per service in the "
                                        "group): a service restarted after a crash takes its partitions back at "
                                        "once instead of waiting for its old session to expire")
    batch_interval_s: float = Field(1.0, gt=0, le=60, description="a micro-batch closes after this long ...")
    batch_max_events: int = Field(5000, ge=1, description="... or after this many messages, whichever is first")
    max_message_bytes: int = Field(16 * 1024 * 1024, ge=1024,
                                   description="messages longer than this are quarantined, not parsed")
    analyze: bool = Field(True, description="analyse each micro-batch that stored records (incrementally)")
    max_analysis_delay_s: float = Field(
        10.0, ge=0, description="while the consumer is behind (micro-batches come full), the analysis waits up to "
                                "this long (or as long as the last analysis took, if longer) to take several at "
                                "once (it costs about the same for one or many)")
    cae_fast_lane: bool = Field(
        True, description="a second consumer group (<group_id>.cae) revokes on critical audit events at once, "
                          "without waiting for the store and the analysis")
    output_topic: str | None = Field(
        None, description="topic receiving new or updated incidents and user-risk changes as JSON")
    options: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="further librdkafka settings passed as they are (e.g. fetch.min.bytes)")


class ConnectorSettings(_Section):
    graph: GraphConnectorSettings = Field(default_factory=GraphConnectorSettings)
    o365: O365ConnectorSettings = Field(default_factory=O365ConnectorSettings)
    okta: OktaConnectorSettings = Field(default_factory=OktaConnectorSettings)
    analyze_after_batch: bool = Field(
        True, description="`vigil serve` re-runs the analysis after a poll stores records")


class Settings(BaseModel):
    # an unknown section or key is an error naming it, never silently ignored
    model_config = ConfigDict(extra="forbid")

    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    enrich: EnrichSettings = Field(default_factory=EnrichSettings)
    detections: DetectionSettings = Field(default_factory=DetectionSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    incidents: IncidentSettings = Field(default_factory=IncidentSettings)
    sessions: SessionSettings = Field(default_factory=SessionSettings)
    travel: TravelSettings = Field(default_factory=TravelSettings)
    ueba: UebaSettings = Field(default_factory=UebaSettings)
    cae: CaeSettings = Field(default_factory=CaeSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    hunt: HuntSettings = Field(default_factory=HuntSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    connectors: ConnectorSettings = Field(default_factory=ConnectorSettings)
    stream: StreamSettings = Field(default_factory=StreamSettings)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def default_data_dir() -> Path:
    """Where the geolocation databases and feeds live unless ``enrich.data_dir`` says: the XDG data
    folder (``$XDG_DATA_HOME/vigil``, else ``~/.local/share/vigil``)."""
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "vigil"


def load_settings(
    config_path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Build the settings object. ``overrides`` are dotted paths (e.g. ``{"store.path": "x"}``)."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    path = config_path or env.get("VIGIL_CONFIG")
    if path is None and Path("vigil.yaml").is_file():
        path = "vigil.yaml"
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError("config file not found", path=str(p))
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"not valid YAML ({str(exc).splitlines()[0]})", path=str(p)) from None
        if not isinstance(loaded, dict):
            raise ConfigError("top level must be a mapping", path=str(p))
        data = loaded
    for var, dotted in ENV.items():
        if env.get(var):
            _set_dotted(data, dotted, env[var])
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(data, dotted, value)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"setting {loc}: {first['msg']}", path=str(path) if path else None) from None
