"""Signal processing of the torch backend: FFTs and short-time Fourier transforms."""

from __future__ import annotations
