"""Keras's `applications.vgg16` module: VGG16 with its preprocess_input and decode_predictions."""

from lamina.applications.vgg import VGG16, decode_predictions, preprocess_input

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]
