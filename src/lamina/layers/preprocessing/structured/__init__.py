"""Preprocessing of structured, text and audio data: normalization, lookups, hashing, text, spectrograms."""

from lamina.layers.preprocessing.structured.audio import MelSpectrogram
from lamina.layers.preprocessing.structured.encoding import CategoryEncoding, Discretization
from lamina.layers.preprocessing.structured.hashing import HashedCrossing, Hashing
from lamina.layers.preprocessing.structured.lookup import IntegerLookup, StringLookup
from lamina.layers.preprocessing.structured.normalization import Normalization
from lamina.layers.preprocessing.structured.stft_spectrogram import STFTSpectrogram
from lamina.layers.preprocessing.structured.text import TextVectorization

__all__: list[str] = ["CategoryEncoding", "Discretization", "HashedCrossing", "Hashing", "IntegerLookup",
                      "MelSpectrogram", "Normalization", "STFTSpectrogram",
                      "StringLookup", "TextVectorization"]
