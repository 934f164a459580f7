"""Preprocessing of structured, text and audio data: normalization, lookups, hashing, text vectorization, spectrograms."""

from lamina.layers.preprocessing.structured.normalization import Normalization

__all__: list[str] = ["Normalization"]
