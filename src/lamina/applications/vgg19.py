"""Keras's `applications.vgg19` module: VGG19 with its preprocess_input and decode_predictions."""

from lamina.applications.vgg import VGG19, decode_predictions, preprocess_input

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]
