"""keras.ops.nn: activations, convolution, pooling, recurrence, normalization, attention, losses."""

from __future__ import annotations

from lamina.ops import convolution, nn_helpers
from lamina.ops.convolution import *  # noqa: F401,F403  (the convolution and pooling ops, in Keras's signatures)
from lamina.ops.dispatch import family_getattr
from lamina.ops.nn_helpers import *  # noqa: F401,F403  (one_hot, multi_hot, ctc_decode, psnr, depth/space)

# Ops the backend provides under the same name (see lamina.backend.contract), by family.
ACTIVATIONS = tuple(("celu elu gelu glu hard_shrink hard_sigmoid hard_silu hard_swish hard_tanh leaky_relu "
                     "log_sigmoid log_softmax polar relu relu6 selu sigmoid silu soft_shrink softmax softplus "
                     "softsign sparse_plus sparse_sigmoid sparsemax squareplus swish tanh_shrink threshold").split())
LOSSES = ("binary_crossentropy", "categorical_crossentropy", "ctc_loss", "sparse_categorical_crossentropy")
LAYERS = ("dense", "dropout", "fold", "unfold")
CONVOLUTION: tuple[str, ...] = ()  # all composed: see lamina.ops.convolution
RECURRENT = ("gru", "lstm", "rnn", "simple_rnn")
NORMALIZATION = ("batch_normalization", "layer_normalization", "moments", "normalize", "rms_normalization")
ATTENTION = ("dot_product_attention",)
NAMES = (*ACTIVATIONS, *LOSSES, *LAYERS, *CONVOLUTION, *RECURRENT, *NORMALIZATION, *ATTENTION)
# Ops written here from other ops.
COMPOSED: tuple[str, ...] = (*convolution.__all__, *nn_helpers.__all__)

__all__ = [*NAMES, *COMPOSED]
__getattr__ = family_getattr(__name__, NAMES)
