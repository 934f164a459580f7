"""Preprocessing of structured, text and audio data: normalization, lookups, hashing, text vectorization, spectrograms."""

__all__: list[str] = []
