"""``identities``, ``identity_aliases``, ``identity_links``, ``identity_link_actions``, ``event_identities``."""
from __future__ import annotations

from vigil.store.schema import C, Table

IDENTITIES = Table(
    "identities",
    doc="One row per account at one identity provider: the directory object id where one exists, else the "
        "provider's own user id, else a stable id derived from the name the logs carry.",
    primary_key=("identity_id",),
    columns=(
        C("identity_id", "VARCHAR NOT NULL", "Entra object id (lower-cased); provider:id for Okta, Google, AWS; "
                                             "provider:name when the logs carry no id"),
        C("provider", "VARCHAR NOT NULL", "entra | okta | google | aws"),
        C("account_id", "VARCHAR", "the provider's own user id (null for a name-derived identity)"),
        C("name", "VARCHAR", "current name: the latest UPN / login / email"),
        C("display_name", "VARCHAR", "latest display name"),
        C("user_type", "VARCHAR", "latest user type (Member, Guest, ...)"),
        C("created_time", "TIMESTAMP", "account creation (directory or audit), when known"),
        C("deleted_time", "TIMESTAMP", "account deletion (audit), when known"),
        C("first_seen", "TIMESTAMP", "first event or observation"),
        C("last_seen", "TIMESTAMP", "last event or observation"),
        C("events", "BIGINT", "sign-ins and activities resolved to it"),
        C("person_id", "VARCHAR NOT NULL", "the person: identity_id of the linked group's representative "
                                           "(its Entra identity when it has one); itself when unlinked"),
    ),
)

IDENTITY_ALIASES = Table(
    "identity_aliases",
    doc="Names an identity carried, each with the period it was valid. A name reused by another account "
        "later is a second row of that account, with its own period.",
    primary_key=("identity_id", "kind", "alias", "valid_from_seen"),
    columns=(
        C("identity_id", "VARCHAR NOT NULL", "identities.identity_id"),
        C("kind", "VARCHAR NOT NULL", "upn | login | email | federated | display_name"),
        C("alias", "VARCHAR NOT NULL", "the name, lower-cased and trimmed (display names as written)"),
        C("valid_from", "TIMESTAMP", "start of validity (null: since the account's beginning)"),
        C("valid_to", "TIMESTAMP", "end of validity, exclusive (null: still valid)"),
        C("valid_from_seen", "TIMESTAMP NOT NULL", "first time a record carried it"),
        C("last_seen", "TIMESTAMP NOT NULL", "last time a record carried it"),
        C("observations", "BIGINT", "records that carried it"),
        C("learned_from", "VARCHAR", "directory | audit | signin | activity (where it was first seen)"),
        C("evidence", "VARCHAR", "event_id or directory file of the first record that carried it"),
    ),
)

IDENTITY_LINKS = Table(
    "identity_links",
    doc="Links between two accounts of one person at different identity providers, with their evidence. "
        "Automatic links are recomputed; manual ones come from identity_link_actions.",
    primary_key=("identity_a", "identity_b"),
    columns=(
        C("identity_a", "VARCHAR NOT NULL", "the smaller identity_id"),
        C("identity_b", "VARCHAR NOT NULL", "the larger identity_id"),
        C("method", "VARCHAR NOT NULL", "verified_email | same_login | federation | manual"),
        C("status", "VARCHAR NOT NULL", "accepted | rejected (unlinked by hand) | ambiguous (another account "
                                        "claims the same name at that provider: not linked)"),
        C("alias", "VARCHAR", "the shared name (null for a manual link)"),
        C("evidence", "JSON", "kinds and sources of the shared name on each side, overlap of their periods, "
                              "or the manual action (who, when, why)"),
        C("reason", "VARCHAR", "one line a human reads"),
    ),
)

IDENTITY_LINK_ACTIONS = Table(
    "identity_link_actions",
    doc="Links added or rejected by hand (`vigil identity link|unlink`): who, when, why. Never replaced.",
    primary_key=("action_id",),
    columns=(
        C("action_id", "VARCHAR NOT NULL", "id"),
        C("action", "VARCHAR NOT NULL", "link | unlink"),
        C("identity_a", "VARCHAR NOT NULL", "the smaller identity_id"),
        C("identity_b", "VARCHAR NOT NULL", "the larger identity_id"),
        C("actor", "VARCHAR NOT NULL", "who did it"),
        C("created_at", "TIMESTAMP NOT NULL", "when (UTC)"),
        C("reason", "VARCHAR", "why, as given"),
    ),
)

EVENT_IDENTITIES = Table(
    "event_identities",
    doc="The identity and person of every sign-in and activity (what the enriched views join).",
    columns=(
        C("event_id", "VARCHAR NOT NULL", "signins / activities event_id"),
        C("event_table", "VARCHAR NOT NULL", "signins | activities"),
        C("identity_id", "VARCHAR NOT NULL", "identities.identity_id"),
        C("person_id", "VARCHAR NOT NULL", "identities.person_id"),
        C("resolved_by", "VARCHAR NOT NULL", "account_id (the record's own user id) | alias (its name at that "
                                             "time) | name (no account known: derived from the name)"),
    ),
)

TABLES = (IDENTITIES, IDENTITY_ALIASES, IDENTITY_LINKS, IDENTITY_LINK_ACTIONS, EVENT_IDENTITIES)
