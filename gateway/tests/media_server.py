"""A real HTTP server on a loopback port for the media-fetch tests: canned answers per path, requests recorded."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["Answer", "MediaServer", "media_server"]


@dataclass
class Answer:
    """What the server sends for a path: a status, headers, a body (streamed in chunks without
    Content-Length when `chunked`), after `delay` seconds."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False
    delay: float = 0.0


@dataclass
class MediaServer:
    url: str
    answers: dict[str, Answer]
    #: (path, headers) of every request received, in order.
    requests: list[tuple[str, dict[str, str]]]

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


@contextmanager
def media_server(tls: tuple[Path, Path] | None = None) -> Iterator[MediaServer]:
    """Serve `answers` (fill it in the test) on 127.0.0.1; unknown paths are 404. With `tls`
    (certificate and key files) it speaks HTTPS, and its URL names the host "localhost"."""
    answers: dict[str, Answer] = {}
    requests: list[tuple[str, dict[str, str]]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            answer = answers.get(self.path, Answer(b"not found", status=404))
            if answer.delay:
                time.sleep(answer.delay)
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            if answer.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for start in range(0, len(answer.body), 65536):
                        piece = answer.body[start : start + 65536]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading, as it should past the limit
                return
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            try:
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name="media-server", daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        url = f"https://localhost:{port}" if tls is not None else f"http://127.0.0.1:{port}"
        yield MediaServer(url, answers, requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
