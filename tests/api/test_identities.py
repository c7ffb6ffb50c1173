"""Identities through the API and the user page: any former name finds the person; links by admins only."""
from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import bearer
from tests.identity.helpers import add, entra, okta, rename
from vigil.identity import stage

JANE = "0a0a0a0a-0000-4000-8000-0000000000aa"


def _identities(service: dict[str, Any]) -> None:
    with service["app"].state.vigil.db.writer() as store:
        add(store, "signins", [entra("ji1", 0, JANE, "jane.doe@contoso.com", user_display_name="Jane Doe"),
                               entra("ji2", 5, JANE, "jane.smith@contoso.com", user_display_name="Jane Smith"),
                               okta("ji3", 6, "00uj", "jsmith@okta-contoso.com")])
        add(store, "directory_events", [rename("jr", 4, JANE, "jane.doe@contoso.com", "jane.smith@contoso.com")])
        stage.rebuild(store)


def test_any_former_name_finds_the_person_and_only_admins_link(service: dict[str, Any]) -> None:
    _identities(service)
    client, reader, admin = service["client"], bearer(service["reader"]), bearer(service["admin"])
    r = client.get("/api/v1/identities/Jane.Doe@contoso.com", headers=reader)
    assert r.status_code == 200, r.text
    person = r.json()[0]
    assert (person["person_id"], person["name"], person["former_names"]) == (
        JANE, "jane.smith@contoso.com", ["jane.doe@contoso.com"])
    assert client.get("/api/v1/identities/nobody@contoso.com", headers=reader).status_code == 404

    body = {"first": "jane.smith@contoso.com", "second": "jsmith@okta-contoso.com", "reason": "same employee"}
    assert client.post("/api/v1/identities/link", json=body, headers=reader).status_code == 403
    r = client.post("/api/v1/identities/link", json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["person_ids"] == [JANE] and r.json()["actor"] == "alice-admin"

    with service["app"].state.vigil.db.writer() as store:  # an incident raised under the old name
        store.execute("""insert into incidents (incident_id, title, severity, status, user_id, user_principal_name,
                           detection_ids, accounts, priority, last_activity)
                         values ('INC-JANE', 'legacy auth', 'medium', 'new', ?, 'jane.doe@contoso.com', '[]', '[]',
                                 1, TIMESTAMP '2026-01-05 09:00')""", [JANE])
    queue = client.get("/api/v1/incidents", params={"user": "jsmith@okta-contoso.com"}, headers=reader).json()
    assert [i["incident_id"] for i in queue["items"]] == ["INC-JANE"]  # any name of the person finds it

    user = client.get("/api/v1/users/jsmith@okta-contoso.com", headers=reader).json()["user"]
    assert user["person_id"] == JANE and {a["provider"] for a in user["accounts"]} == {"entra", "okta"}
    assert user["former_names"] == ["jane.doe@contoso.com"] and user["signins"] == 3


def test_the_user_page_shows_former_names_and_linked_accounts(service: dict[str, Any]) -> None:
    _identities(service)
    client = service["client"]
    pre = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text)
    assert pre is not None
    client.post("/signin", data={"token": service["reader"], "csrf_token": pre.group(1)}, follow_redirects=False)
    html = client.get("/users/jane.doe@contoso.com").text
    assert "Formerly:" in html and "jane.smith@contoso.com" in html and 'id="accounts"' in html
