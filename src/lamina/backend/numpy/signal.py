"""Signal processing of the NumPy backend: FFTs and short-time Fourier transforms."""

from __future__ import annotations
