"""Lamina: Keras-style deep learning on PyTorch and JAX, with NumPy for inference."""

from lamina import activations, backend, callbacks, initializers, layers, losses, metrics, models, ops, optimizers
from lamina import config, constraints, dtype_policies, mixed_precision, preprocessing, random, regularizers, saving, utils
from lamina import export
from lamina import applications, tree
from lamina import wrappers  # its estimators import scikit-learn when first asked for
from lamina.dtype_policies import DTypePolicy, FloatDTypePolicy
from lamina.initializers import Initializer
from lamina.layers import Input, InputLayer, InputSpec, Layer
from lamina.losses import Loss
from lamina.metrics import Metric
from lamina.ops.operation import Operation
from lamina.ops.symbolic import KerasTensor
from lamina.optimizers import Optimizer
from lamina.regularizers import Regularizer
from lamina.models import Model, Sequential, load_model
from lamina.utils import backend_functions as _backend_functions
from lamina.utils.seeding import set_random_seed
from lamina.variables import Variable

# keras.backend.is_keras_tensor: the check lives with the symbolic tensors, above the backend package
backend.is_keras_tensor = utils.is_keras_tensor
# Keras 2's backend functions (K.mean, K.get_value, ...) are ops above the backend package too.
for _name, _function in _backend_functions.functions().items():
    if _name not in vars(backend):
        setattr(backend, _name, _function)
del _name, _function

__version__ = "0.1.0"


def version() -> str:
    """Lamina's version, as a string."""
    return __version__


__all__ = ["DTypePolicy", "FloatDTypePolicy", "Initializer", "InputSpec", "KerasTensor", "Loss", "Metric",
           "Operation", "Optimizer", "Regularizer", "Variable", "tree", "Input", "InputLayer", "Layer", "Model", "Sequential", "activations", "backend", "callbacks", "config",
           "constraints", "dtype_policies", "export", "initializers", "layers", "losses", "metrics", "mixed_precision",
           "models", "ops", "optimizers", "preprocessing", "random", "regularizers", "load_model", "saving",
           "set_random_seed", "utils", "version", "__version__", "applications", "wrappers"]
