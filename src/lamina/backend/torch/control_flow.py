"""Control flow and gradients of the torch backend: cond, while_loop, scan, custom gradients."""

from __future__ import annotations
