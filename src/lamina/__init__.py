"""Lamina: Keras-style deep learning on PyTorch and JAX, with NumPy for inference."""

from lamina import activations, backend, callbacks, initializers, layers, losses, metrics, models, ops, optimizers
from lamina import regularizers, constraints
from lamina.layers import Input, InputLayer, Layer
from lamina.models import Model, Sequential
from lamina.utils.seeding import set_random_seed

__version__ = "0.1.0"

__all__ = ["Input", "InputLayer", "Layer", "Model", "Sequential", "activations", "backend", "callbacks",
           "constraints", "initializers", "layers", "losses", "metrics", "models", "ops", "optimizers",
           "regularizers", "set_random_seed", "__version__"]
