"""Real HTTPS servers on loopback for did:web, metadata and status tests: a throwaway CA, TLS.

The ``server`` fixture serves ``routes`` (path -> (status, headers, body)) over TLS with a
certificate for ``localhost`` and ``127.0.0.1`` signed by a CA made for this session;
``other_server`` is a second HTTPS origin (another port) and ``plain_server`` speaks plain
HTTP. The HTTPS servers also have special paths that misbehave on purpose:

* ``/trickle-body/...``: 200 with a long Content-Length, then one byte every 0.1 s (each
  read succeeds quickly, so only an overall deadline stops it);
* ``/trickle-head/...``: the status line and headers one byte every 0.1 s;
* ``/endless/...``: 200 without Content-Length, then 64 KiB blocks until the client leaves;
* POST ``/drop/<n>/...``: the first ``n`` POSTs to that path read the request and close the
  connection without a reply (a transport failure); later ones answer as GET routes do.

Each server records the TCP connections it accepted, the paths it handled, the TLS server
names (SNI) and Host headers it saw, so tests can show that something was never contacted.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from seoul_vc.did.document import multikey_method
from seoul_vc.did.web import did_web_url
from seoul_vc.keys import PublicKey

Route = tuple[int, dict[str, str], bytes]
_TRICKLE_INTERVAL = 0.1
_TRICKLE_FOR = 8.0  # seconds a misbehaving handler keeps going if the client never leaves


@dataclass
class LocalCA:
    """The session's certificate authority and the contexts built on it."""

    ca_pem: bytes
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        """A fresh server context with the localhost certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only this CA."""
        return ssl.create_default_context(cadata=self.ca_pem.decode())


@dataclass
class ServerState:
    """What a test server serves and what it has seen."""

    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    connections: int = 0
    requests: list[str] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    host_headers: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def did(self, *path: str) -> str:
        """The did:web DID of ``path`` on this server (``localhost`` with the port)."""
        return ":".join([f"did:web:localhost%3A{self.port}", *path])

    def path_of(self, did: str) -> str:
        """The request path at which ``did`` is fetched."""
        url = did_web_url(did)
        return url[url.index("/", len("https://")) :]

    def serve(self, path: str, status: int = 200, body: bytes = b"", **headers: str) -> None:
        """Answer GET ``path`` with ``status``, ``headers`` (underscores become dashes), body."""
        named = {name.replace("_", "-"): value for name, value in headers.items()}
        self.routes[path] = (status, named, body)

    def publish(self, did: str, document: dict[str, object], path: str | None = None) -> None:
        """Serve ``document`` at ``path`` (default: where ``did`` is fetched)."""
        body = json.dumps(document).encode()
        self.serve(path or self.path_of(did), 200, body, Content_Type="application/did+json")

    def reset(self) -> None:
        """Forget routes and observations."""
        with self.lock:
            self.routes.clear()
            self.connections = 0
            self.requests.clear()
            self.server_names.clear()
            self.host_headers.clear()


def did_document(did: str, key: PublicKey) -> dict[str, object]:
    """A DID document for ``did`` with one Multikey assertion method."""
    method = multikey_method(did, key)
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [method],
        "assertionMethod": [method["id"]],
    }


class _Handler(BaseHTTPRequestHandler):
    server: _LocalServer

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: the tests read ServerState, not logs."""

    def do_POST(self) -> None:
        state = self.server.state
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with state.lock:
            state.requests.append(self.path)
            earlier = state.requests.count(self.path) - 1
        parts = self.path.split("/")
        if self.path.startswith("/drop/") and earlier < int(parts[2]):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)  # no status line: a transport failure
            return
        self._answer(state)

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append(self.path)
            state.host_headers.append(self.headers.get("Host"))
        if self.path.startswith("/trickle-body/"):
            self._trickle_body()
        elif self.path.startswith("/trickle-head/"):
            self._trickle(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{}")
        elif self.path.startswith("/endless/"):
            self._endless()
        else:
            self._answer(state)

    def _answer(self, state: ServerState) -> None:
        status, headers, body = state.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _trickle_body(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.flush()
        self._trickle(b" " * 100000)

    def _trickle(self, data: bytes) -> None:
        stop = time.monotonic() + _TRICKLE_FOR
        try:
            for i in range(len(data)):
                if time.monotonic() > stop:
                    return
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                time.sleep(_TRICKLE_INTERVAL)
        except OSError:
            return  # the client gave up, as it should

    def _endless(self) -> None:
        self.send_response(200)
        self.end_headers()
        block = b" " * 65536
        stop = time.monotonic() + _TRICKLE_FOR
        try:
            while time.monotonic() < stop:
                self.wfile.write(block)
        except OSError:
            return


class _LocalServer(ThreadingHTTPServer):
    """A threading HTTP server that does the TLS handshake in each connection's thread."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext | None, state: ServerState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.context = context
        self.state = state
        state.port = self.server_address[1]

    def get_request(self) -> tuple[socket.socket, Any]:
        request, address = super().get_request()
        with self.state.lock:
            self.state.connections += 1
        return request, address

    def finish_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        assert isinstance(request, socket.socket)
        request.settimeout(_TRICKLE_FOR + 2)
        if self.context is None:
            super().finish_request(request, client_address)
            return
        tls = self.context.wrap_socket(request, server_side=True)
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        """Stay quiet: refused handshakes and clients that hang up are expected here."""


def _make_ca(directory: Path) -> LocalCA:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "seoul_vc test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file = directory / "server.pem"
    key_file = directory / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return LocalCA(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        cert_file=cert_file,
        key_file=key_file,
    )


def _run(context: ssl.SSLContext | None) -> Iterator[ServerState]:
    state = ServerState()
    if context is not None:

        def record_sni(_: ssl.SSLObject, name: str | None, __: ssl.SSLContext) -> None:
            with state.lock:
                state.server_names.append(name)

        context.sni_callback = record_sni
    server = _LocalServer(context, state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture(scope="session")
def local_ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCA:
    """A throwaway CA and a server certificate for localhost and 127.0.0.1."""
    return _make_ca(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def _did_web_server(local_ca: LocalCA) -> Iterator[ServerState]:
    yield from _run(local_ca.server_context())


@pytest.fixture(scope="session")
def _other_server(local_ca: LocalCA) -> Iterator[ServerState]:
    yield from _run(local_ca.server_context())


@pytest.fixture(scope="session")
def _plain_server() -> Iterator[ServerState]:
    yield from _run(None)


@pytest.fixture
def server(_did_web_server: ServerState) -> Iterator[ServerState]:
    """The HTTPS did:web server, with routes and observations reset after the test."""
    yield _did_web_server
    _did_web_server.reset()


@pytest.fixture
def other_server(_other_server: ServerState) -> Iterator[ServerState]:
    """A second HTTPS server: same host and certificate, another port (another origin)."""
    yield _other_server
    _other_server.reset()


@pytest.fixture
def plain_server(_plain_server: ServerState) -> Iterator[ServerState]:
    """A plain-HTTP server, which did:web must never talk to."""
    yield _plain_server
    _plain_server.reset()
