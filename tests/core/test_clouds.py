"""`--cloud`, proven on the wire: `xtap plan --cloud X` asks X's login host for a token with X's
Graph scope, and sends the token to X's Graph host and nowhere else.

No table is compared with itself: the expected hosts and scopes below are Microsoft's national
cloud endpoints as its documentation lists them, written out here. xtap runs as a user runs it,
with azure-identity's EnvironmentCredential (a client secret in AZURE_* variables, the first
credential DefaultAzureCredential tries) and HTTPS_PROXY pointing at a local stand-in. The
stand-in records each CONNECT, then terminates TLS with a certificate for every cloud host
from a throwaway test CA (trusted through SSL_CERT_FILE, which both HTTP stacks honour:
aiohttp under azure-identity, httpx under msgraph-sdk) so the token request's form and the
Graph request's path and bearer token can be read; it answers as login and Graph would.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from support.xtap import run_xtap

from reconciler.core.clouds import CLOUDS, GLOBAL, cloud_types
from reconciler.core.registry import M365_CAPABILITY, MTO_IDENTITY_SYNC_TEMPLATE, MTO_PARTNER_TEMPLATE, REGISTRY

TENANT = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
CLIENT = "0be493dc-cb56-4a53-936f-9cf64410b8b0"
TOKEN = "stand-in-access-token"
# (cloud, login host, token scope, Graph host), from Microsoft's national cloud deployments page.
CLOUD_ENDPOINTS = [
    ("global", "login.microsoftonline.com", "https://graph.microsoft.com/.default", "graph.microsoft.com"),
    ("usgov", "login.microsoftonline.us", "https://graph.microsoft.us/.default", "graph.microsoft.us"),
    ("usgovdod", "login.microsoftonline.us", "https://dod-graph.microsoft.us/.default", "dod-graph.microsoft.us"),
    (
        "china",
        "login.chinacloudapi.cn",
        "https://microsoftgraph.chinacloudapi.cn/.default",
        "microsoftgraph.chinacloudapi.cn",
    ),
]
HOSTS = sorted({host for _, login, _, graph in CLOUD_ENDPOINTS for host in (login, graph)})


@dataclass(frozen=True)
class Seen:
    """One request the stand-in read inside a tunnel."""

    host: str
    method: str
    path: str
    authorization: str
    form: dict[str, list[str]]


@dataclass
class StandIn:
    """What went through the proxy: the CONNECT targets, then the requests inside each tunnel."""

    url: str
    connects: list[str] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)


def minted_ca(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA file for SSL_CERT_FILE, and the server context of a certificate it signed for every
    cloud host: minted per run, valid for a day, never written anywhere the test does not own."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xtap test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    names = [x509.DNSName(host) for host in HOSTS] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTS[0])]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, leaf_file, key_file = folder / "ca.pem", folder / "leaf.pem", folder / "leaf.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    leaf_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf_file, key_file)
    return ca_file, context


class _Tunnelled(BaseHTTPRequestHandler):
    """A request inside a tunnel, answered as login (a token) or Graph (no partners) would."""

    protocol_version = "HTTP/1.1"
    timeout = 5
    seen: list[Seen]

    def do_GET(self) -> None:
        self._answer({"value": []} if "/partners" in self.path else {})

    def do_POST(self) -> None:
        self._answer({"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": TOKEN})

    def _answer(self, reply: object) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode()) if length else {}
        host = (self.headers.get("Host") or "").split(":")[0]
        self.seen.append(Seen(host, self.command, self.path, self.headers.get("Authorization") or "", form))
        body = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads `seen`, not a log."""


@contextmanager
def stand_in(tls: ssl.SSLContext) -> Iterator[StandIn]:
    """An HTTP proxy on loopback that opens a tunnel only for a known cloud host (403 otherwise)
    and terminates TLS inside it. Bounded: a socket timeout per request, shut down at the end."""
    record = StandIn("")

    class Tunnelled(_Tunnelled):
        seen = record.requests

    class Proxy(BaseHTTPRequestHandler):
        timeout = 5

        def do_CONNECT(self) -> None:
            record.connects.append(self.path)
            if self.path.rsplit(":", 1)[0] not in HOSTS:
                self.send_error(403, "not a cloud host")
                return
            self.send_response(200, "Connection established")
            self.end_headers()
            Tunnelled(tls.wrap_socket(self.connection, server_side=True), self.client_address, self.server)
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads `record`, not a log."""

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    record.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield record
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    return minted_ca(tmp_path_factory.mktemp("ca"))


@pytest.mark.parametrize(("cloud", "login", "scope", "graph"), CLOUD_ENDPOINTS)
def test_each_cloud_gets_its_token_from_its_login_host_for_its_graph_and_uses_it_there(
    tmp_path: Path, tls: tuple[Path, ssl.SSLContext], cloud: str, login: str, scope: str, graph: str
) -> None:
    ca_file, context = tls
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    with stand_in(context) as proxy:
        # A process of its own: the async HTTP stack azure-identity signs in through keeps the CA
        # settings it first saw process-wide, so in the test process an earlier test's would win.
        run = run_xtap(
            "plan",
            "--cloud",
            cloud,
            "--policies",
            str(tmp_path / "policies"),
            extra_env={
                "XTAP_GRAPH_URL": None,
                "XTAP_ACCESS_TOKEN": None,
                "AZURE_TENANT_ID": TENANT,
                "AZURE_CLIENT_ID": CLIENT,
                "AZURE_CLIENT_SECRET": "stand-in-secret",
                "HTTPS_PROXY": proxy.url,
                "https_proxy": proxy.url,
                "NO_PROXY": None,
                "no_proxy": None,
                "SSL_CERT_FILE": str(ca_file),
                "SSL_CERT_DIR": None,
                "REQUESTS_CA_BUNDLE": str(ca_file),
            },
            subprocess=True,
        )
    assert run.code == 0, run.stderr
    assert "No changes" in run.stdout
    assert set(proxy.connects) == {f"{login}:443", f"{graph}:443"}
    [token_request] = [seen for seen in proxy.requests if seen.method == "POST"]
    assert (token_request.host, token_request.path) == (login, f"/{TENANT}/oauth2/v2.0/token")
    assert token_request.form["scope"] == [scope]
    assert token_request.form["client_id"] == [CLIENT]
    graph_requests = [seen for seen in proxy.requests if seen.method == "GET"]
    assert graph_requests
    assert {seen.host for seen in graph_requests} == {graph}
    assert all(seen.path.startswith("/v1.0/policies/crossTenantAccessPolicy/") for seen in graph_requests)
    assert {seen.authorization for seen in graph_requests} == {f"Bearer {TOKEN}"}


def test_a_national_cloud_reads_every_type_but_the_global_only_ones() -> None:
    templates = {MTO_PARTNER_TEMPLATE.name, MTO_IDENTITY_SYNC_TEMPLATE.name, M365_CAPABILITY.name}
    assert cloud_types(GLOBAL) == tuple(rtype.name for rtype in REGISTRY)
    for cloud in set(CLOUDS) - {GLOBAL}:
        assert set(cloud_types(cloud)) == {rtype.name for rtype in REGISTRY} - templates
