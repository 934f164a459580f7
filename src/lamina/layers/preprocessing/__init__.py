"""Preprocessing and augmentation layers: images, and structured, text and audio data."""

from lamina.layers.preprocessing.image import *  # noqa: F401,F403
from lamina.layers.preprocessing.image import __all__ as _image
from lamina.layers.preprocessing.structured import *  # noqa: F401,F403
from lamina.layers.preprocessing.structured import __all__ as _structured

__all__ = [*_image, *_structured]
