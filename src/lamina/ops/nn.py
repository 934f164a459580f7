"""keras.ops.nn: activations, convolution, pooling, recurrence, normalization, attention, losses."""

from __future__ import annotations

from lamina.ops import convolution
from lamina.ops.convolution import *  # noqa: F401,F403  (the convolution and pooling ops, in Keras's signatures)
from lamina.ops.dispatch import family_getattr

# Ops the backend provides under the same name (see lamina.backend.contract), by family.
ACTIVATIONS = tuple(("elu gelu hard_sigmoid leaky_relu log_softmax relu relu6 selu sigmoid silu softmax softplus "
                     "softsign").split())
LOSSES = ("binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy")
LAYERS = ("dense", "dropout", "one_hot")
CONVOLUTION: tuple[str, ...] = ()  # all composed: see lamina.ops.convolution
RECURRENT = ("gru", "lstm", "rnn", "simple_rnn")
NORMALIZATION = ("batch_normalization", "layer_normalization", "moments", "normalize", "rms_normalization")
ATTENTION = ("dot_product_attention",)
NAMES = (*ACTIVATIONS, *LOSSES, *LAYERS, *CONVOLUTION, *RECURRENT, *NORMALIZATION, *ATTENTION)
# Ops written here from other ops.
COMPOSED: tuple[str, ...] = (*convolution.__all__,)

__all__ = [*NAMES, *COMPOSED]
__getattr__ = family_getattr(__name__, NAMES)
