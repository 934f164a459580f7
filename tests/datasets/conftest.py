"""A small HTTP server on 127.0.0.1 serving files from a dict, counting requests, able to drop a connection."""

from __future__ import annotations

import http.server
import threading

import pytest


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    hits: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        type(self).hits[self.path] = type(self).hits.get(self.path, 0) + 1
        if self.path.startswith("/drop/"):
            body = self.files.get(self.path[len("/drop"):], b"")
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class Server:
    def __init__(self) -> None:
        handler = type("Handler", (_Handler,), {"files": {}, "hits": {}})
        self.handler = handler
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def add(self, path: str, body: bytes) -> str:
        self.handler.files[path] = body
        return self.url(path)

    def hits(self, path: str) -> int:
        return self.handler.hits.get(path, 0)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = Server()
    yield running
    running.close()


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """A fresh KERAS_HOME; returns its datasets folder."""
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    datasets = home / "datasets"
    datasets.mkdir(parents=True)
    return datasets
