"""RemoteMonitor: each epoch's logs are POSTed to a local HTTP server, as a form field or as JSON."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

from lamina.callbacks import CallbackList, RemoteMonitor


@pytest.fixture
def server():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the http.server name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "type": self.headers["Content-Type"], "body": body,
                             "token": self.headers.get("X-Token")})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", received
    httpd.shutdown()
    httpd.server_close()


def drive(monitor: RemoteMonitor, epoch_logs: list[dict]) -> None:
    hooks = CallbackList([monitor])
    for epoch, logs in enumerate(epoch_logs):
        hooks.on_epoch_end(epoch, logs)


def test_posts_a_form_field_holding_json(server):
    root, received = server
    drive(RemoteMonitor(root=root, headers={"X-Token": "t"}), [{"loss": np.float32(0.5)}, {"loss": 0.25}])
    assert [r["path"] for r in received] == ["/publish/epoch/end/"] * 2
    assert received[0]["type"] == "application/x-www-form-urlencoded" and received[0]["token"] == "t"
    form = urllib.parse.parse_qs(received[1]["body"].decode())
    assert json.loads(form["data"][0]) == {"epoch": 1, "loss": 0.25}


def test_posts_json_with_send_as_json(server):
    root, received = server
    drive(RemoteMonitor(root=root, path="/events", send_as_json=True), [{"loss": 0.5, "val_loss": 0.75}])
    assert received[0]["path"] == "/events" and received[0]["type"] == "application/json"
    assert json.loads(received[0]["body"]) == {"epoch": 0, "loss": 0.5, "val_loss": 0.75}


def test_unreachable_server_warns():
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        drive(RemoteMonitor(root="http://127.0.0.1:9"), [{"loss": 0.5}])
