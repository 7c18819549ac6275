"""A small keep-alive HTTP client for provider APIs (one connection per thread and host).

The standard library's `http.client` keeps the connection open between requests, which matters at
a thousand messages a second; a connection the server closed meanwhile is opened again once.
"""

from __future__ import annotations

import http.client
import socket
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit


class TransportError(Exception):
    """The provider could not be reached or did not answer (worth a retry)."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes


class _OneWrite:
    """Sends a request's head and a bytes body in one write. `http.client` writes them apart, and
    each write wakes the provider: on a busy machine the second wake-up doubles the round trip."""

    def _send_output(self, message_body: object = None, encode_chunked: bool = False) -> None:
        if isinstance(message_body, bytes) and not encode_chunked:
            self._buffer.extend((b"", message_body))  # type: ignore[attr-defined]
            self.send(b"\r\n".join(self._buffer))  # type: ignore[attr-defined]
            del self._buffer[:]  # type: ignore[attr-defined]
            return
        super()._send_output(message_body, encode_chunked)  # type: ignore[misc]


class _Connection(_OneWrite, http.client.HTTPConnection):
    pass


class _TlsConnection(_OneWrite, http.client.HTTPSConnection):
    pass


class HttpClient:
    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            factory = _TlsConnection if self.scheme == "https" else _Connection
            connection = factory(self.host, self.port, timeout=self.timeout)
            connection.connect()
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.connection = connection
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
        self._local.connection = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> HttpResponse:
        for attempt in (1, 2):
            try:
                connection = self._connection()
                connection.request(method, self.prefix + path, body=body, headers=headers or {})
                response = connection.getresponse()
                return HttpResponse(response.status, response.read())
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop()
                if attempt == 2:
                    raise TransportError(str(exc) or type(exc).__name__) from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise TransportError(str(exc) or type(exc).__name__) from exc
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._drop()
