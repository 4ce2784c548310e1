"""Real local HTTP receivers that misbehave on purpose, on 127.0.0.1 (raw sockets, so they
can trickle bytes, hang or flood)."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Answer = Callable[[socket.socket, "RawReceiver"], None]


class RawReceiver:
    """Accepts connections, reads each request's head and body, then lets `answer` reply."""

    def __init__(self, answer: Answer, tls: ssl.SSLContext | None = None) -> None:
        self.answer = answer
        self.tls = tls
        self.requests: list[bytes] = []
        self.bytes_sent = 0
        self.stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        self._listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, accepted: socket.socket) -> None:
        accepted.settimeout(5)
        try:
            connection = accepted
            if self.tls is not None:
                connection = self.tls.wrap_socket(accepted, server_side=True)
            with connection:
                self.requests.append(_read_request(connection))
                self.answer(connection, self)
        except OSError:
            pass  # the client hung up: what the tests want of it
        finally:
            accepted.close()


def _read_request(connection: socket.socket) -> bytes:
    """The request's head and as much of its body as Content-Length announces."""
    data = b""
    while b"\r\n\r\n" not in data and (chunk := connection.recv(65536)):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lengths = [
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    ]
    while len(body) < sum(lengths) and (chunk := connection.recv(65536)):
        body += chunk
    return head + b"\r\n\r\n" + body


def no_content(connection: socket.socket, receiver: RawReceiver) -> None:
    connection.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")


def trickle_head(connection: socket.socket, receiver: RawReceiver) -> None:
    """The status line and headers, one byte a second."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
        if receiver.stop.is_set():
            return
        connection.sendall(bytes([byte]))
        time.sleep(1)


def trickle_body(connection: socket.socket, receiver: RawReceiver) -> None:
    """A whole head announcing 10^12 bytes, then one byte a second."""
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n")
    while not receiver.stop.is_set():
        connection.sendall(b"x")
        time.sleep(1)


def flood(connection: socket.socket, receiver: RawReceiver) -> None:
    """200 OK with a 300 MB body, sent as fast as the client takes it."""
    size = 300 * 1024 * 1024
    connection.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
    chunk = b"\0" * 65536
    for _ in range(size // len(chunk)):
        connection.sendall(chunk)
        receiver.bytes_sent += len(chunk)


def hang(connection: socket.socket, receiver: RawReceiver) -> None:
    """Never answers (until the test ends)."""
    receiver.stop.wait(60)


@contextmanager
def running(answer: Answer, tls: ssl.SSLContext | None = None) -> Iterator[RawReceiver]:
    receiver = RawReceiver(answer, tls)
    receiver._thread.start()
    try:
        yield receiver
    finally:
        receiver.stop.set()
        receiver._thread.join()
        receiver._listener.close()


@contextmanager
def tls_running(
    name: str, tmp_path: Path
) -> Iterator[tuple[RawReceiver, ssl.SSLContext, list[str]]]:
    """An https receiver on 127.0.0.1 with a self-signed certificate for `name`; yields it, a
    client context trusting that certificate, and the server names (SNI) clients sent."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    names: list[str] = []
    server_context.sni_callback = lambda _socket, server_name, _context: names.append(
        str(server_name)
    )

    def answer(connection: socket.socket, receiver: RawReceiver) -> None:
        no_content(connection, receiver)

    client_context = ssl.create_default_context(cafile=str(cert_file))
    with running(answer, server_context) as receiver:
        yield receiver, client_context, names
