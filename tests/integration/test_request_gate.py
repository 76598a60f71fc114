"""Before a body is read: anonymous writes are refused at once (a real uvicorn, a raw socket announcing 90 MB
and sending none of it), the session cookie changes nothing from another site, and `Origin: null` (Camunda
Modeler) gets CORS without credentials."""

from __future__ import annotations

import socket

import httpx
from fastapi.testclient import TestClient

from tests.conftest import ADMIN, LiveServer
from tests.factories import two_lane_deal, upload


def announce_and_read(port: int, path: str, headers: str = "") -> bytes:
    """Send only the headers of a 90 MB multipart POST; the server must answer without waiting for the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}"
                      "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 90000000\r\n\r\n").encode())
        sock.sendall(b"--x\r\n" + b"A" * 4096)
        return sock.recv(4096)


def test_anonymous_writes_are_refused_before_the_body_is_read(live_server: LiveServer) -> None:
    for path in ("/api/v1/process-instances", "/engine-rest/deployment/create", "/api/v1/messages"):
        answer = announce_and_read(live_server.port, path)
        assert answer.startswith(b"HTTP/1.1 401"), (path, answer[:200])
        assert b"www-authenticate" in answer.lower()
    wrong = "Authorization: Basic " + httpx.BasicAuth("admin", "wrong-password")._auth_header.split()[1] + "\r\n"
    assert announce_and_read(live_server.port, "/api/v1/process-instances", wrong).startswith(b"HTTP/1.1 401")
    with httpx.Client(base_url=live_server.url, auth=ADMIN) as admin:  # the server is fine and still works
        assert admin.post("/api/v1/deployments", files=upload(("d.bpmn", two_lane_deal()))).status_code == 201


def test_session_cookie_changes_nothing_from_another_site(client: TestClient) -> None:
    assert client.post("/api/v1/deployments", files=upload(("d.bpmn", two_lane_deal()))).status_code == 201
    token = client.post("/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}).json()["access_token"]
    browser = TestClient(client.app, base_url="http://testserver")
    browser.cookies.set("voronka_session", token)
    start = {"definition_key": "deal"}
    for origin in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {}, {"Referer": "https://evil.example/x"}):
        refused = browser.post("/api/v1/process-instances", json=start, headers=origin)
        assert refused.status_code == 403 and "cross-site" in refused.json()["detail"], origin
        assert browser.post("/engine-rest/process-definition/key/deal/start", json={},
                            headers=origin).status_code == 403
    assert browser.post("/api/v1/process-instances", json=start,
                        headers={"Origin": "http://testserver"}).status_code == 201
    assert browser.get("/api/v1/process-instances").status_code == 200  # reading with the cookie is fine
    # API clients' own credentials are not cookies: any origin may send them.
    assert client.post("/api/v1/process-instances", json=start,
                       headers={"Origin": "https://evil.example"}).status_code == 201


def test_origin_null_gets_cors_without_credentials(client: TestClient) -> None:
    preflight = client.options("/engine-rest/deployment/create", headers={
        "Origin": "null", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "null"
    assert "access-control-allow-credentials" not in preflight.headers
    simple = client.get("/engine-rest/version", headers={"Origin": "null"})
    assert simple.headers.get("access-control-allow-origin") == "null"
    assert "access-control-allow-credentials" not in simple.headers
