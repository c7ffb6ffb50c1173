"""App-only access tokens from Entra ID (msal client credentials) for Graph and Office 365.

The secret or certificate is read from the settings (which take the secret from the
environment) or from a file, held in memory only, never logged, never written to the store.
"""
from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

from vigil.errors import AuthError, ConfigError
from vigil.settings import EntraAppSettings


def _read(path: str, what: str) -> str:
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} ({exc.strerror})", path=path) from None


def check(cfg: EntraAppSettings, section: str) -> None:
    for name in ("tenant_id", "client_id"):
        if not getattr(cfg, name):
            raise ConfigError(f"setting connectors.{section}.{name} is required")
    if not (cfg.client_secret or cfg.client_secret_file or cfg.certificate_file):
        raise ConfigError(f"connectors.{section}: no credential; set $VIGIL_{section.upper()}_CLIENT_SECRET, "
                          "client_secret_file, or certificate_file with certificate_thumbprint")
    if cfg.certificate_file and not cfg.certificate_thumbprint:
        raise ConfigError(f"setting connectors.{section}.certificate_thumbprint is required with certificate_file")


class EntraToken:
    """Callable giving ``Bearer <token>``; ``refresh=True`` drops the cached token (it was refused)."""

    def __init__(self, cfg: EntraAppSettings, section: str, scope: str) -> None:
        check(cfg, section)
        self.cfg = cfg
        self.section = section
        self.scope = scope
        self._app: Any = None
        self._lock = threading.Lock()

    def _credential(self) -> Any:
        cfg = self.cfg
        if cfg.certificate_file:
            return {"private_key": _read(cfg.certificate_file, "certificate"),
                    "thumbprint": str(cfg.certificate_thumbprint).replace(":", "")}
        if cfg.client_secret is not None:
            return cfg.client_secret.get_secret_value()
        return _read(str(cfg.client_secret_file), "client secret")

    def _client(self) -> Any:
        import msal
        import requests

        cfg = self.cfg
        session = requests.Session()
        # per request, so that $REQUESTS_CA_BUNDLE (which requests prefers to a session's verify) cannot
        # replace the configured bundle
        extra: dict[str, Any] = {"timeout": cfg.timeout_s}
        if cfg.ca_bundle:
            extra["verify"] = cfg.ca_bundle
        session.request = functools.partial(session.request, **extra)  # type: ignore[method-assign]
        return msal.ConfidentialClientApplication(
            str(cfg.client_id), client_credential=self._credential(),
            authority=f"{cfg.authority_host.rstrip('/')}/{cfg.tenant_id}",
            # a sovereign cloud or the local test server is not in msal's list of known clouds
            instance_discovery=cfg.authority_host.rstrip("/") == "https://login.microsoftonline.com",
            http_client=session)

    def __call__(self, refresh: bool = False) -> str:
        with self._lock:
            try:
                if self._app is None or refresh:
                    self._app = self._client()  # a new app has an empty token cache
                result = self._app.acquire_token_for_client(scopes=[self.scope])
            except Exception as exc:  # msal raises requests' and its own errors; one line, no secret
                raise AuthError(f"connectors.{self.section}: token request to {self.cfg.authority_host} failed "
                                f"({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})"
                                ) from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            err = result.get("error_description") or result.get("error") if isinstance(result, dict) else result
            raise AuthError(f"connectors.{self.section}: no access token ({str(err).splitlines()[0][:200]})")
        return f"Bearer {token}"
