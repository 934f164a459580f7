"""Keras 2's `keras.preprocessing` spellings that tutorials still import (`preprocessing.sequence.pad_sequences`)."""

from lamina.preprocessing import sequence

__all__ = ["sequence"]
