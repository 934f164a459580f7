"""Control flow and gradients of the NumPy backend: cond, while_loop, scan, custom gradients."""

from __future__ import annotations
