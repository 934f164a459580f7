"""`lamina.preprocessing.sequence.pad_sequences`: Keras 2's home of pad_sequences (the same function as in utils)."""

from lamina.utils.sequences import pad_sequences

__all__ = ["pad_sequences"]
