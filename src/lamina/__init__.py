"""Lamina: Keras-style deep learning on PyTorch and JAX, with NumPy for inference."""

from lamina import activations, backend, callbacks, initializers, layers, losses, metrics, models, ops, optimizers
from lamina import regularizers, constraints, saving, utils
from lamina.layers import Input, InputLayer, Layer
from lamina.models import Model, Sequential, load_model
from lamina.utils.seeding import set_random_seed

__version__ = "0.1.0"

__all__ = ["Input", "InputLayer", "Layer", "Model", "Sequential", "activations", "backend", "callbacks",
           "constraints", "initializers", "layers", "losses", "metrics", "models", "ops", "optimizers",
           "regularizers", "load_model", "saving", "set_random_seed", "utils", "__version__"]
