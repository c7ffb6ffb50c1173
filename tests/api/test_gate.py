"""Authentication before the body, against a real `vigil serve` child process.

The server (tests/api/conftest.py's ``served``) runs with its own TMPDIR; a watcher thread samples that folder and the server's open
file descriptors while the uploads stream, so a body spooled to disk (python-multipart rolls an
upload over 1 MiB into an anonymous temporary file) is seen even though it has no name.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from vigil.api.gate import ADMIN, PUBLIC, READER, AuthGate

MIB = 1024 * 1024
BOUNDARY = "vigil-test-boundary"


class SpoolWatcher(threading.Thread):
    """Records every file that appears in ``spool`` or that the server holds open under it."""

    def __init__(self, pid: int, spool: Path) -> None:
        super().__init__(daemon=True)
        self.fds, self.spool = Path(f"/proc/{pid}/fd"), str(spool)
        self.seen: set[str] = set()
        self.stop = threading.Event()

    def sample(self) -> None:
        self.seen.update(os.listdir(self.spool))
        for fd in self.fds.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue  # closed meanwhile
            if target.startswith(self.spool):
                self.seen.add(target)

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(0.002)

    def __enter__(self) -> SpoolWatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join()
        self.sample()


def _multipart(size: int, watcher: SpoolWatcher) -> Iterator[bytes]:
    """One file part of ``size`` bytes, streamed; the watcher samples between chunks as well."""
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.json\"\r\n"
           f"Content-Type: application/json\r\n\r\n").encode()
    chunk = b"x" * MIB
    for _ in range(size // MIB):
        yield chunk
        watcher.sample()
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _upload(served: dict[str, Any], token: str | None, size: int, *, chunked: bool = False
            ) -> tuple[httpx.Response, set[str]]:
    head = len(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.json\"\r\n"
               f"Content-Type: application/json\r\n\r\n") + len(f"\r\n--{BOUNDARY}--\r\n")
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Content-Length": str(head + size)}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if chunked:  # no Content-Length: httpx streams it with Transfer-Encoding: chunked
        del headers["Content-Length"]
    with SpoolWatcher(served["proc"].pid, served["spool"]) as watcher:
        r = httpx.post(f"{served['url']}/api/v1/ingest", content=_multipart(size, watcher), headers=headers,
                       timeout=120)
    return r, watcher.seen


@pytest.mark.parametrize(("who", "status", "chunked"), [(None, 401, False), ("reader", 403, False),
                                                       (None, 401, True), ("reader", 403, True)])
def test_large_upload_is_refused_before_its_body_is_read(served: dict[str, Any], who: str | None,
                                                         status: int, chunked: bool) -> None:
    r, seen = _upload(served, served[who] if who else None, 60 * MIB, chunked=chunked)
    assert r.status_code == status, r.text
    assert r.json()["detail"]
    if status == 401:
        assert r.headers["www-authenticate"].startswith('Bearer realm="vigil"')
    assert r.headers["x-content-type-options"] == "nosniff"  # the security headers wrap the gate
    assert seen == set(), f"the server spooled the body of a refused upload: {sorted(seen)}"


def test_the_watcher_sees_an_admins_spooled_upload(served: dict[str, Any]) -> None:
    """The control: the same watcher does see the temporary files of an upload that is accepted,
    so the empty sets above mean nothing was written, not that nothing could be seen."""
    r, seen = _upload(served, served["admin"], 4 * MIB)
    assert r.status_code in (200, 415, 422), r.text  # x...x is no log format; the point is the spooling
    assert seen, "an admin's 4 MiB upload left no trace in the server's TMPDIR: the watcher is blind"


def test_every_body_carrying_route_is_gated(served: dict[str, Any]) -> None:
    """Over HTTP: anonymous and reader bodies to admin routes, anonymous ones to reader routes."""
    url, reader = served["url"], {"Authorization": f"Bearer {served['reader']}"}
    body = b"{" + b" " * (512 * 1024) + b"}"
    for path in ("/api/v1/tokens", "/api/v1/cae/events", "/api/v1/ssf/streams", "/api/v1/riskyUsers/dismiss"):
        assert httpx.post(url + path, content=body).status_code == 401, path
        assert httpx.post(url + path, content=body, headers=reader).status_code == 403, path
    for path in ("/api/v1/hunt", "/api/v1/policy/whatif", "/hunt"):
        assert httpx.post(url + path, content=body).status_code == 401, path


def test_route_roles_come_from_the_routes_dependencies(service: dict[str, Any]) -> None:
    gate = next(m for m in service["app"].user_middleware if m.cls is AuthGate)
    table = AuthGate(lambda *_: None, **gate.kwargs).table()  # type: ignore[arg-type]
    roles = {(sorted(getattr(r, "methods", None) or ["*"])[0], r.path): role for r, role in table}
    assert roles[("POST", "/api/v1/ingest")] == ADMIN
    assert roles[("POST", "/api/v1/hunt")] == READER
    assert roles[("POST", "/incidents/{incident_id}/status")] == ADMIN
    assert roles[("POST", "/signin")] == PUBLIC
    assert roles[("POST", "/api/v1/ssf/receive/{transmitter_id}")] == PUBLIC


def test_a_bearer_caller_is_identified_once_per_request(service: dict[str, Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate's identification is the one the route's dependency uses (no second token check)."""
    from vigil.api import auth

    calls: list[str] = []
    real = auth.check

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append("check")
        return real(*args, **kwargs)

    monkeypatch.setattr(auth, "check", counting)
    r = service["client"].post("/api/v1/hunt", json={"query": "SigninLogs | take 1"},
                               headers={"Authorization": f"Bearer {service['reader']}"})
    assert r.status_code == 200, r.text
    assert calls == ["check"]
    calls.clear()  # a GET carries no body: the gate stays out and the dependency checks once
    assert service["client"].get("/api/v1/incidents",
                                 headers={"Authorization": f"Bearer {service['reader']}"}).status_code == 200
    assert calls == ["check"]
