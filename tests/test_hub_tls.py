"""`forge hub --tls-cert/--tls-key`: the hub serves HTTPS with the given certificate, and an
agent-style client that trusts it pushes and reads over TLS (issue 13 item 7)."""
from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import ADMIN, LiveHub, wait_until


@pytest.fixture
def cert(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command to make a test certificate")
    key, crt = tmp_path / "hub.key", tmp_path / "hub.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True, timeout=60)
    return crt, key


def _get(url: str, ctx: ssl.SSLContext, token: str | None = None, body: dict | None = None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=5, context=ctx) as r:
        return r.status, json.loads(r.read())


def test_hub_serves_https_with_the_given_certificate(tmp_path, cert):
    crt, key = cert
    hub = LiveHub(tmp_path)
    hub.spawn("hub", hub.forge("hub", "--host", "127.0.0.1", "--port", str(hub.port), "--data-dir",
                               str(tmp_path / "hub"), "--tls-cert", str(crt), "--tls-key", str(key)))
    url = f"https://127.0.0.1:{hub.port}"
    trust = ssl.create_default_context(cafile=str(crt))

    def up():
        try:
            return _get(url + "/api/health", trust)[0] == 200
        except OSError:
            return False
    try:
        wait_until(up, 20, what="the HTTPS hub")
        assert f"listening on {url}" in hub.log("hub")
        st, body = _get(url + "/api/tokens", trust, ADMIN, {"node_id": "tls-node"})
        assert st == 201
        st, _ = _get(url + "/api/ingest/tls-node", trust, body["token"], {"samples": [{"ts": time.time()}]})
        assert st == 200
        assert [n["id"] for n in _get(url + "/api/fleet", trust)[1]["nodes"]] == ["tls-node"]
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            _get(url + "/api/health", ssl.create_default_context())  # an untrusted cert is refused
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{hub.port}/api/health", timeout=3).read()
    finally:
        hub.close()


def test_a_cert_without_its_key_is_a_clear_error(tmp_path, cert):
    crt, _ = cert
    hub = LiveHub(tmp_path)
    p = hub.spawn("hub", hub.forge("hub", "--host", "127.0.0.1", "--port", str(hub.port), "--data-dir",
                                   str(tmp_path / "hub"), "--tls-cert", str(crt)))
    assert p.wait(20) != 0
    assert "--tls-key" in hub.log("hub")
