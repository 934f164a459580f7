"""`RemoteMonitor`: send each epoch's logs to a server with an HTTP POST."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any

import numpy as np

from lamina.callbacks.callback import Callback, Logs

__all__ = ["RemoteMonitor"]

TIMEOUT = 10  # seconds a POST may take before it is given up with a warning


class RemoteMonitor(Callback):
    """POSTs `{"epoch": ..., <logs>}` as JSON to `root + path` at the end of every epoch.

    Args:
        root: the server, e.g. "http://localhost:9000".
        path: the path on the server the events go to.
        field: the form field holding the JSON (when not `send_as_json`).
        headers: extra HTTP headers.
        send_as_json: send the JSON as the request body (`application/json`) instead of a form field.
    """

    def __init__(self, root: str = "http://localhost:9000", path: str = "/publish/epoch/end/",
                 field: str = "data", headers: dict[str, str] | None = None, send_as_json: bool = False) -> None:
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Send the epoch number and logs; a server that cannot be reached gives a warning, not an error."""
        send: dict[str, Any] = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                response.read()
        except urllib.error.HTTPError:
            pass  # the server answered: an error status is its business, as with Keras
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)
