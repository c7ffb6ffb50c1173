"""Shared fixtures of the policy tests: vigil's own policy and location files."""
from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.risk.month import month  # noqa: F401  (the simulated month, session-scoped)
from vigil.policy.context import SignInContext
from vigil.policy.evaluate import PolicySet
from vigil.locations.named import NamedLocations, load_named_locations
from vigil.policy.model import Policy
from vigil.policy.parse import load_policies

POLICY_DIR = FIXTURES / "policy"
POLICIES = POLICY_DIR / "policies.json"
LOCATIONS = POLICY_DIR / "namedLocations.json"
ALICE = "aaaaaaaa-0000-0000-0000-000000000001"
BREAKGLASS = "22222222-0000-0000-0000-000000000001"
SALES = "22222222-0000-0000-0000-000000000002"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
AZURE_MGMT = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
EXO = "00000002-0000-0ff1-ce00-000000000000"
HQ_IP, PARTNER_IP, HOME_IP = "203.0.113.7", "198.51.100.9", "192.0.2.44"


@pytest.fixture(scope="session")
def all_policies() -> list[Policy]:
    return load_policies(POLICIES)


@pytest.fixture(scope="session")
def locations() -> NamedLocations:
    return load_named_locations(LOCATIONS)


@pytest.fixture(scope="session")
def only(all_policies: list[Policy], locations: NamedLocations) -> Any:
    """``only("name", ...)`` -> a PolicySet of the named fixture policies."""
    by_name = {p.display_name: p for p in all_policies}

    def build(*names: str) -> PolicySet:
        return PolicySet([by_name[n] for n in names], locations)

    return build


def ctx(**kw: Any) -> SignInContext:
    """A registered, compliant Windows browser sign-in by Alice from a home IP to Exchange Online."""
    base: dict[str, Any] = dict(user_id=ALICE, user_principal_name="alice@contoso.com", application_id=EXO,
                                ip=HOME_IP, country="DE", platform="windows", client_app_type="browser")
    base.update(kw)
    return SignInContext(**base)
