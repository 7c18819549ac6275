"""Local stand-ins for the providers' servers (tests, the benchmark, a demo without the Internet).

One HTTP/1.1 server speaks the shapes LendDesk uses:
* Alibaba Cloud SMS `SendSms` (POST /, form-encoded, RPC signature checked with the configured
  secret); it honours `OutId` as an idempotency key: a repeated key answers the first BizId and
  delivers nothing new.
* WeChat: GET /cgi-bin/token and POST /cgi-bin/message/custom/send (tokens expire; an unknown one
  answers errcode 40001).
* CTI: POST /cti/dial (click-to-call).
* GET /stats: what it received, as JSON.

It is an asyncio server (uvloop, the httptools parser) with keep-alive connections, each answered
as soon as its request is parsed, so that its own ceiling stays far above what a delivery worker
can send: the benchmark measures LendDesk, not the stand-in.

Run it as its own process: `python -m lenddesk.channels.standins --port 8025 --secret S`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import threading
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httptools

from lenddesk.channels.sms import rpc_signature


class State:
    def __init__(self, secret: str, delay: float = 0.0, fail_first: int = 0) -> None:
        self.secret, self.delay, self.fail_left = secret, delay, fail_first
        self.lock = threading.Lock()
        self.requests = 0
        self.delivered: dict[str, str] = {}  # OutId → BizId
        self.sends_by_key: Counter[str] = Counter()
        self.wechat_sent: list[dict[str, Any]] = []
        self.tokens: set[str] = set()
        self.dials: list[dict[str, Any]] = []

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "delivered": len(self.delivered),
                "repeated_keys": sum(1 for count in self.sends_by_key.values() if count > 1),
                "keys": sorted(self.delivered),
                "wechat_sent": self.wechat_sent[-50:],
                "wechat_count": len(self.wechat_sent),
                "dials": self.dials[-50:],
            }

    def answer(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        url = urlsplit(target)
        if method == "GET":
            if url.path == "/stats":
                return 200, self.stats()
            if url.path == "/cgi-bin/token":
                token = secrets.token_hex(16)
                with self.lock:
                    self.tokens.add(token)
                return 200, {"access_token": token, "expires_in": 7200}
            return 404, {"error": "not found"}
        with self.lock:
            self.requests += 1
        if url.path == "/":
            return 200, self._send_sms(dict(parse_qsl(body.decode())))
        if url.path == "/cgi-bin/message/custom/send":
            token = dict(parse_qsl(url.query)).get("access_token", "")
            with self.lock:
                if token not in self.tokens:
                    return 200, {"errcode": 40001, "errmsg": "invalid credential"}
                self.wechat_sent.append(json.loads(body or b"{}"))
            return 200, {"errcode": 0, "errmsg": "ok"}
        if url.path == "/cti/dial":
            with self.lock:
                self.dials.append(json.loads(body or b"{}"))
            return 200, {"ok": True, "call_id": secrets.token_hex(8)}
        return 404, {"error": "not found"}

    def _send_sms(self, parameters: dict[str, str]) -> dict[str, Any]:
        signature = parameters.pop("Signature", "")
        if rpc_signature("POST", parameters, self.secret) != signature:
            return {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"}
        key = parameters.get("OutId", "")
        with self.lock:
            if self.fail_left > 0:
                self.fail_left -= 1
                return {"Code": "isp.SYSTEM_ERROR", "Message": "stand-in failure"}
            self.sends_by_key[key] += 1
            biz_id = self.delivered.get(key) or f"{len(self.delivered) + 1:012d}^0"
            self.delivered.setdefault(key, biz_id)
        return {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": secrets.token_hex(8)}


_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found"}


class _Connection(asyncio.Protocol):
    """One keep-alive connection: each parsed request is answered in order (after `delay`)."""

    def __init__(self, state: State, loop: asyncio.AbstractEventLoop) -> None:
        self.state, self.loop = state, loop
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url, self.body = b"", bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._write(400, {"error": "bad request"}, keep_alive=False)

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        method = self.parser.get_method().decode()
        status, payload = self.state.answer(method, self.url.decode(), bytes(self.body))
        keep_alive = self.parser.should_keep_alive()
        self.url, self.body = b"", bytearray()
        if self.state.delay:
            self.loop.call_later(self.state.delay, self._write, status, payload, keep_alive)
        else:
            self._write(status, payload, keep_alive)

    def _write(self, status: int, payload: dict[str, Any], keep_alive: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        body = json.dumps(payload, ensure_ascii=False).encode()
        head = (
            b"HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n"
            % (status, _REASONS.get(status, b"OK"), len(body))
        )
        self.transport.write(head + (b"\r\n" if keep_alive else b"Connection: close\r\n\r\n") + body)
        if not keep_alive:
            self.transport.close()


class StandInServer:
    """The stand-in on 127.0.0.1:`port`, served by its own event loop (in a thread or in `main`)."""

    def __init__(self, port: int, secret: str, *, delay: float = 0.0, fail_first: int = 0) -> None:
        self.port = port
        self.state = State(secret, delay, fail_first)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    async def _serve(self, started: threading.Event | None) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stopped = asyncio.Event()
        server = await loop.create_server(
            lambda: _Connection(self.state, loop), "127.0.0.1", self.port, backlog=1024, reuse_address=True
        )
        if started is not None:
            started.set()
        async with server:
            await self._stopped.wait()

    def serve_forever(self) -> None:
        import uvloop

        uvloop.run(self._serve(None))

    def start(self) -> StandInServer:
        """Serve from a daemon thread; returns once the port listens."""
        import uvloop

        started = threading.Event()
        self._thread = threading.Thread(target=lambda: uvloop.run(self._serve(started)), daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError(f"the stand-in did not start on port {self.port}")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--fail-first", type=int, default=0)
    options = parser.parse_args()
    StandInServer(
        options.port, options.secret, delay=options.delay, fail_first=options.fail_first
    ).serve_forever()


if __name__ == "__main__":
    main()
