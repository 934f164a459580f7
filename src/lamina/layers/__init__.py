"""Layers by their Keras names."""

from lamina.layers.core import Activation, Dense, Dropout, Embedding
from lamina.layers.input_layer import Input, InputLayer
from lamina.layers.layer import InputSpec, Layer
from lamina.layers.merging import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add, concatenate
from lamina.layers.reshaping import Flatten, Reshape

__all__ = ["Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply", "Subtract", "add", "concatenate",
           "Activation", "Dense", "Dropout", "Embedding", "Flatten", "Input", "InputLayer", "InputSpec", "Layer",
           "Reshape"]
