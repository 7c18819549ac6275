"""Local stand-ins for the providers' servers (tests, the benchmark, a demo without the Internet).

One HTTP server speaks the shapes LendDesk uses:
* Alibaba Cloud SMS `SendSms` (POST /, form-encoded, RPC signature checked with the configured
  secret); it honours `OutId` as an idempotency key: a repeated key answers the first BizId and
  delivers nothing new.
* WeChat: GET /cgi-bin/token and POST /cgi-bin/message/custom/send (tokens expire; an unknown one
  answers errcode 40001).
* CTI: POST /cti/dial (click-to-call).
* GET /stats: what it received, as JSON.

Run it as its own process: `python -m lenddesk.channels.standins --port 8025 --secret S`.
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # headers and body go out at once (no delayed-ACK stalls)
    state: State

    def log_message(self, *_args: Any) -> None:
        pass

    def _answer(self, payload: dict[str, Any], status: int = 200) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/stats":
            return self._answer(self.state.stats())
        if url.path == "/cgi-bin/token":
            token = secrets.token_hex(16)
            with self.state.lock:
                self.state.tokens.add(token)
            return self._answer({"access_token": token, "expires_in": 7200})
        return self._answer({"error": "not found"}, 404)

    def do_POST(self) -> None:
        url, body = urlsplit(self.path), self._body()
        state = self.state
        with state.lock:
            state.requests += 1
        if state.delay:
            time.sleep(state.delay)
        if url.path == "/":
            return self._answer(self._send_sms(dict(parse_qsl(body.decode()))))
        if url.path == "/cgi-bin/message/custom/send":
            token = dict(parse_qsl(url.query)).get("access_token", "")
            with state.lock:
                if token not in state.tokens:
                    return self._answer({"errcode": 40001, "errmsg": "invalid credential"})
                state.wechat_sent.append(json.loads(body or b"{}"))
            return self._answer({"errcode": 0, "errmsg": "ok"})
        if url.path == "/cti/dial":
            with state.lock:
                state.dials.append(json.loads(body or b"{}"))
            return self._answer({"ok": True, "call_id": secrets.token_hex(8)})
        return self._answer({"error": "not found"}, 404)

    def _send_sms(self, parameters: dict[str, str]) -> dict[str, Any]:
        state = self.state
        signature = parameters.pop("Signature", "")
        if rpc_signature("POST", parameters, state.secret) != signature:
            return {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"}
        key = parameters.get("OutId", "")
        with state.lock:
            if state.fail_left > 0:
                state.fail_left -= 1
                return {"Code": "isp.SYSTEM_ERROR", "Message": "stand-in failure"}
            state.sends_by_key[key] += 1
            biz_id = state.delivered.get(key) or f"{len(state.delivered) + 1:012d}^0"
            state.delivered.setdefault(key, biz_id)
        return {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": secrets.token_hex(8)}


def serve(port: int, secret: str, *, delay: float = 0.0, fail_first: int = 0) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"state": State(secret, delay, fail_first)})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--fail-first", type=int, default=0)
    options = parser.parse_args()
    server = serve(options.port, options.secret, delay=options.delay, fail_first=options.fail_first)
    server.serve_forever()


if __name__ == "__main__":
    main()
