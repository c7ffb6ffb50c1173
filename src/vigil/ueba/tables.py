"""Tables written by the UEBA area: Sentinel-named outputs and vigil's own baselines.

Sentinel names (``IdentityInfo``, ``UserPeerAnalytics``, ``BehaviorAnalytics``) keep the
vendor's column names; extra columns of ours are named so they cannot be mistaken for
vendor ones (``PeerSource``, ``InvestigationPriorityReason``, ``BlastRadiusReason`` ...).
Baselines are snake_case ``ueba_*`` tables keyed by day, which is what makes analysis
incremental (see docs/ueba.md).
"""
from __future__ import annotations

from vigil.store.bags import fold_sql
from vigil.store.schema import C, Column, Table
from vigil.ueba.insights import DIMENSIONS

DIRECTORY_USERS = Table(
    "directory_users",
    doc="Every user record read from a directory file (one row per file and user); IdentityInfo is built from it.",
    columns=(
        C("user_key", "VARCHAR NOT NULL", "object id, else lower-cased UPN"),
        C("object_id", "VARCHAR", "Entra object id"),
        C("upn", "VARCHAR", "userPrincipalName, lower-cased"),
        C("display_name", "VARCHAR", "displayName"),
        C("given_name", "VARCHAR", "givenName"),
        C("surname", "VARCHAR", "surname"),
        C("mail", "VARCHAR", "mail"),
        C("department", "VARCHAR", "department"),
        C("job_title", "VARCHAR", "jobTitle"),
        C("company_name", "VARCHAR", "companyName"),
        C("manager", "VARCHAR", "manager as given (object id or UPN)"),
        C("account_enabled", "BOOLEAN", "accountEnabled"),
        C("created", "TIMESTAMP", "createdDateTime"),
        C("user_type", "VARCHAR", "Member | Guest"),
        C("on_prem_sid", "VARCHAR", "onPremisesSecurityIdentifier"),
        C("city", "VARCHAR", "city"),
        C("state", "VARCHAR", "state"),
        C("country", "VARCHAR", "country / usageLocation"),
        C("last_sign_in", "TIMESTAMP", "signInActivity.lastSignInDateTime"),
        C("groups", "JSON", "group display names given on the user record (IdentityInfo / CSV exports)"),
        C("roles", "JSON", "assigned directory role names given on the user record"),
        C("change_source", "VARCHAR", "Graph | IdentityInfo | AADUserInfo | CSV"),
        C("source_file", "VARCHAR NOT NULL", "file read"),
        C("observed_at", "TIMESTAMP NOT NULL", "TimeGenerated of the export, else ingest time"),
    ),
)

DIRECTORY_MEMBERSHIPS = Table(
    "directory_memberships",
    doc="Group (or directory role) membership edges read from Graph group / member / role lists.",
    columns=(
        C("group_id", "VARCHAR NOT NULL", "group or role id (display name when only the name is known)"),
        C("group_name", "VARCHAR", "group display name"),
        C("kind", "VARCHAR NOT NULL", "group | role"),
        C("member_key", "VARCHAR NOT NULL", "member object id, else lower-cased UPN"),
        C("source_file", "VARCHAR NOT NULL", "file read"),
    ),
)

DIRECTORY_GROUPS = Table(
    "directory_groups",
    doc="Groups and roles read from Graph lists (with or without members).",
    columns=(
        C("group_id", "VARCHAR NOT NULL", "group or role id"),
        C("group_name", "VARCHAR", "displayName"),
        C("kind", "VARCHAR NOT NULL", "group | role"),
        C("security_enabled", "BOOLEAN", "securityEnabled"),
        C("mail_enabled", "BOOLEAN", "mailEnabled"),
        C("source_file", "VARCHAR NOT NULL", "file read"),
    ),
)

IDENTITY_INFO = Table(
    "IdentityInfo",
    doc="Sentinel IdentityInfo: one row per account, latest directory state.",
    columns=(
        C("TimeGenerated", "TIMESTAMP", "when this state was observed"),
        C("AccountObjectId", "VARCHAR", "Entra object id"),
        C("AccountUPN", "VARCHAR", "userPrincipalName (lower-cased)"),
        C("AccountDisplayName", "VARCHAR", "displayName"),
        C("AccountName", "VARCHAR", "UPN prefix"),
        C("AccountDomain", "VARCHAR", "UPN domain"),
        C("GivenName", "VARCHAR", "givenName"),
        C("Surname", "VARCHAR", "surname"),
        C("MailAddress", "VARCHAR", "mail"),
        C("Department", "VARCHAR", "department"),
        C("JobTitle", "VARCHAR", "jobTitle"),
        C("CompanyName", "VARCHAR", "companyName"),
        C("Manager", "VARCHAR", "manager UPN when resolvable, else as given"),
        C("GroupMembership", "JSON", "array of group display names"),
        C("AssignedRoles", "JSON", "array of directory role names"),
        C("AccountCreationTime", "TIMESTAMP", "createdDateTime"),
        C("IsAccountEnabled", "BOOLEAN", "accountEnabled"),
        C("UserType", "VARCHAR", "Member | Guest"),
        C("AccountSID", "VARCHAR", "on-premises SID"),
        C("City", "VARCHAR", "city"),
        C("State", "VARCHAR", "state"),
        C("Country", "VARCHAR", "country"),
        C("BlastRadius", "VARCHAR", "Low | Medium | High (org-tree position and roles)"),
        C("BlastRadiusReason", "VARCHAR", "vigil: why this BlastRadius"),
        C("ChangeSource", "VARCHAR", "where the latest state came from (Graph, IdentityInfo, AADUserInfo, CSV)"),
        C("SourceSystem", "VARCHAR", "AzureActiveDirectory | ActiveDirectory | Hybrid"),
        C("user_key", "VARCHAR", "vigil: UEBA user key (lower-cased UPN, else object id)"),
        C("Tags", "JSON", "[\"Sensitive\"] for an account holding a privileged directory role (Defender for "
                          "Identity's automatic tag), else []"),
        C("PrivilegedEntraPimRoles", "JSON", "the privileged directory roles the account holds (vigil's directory "
                                             "has no PIM eligibility, so active assignments)"),
    ),
)

USER_PEER_ANALYTICS = Table(
    "UserPeerAnalytics",
    doc="Sentinel UserPeerAnalytics: each user's top peers, rank 1 = closest.",
    columns=(
        C("TimeGenerated", "TIMESTAMP", "when the peers were calculated"),
        C("UserId", "VARCHAR", "user object id"),
        C("UserPrincipalName", "VARCHAR", "user UPN"),
        C("UserName", "VARCHAR", "user display name"),
        C("PeerUserId", "VARCHAR", "peer object id"),
        C("PeerUserPrincipalName", "VARCHAR", "peer UPN"),
        C("PeerUserName", "VARCHAR", "peer display name"),
        C("Rank", "INTEGER", "1..N, 1 = most similar"),
        C("PeerSource", "VARCHAR", "vigil: groups (TF-IDF shared membership) | app_usage (fallback, no directory)"),
        C("PeerScore", "DOUBLE", "vigil: cosine similarity of TF-IDF vectors, 0..1"),
        C("user_key", "VARCHAR", "vigil: user join key"),
        C("peer_key", "VARCHAR", "vigil: peer join key"),
    ),
)

BEHAVIOR_ANALYTICS = Table(
    "BehaviorAnalytics",
    doc="Sentinel BehaviorAnalytics: one row per sign-in and per activity, with insight bags and priority. "
        "A view over ueba_behavior (which holds each bag key as a typed column); as a Table, the view's contract.",
    columns=(
        C("TimeGenerated", "TIMESTAMP", "activity time"),
        C("TimeProcessed", "TIMESTAMP", "when vigil computed the row"),
        C("SourceRecordId", "VARCHAR", "event_id of the canonical row"),
        C("TenantId", "VARCHAR", "tenant"),
        C("ActivityType", "VARCHAR", "LogOn | FailedLogOn | workload of the activity"),
        C("ActionType", "VARCHAR", "normalised action: Sign-in, or the operation name"),
        C("EventSource", "VARCHAR", "Azure AD, Office 365, Okta, ..."),
        C("EventVendor", "VARCHAR", "Microsoft, Okta, Google, AWS ..."),
        C("NativeTableName", "VARCHAR", "original table (SigninLogs, OfficeActivity ...)"),
        C("UserName", "VARCHAR", "account name (UPN prefix)"),
        C("UserPrincipalName", "VARCHAR", "UPN"),
        C("SourceIPAddress", "VARCHAR", "source IP"),
        C("SourceIPLocation", "VARCHAR", "country of the source IP"),
        C("SourceDevice", "VARCHAR", "device name / id"),
        C("UsersInsights", "JSON", "AccountDisplayName, AccountObjectID, IsDormantAccount, IsNewAccount, BlastRadius"),
        C("DevicesInsights", "JSON", "Browser, DeviceFamily, OperatingSystem, UserAgentFamily, ISP, ThreatIntel*"),
        C("ActivityInsights", "JSON", "FirstTime* / *Uncommonly* flags, App, UncommonHighVolumeOfActions ..."),
        C("InvestigationPriority", "INTEGER", "0..10, formula in docs/ueba.md"),
        C("InvestigationPriorityReason", "VARCHAR", "vigil: the score explained"),
        C("InLearningPeriod", "BOOLEAN", "vigil: user still in the learning period (not scored)"),
        C("user_key", "VARCHAR", "vigil: user join key"),
        C("event_table", "VARCHAR", "vigil: signins | activities"),
    ),
)

_ACTIVITY_KINDS = ("first time for the user", "uncommon for the user", "uncommon among the user's peers",
                   "first time in the tenant", "uncommon in the tenant")
#: BehaviorAnalytics' JSON bags: bag -> its keys in Sentinel's order, each a typed column of ueba_behavior
INSIGHT_BAGS: dict[str, tuple[Column, ...]] = {
    "UsersInsights": (
        C("AccountDisplayName", "VARCHAR", "UsersInsights: displayName"),
        C("AccountObjectID", "VARCHAR", "UsersInsights: Entra object id"),
        C("IsDormantAccount", "BOOLEAN", "UsersInsights: no activity for ueba.dormant_days before this day"),
        C("IsNewAccount", "BOOLEAN", "UsersInsights: created within ueba.new_account_days"),
        C("BlastRadius", "VARCHAR", "UsersInsights: IdentityInfo's BlastRadius"),
    ),
    "DevicesInsights": (
        C("Browser", "VARCHAR", "DevicesInsights: browser"),
        C("DeviceFamily", "VARCHAR", "DevicesInsights: device family"),
        C("OperatingSystem", "VARCHAR", "DevicesInsights: operating system"),
        C("UserAgentFamily", "VARCHAR", "DevicesInsights: user-agent family"),
        C("ISP", "VARCHAR", "DevicesInsights: ISP"),
        C("ThreatIntelIndicatorType", "VARCHAR", "DevicesInsights: threat-intelligence match on the source IP"),
    ),
    "ActivityInsights": tuple(
        C(key, "BOOLEAN", f"ActivityInsights: {d.label} {kind} (null when the event has no {d.label})")
        for d in DIMENSIONS for key, kind in zip(d.keys(), _ACTIVITY_KINDS, strict=True)) + (
        C("App", "VARCHAR", "ActivityInsights: the app"),
        C("UncommonHighVolumeOfActions", "BOOLEAN", "ActivityInsights: one action far above its daily mean"),
        C("UncommonHighVolumeOfOperations", "BOOLEAN", "ActivityInsights: the same, Sentinel's other name"),
    ),
}

UEBA_BEHAVIOR = Table(
    "ueba_behavior",
    doc="BehaviorAnalytics as stored: its columns with each JSON bag's keys as typed columns in the bag's place. "
        "The BehaviorAnalytics view folds them back into the JSON objects at read time.",
    columns=tuple(col for c in BEHAVIOR_ANALYTICS.columns for col in INSIGHT_BAGS.get(c.name, (c,))),
)


def behavior_view_sql() -> str:
    """The BehaviorAnalytics view over ueba_behavior (Sentinel's columns, the bags as JSON objects)."""
    return fold_sql(UEBA_BEHAVIOR.name, BEHAVIOR_ANALYTICS.column_names,
                    {bag: [c.name for c in cols] for bag, cols in INSIGHT_BAGS.items()})


# Baselines: one row per (user, dimension, value, day). Days are integers (days since epoch).
UEBA_USER_DAILY = Table(
    "ueba_user_daily",
    doc="Per user, dimension, value and day: event count. The baseline every user/peer insight reads.",
    columns=(
        C("user_key", "VARCHAR NOT NULL", "user"),
        C("dim", "VARCHAR NOT NULL", "action | app | resource | browser | device | isp | country | activity_type"),
        C("value", "VARCHAR NOT NULL", "the value"),
        C("day", "INTEGER NOT NULL", "days since 1970-01-01"),
        C("n", "BIGINT NOT NULL", "events"),
    ),
)

UEBA_TENANT_DAILY = Table(
    "ueba_tenant_daily",
    doc="Per dimension, value and day: users and events in the tenant.",
    columns=(
        C("dim", "VARCHAR NOT NULL", "dimension"),
        C("value", "VARCHAR NOT NULL", "value"),
        C("day", "INTEGER NOT NULL", "day"),
        C("users", "BIGINT NOT NULL", "distinct users that day"),
        C("n", "BIGINT NOT NULL", "events that day"),
    ),
)

UEBA_ACTIVE_DAILY = Table(
    "ueba_active_daily",
    doc="Per user and day: events; the denominators and first/last-seen of each user.",
    columns=(
        C("user_key", "VARCHAR NOT NULL", "user"),
        C("day", "INTEGER NOT NULL", "day"),
        C("n", "BIGINT NOT NULL", "events"),
    ),
)

UEBA_STATE = Table(
    "ueba_state",
    doc="Incremental state: which days the baselines and BehaviorAnalytics cover, and with which settings.",
    primary_key=("key",),
    columns=(C("key", "VARCHAR NOT NULL", "key"), C("value", "VARCHAR", "value")),
)

DIRECTORY_TABLES = (DIRECTORY_USERS, DIRECTORY_MEMBERSHIPS, DIRECTORY_GROUPS, IDENTITY_INFO)
UEBA_TABLES = DIRECTORY_TABLES + (
    USER_PEER_ANALYTICS, UEBA_BEHAVIOR, UEBA_USER_DAILY, UEBA_TENANT_DAILY, UEBA_ACTIVE_DAILY, UEBA_STATE,
)
