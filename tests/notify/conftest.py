"""Real local receivers on loopback: an HTTP server that records every request (webhook,
Slack, PagerDuty Events and REST API shapes, scripted answers including 429 and 5xx) and an
SMTP server (aiosmtpd) with STARTTLS and AUTH that stores every message."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import os
import signal
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

SECRET_ROUTING_KEY = "R0UTING-KEY-5f2c9e1d-7a44"
SECRET_SLACK_URL_PART = "T000-B000-sl4ckS3cr3tP4th"
SECRET_TOKEN = "b34r3r-t0k3n-9c1d"
SMTP_USER = "notifier"
SMTP_PASSWORD = "smtp-p4ssw0rd-71aa"
SECRETS = (SECRET_ROUTING_KEY, SECRET_SLACK_URL_PART, SECRET_TOKEN, SMTP_PASSWORD)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Receiver:
    """Records every request; answers from a per-path script, then a default."""

    server: ThreadingHTTPServer
    requests: list[Request] = field(default_factory=list)
    scripts: dict[str, list[tuple[int, Any, dict[str, str]]]] = field(default_factory=dict)
    gets: dict[str, Any] = field(default_factory=dict)
    kill: tuple[Callable[[Request], bool], Callable[[], int]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, path: str, *answers: tuple[int, Any, dict[str, str]]) -> None:
        self.scripts.setdefault(path, []).extend(answers)

    def to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path.split("?")[0] == path]


def _default(path: str) -> tuple[int, Any, dict[str, str]]:
    if path.startswith("/v2/enqueue"):
        return 202, {"status": "success", "message": "Event processed", "dedup_key": "x"}, {}
    if path.startswith("/slack"):
        return 200, "ok", {}
    return 200, {"ok": True}, {}


def _handler(rec: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: Any, headers: dict[str, str]) -> None:
            data = (
                body
                if isinstance(body, bytes)
                else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
            )
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self, body: bytes) -> Request:
            r = Request(self.command, self.path, dict(self.headers), body)
            with rec.lock:
                rec.requests.append(r)
            return r

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            r = self._record(body)
            if rec.kill is not None and rec.kill[0](r):
                # The remote got it; the sender dies before it can record that it did.
                os.kill(rec.kill[1](), signal.SIGKILL)
                rec.kill = None
            path = self.path.split("?")[0]
            with rec.lock:
                script = rec.scripts.get(path)
                answer = script.pop(0) if script else _default(path)
            self._reply(*answer)

        def do_GET(self) -> None:  # noqa: N802
            self._record(b"")
            path = self.path.split("?")[0]
            body = rec.gets.get(path)
            if body is None:
                self._reply(404, {"error": "not found"}, {})
            else:
                self._reply(200, body, {})

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def serve_receiver() -> Iterator[Receiver]:
    """A recording HTTP receiver on 127.0.0.1 for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    rec = Receiver(server)
    server.RequestHandlerClass = _handler(rec)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as rec:
        yield rec


# -- SMTP ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the client trusts it as its CA file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp.crt", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Mailbox:
    host: str
    port: int
    ca_file: Path
    messages: list[dict[str, Any]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox("127.0.0.1", _free_port(), cert)

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
            box.messages.append(
                {
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "data": envelope.content.decode("utf-8", "replace"),
                    "tls": session.ssl is not None,
                }
            )
            return "250 Message accepted for delivery"

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == SMTP_USER
            and auth_data.password.decode() == SMTP_PASSWORD
        )
        if ok:
            box.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=box.port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    yield box
    controller.stop()


# -- the demo with channels pointing at the receivers ---------------------------------------


def channel_env(receiver: Receiver, smtp: Mailbox | None = None) -> dict[str, str]:
    """The user's side: secrets and loopback destinations, in the environment."""
    env = {
        "WORKBENCH_CHANNEL_PAGERDUTY_ROUTING_KEY": SECRET_ROUTING_KEY,
        "WORKBENCH_CHANNEL_PAGERDUTY_URL": f"{receiver.url}/v2/enqueue",
        "WORKBENCH_CHANNEL_SLACK_URL": f"{receiver.url}/slack/{SECRET_SLACK_URL_PART}",
        "no_proxy": "127.0.0.1,localhost",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    if smtp is None:
        # Nothing listens there: e-mail fails at once, and nothing leaves the machine.
        env.update(
            {
                "WORKBENCH_CHANNEL_EMAIL_HOST": "127.0.0.1",
                "WORKBENCH_CHANNEL_EMAIL_PORT": str(_free_port()),
            }
        )
    else:
        env.update(
            {
                "WORKBENCH_CHANNEL_EMAIL_HOST": smtp.host,
                "WORKBENCH_CHANNEL_EMAIL_PORT": str(smtp.port),
                "WORKBENCH_CHANNEL_EMAIL_USERNAME": SMTP_USER,
                "WORKBENCH_CHANNEL_EMAIL_PASSWORD": SMTP_PASSWORD,
                "WORKBENCH_CHANNEL_EMAIL_CA_FILE": str(smtp.ca_file),
            }
        )
    return env


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], None]:
    """Set the user's side for in-process runs; drop every other channel variable."""
    for name in list(os.environ):
        if name.startswith("WORKBENCH_CHANNEL_"):
            monkeypatch.delenv(name)

    def apply(env: dict[str, str]) -> None:
        for k, v in env.items():
            monkeypatch.setenv(k, v)

    return apply
