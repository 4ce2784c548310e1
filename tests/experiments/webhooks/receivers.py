"""Real local HTTP receivers that misbehave on purpose, on 127.0.0.1 (raw sockets, so they
can trickle bytes, hang or flood)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Answer = Callable[[socket.socket, "RawReceiver"], None]


class RawReceiver:
    """Accepts connections, reads each request's head and body, then lets `answer` reply."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
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

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(5)
            try:
                self.requests.append(_read_request(connection))
                self.answer(connection, self)
            except OSError:
                pass  # the client hung up: what the tests want of it


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
def running(answer: Answer) -> Iterator[RawReceiver]:
    receiver = RawReceiver(answer)
    receiver._thread.start()
    try:
        yield receiver
    finally:
        receiver.stop.set()
        receiver._thread.join()
        receiver._listener.close()
