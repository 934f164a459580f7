"""Signal processing of the jax backend: FFTs and short-time Fourier transforms."""

from __future__ import annotations
