"""Layers by their Keras names, gathered from one module per family."""

from lamina.layers import (activations, attention, convolution, core, einsum_dense, input_layer, merging,
                           normalization, pooling, preprocessing, recurrent, reshaping)
from lamina.layers.activations import *  # noqa: F401,F403
from lamina.layers.attention import *  # noqa: F401,F403
from lamina.layers.convolution import *  # noqa: F401,F403
from lamina.layers.core import *  # noqa: F401,F403
from lamina.layers.einsum_dense import *  # noqa: F401,F403
from lamina.layers.input_layer import *  # noqa: F401,F403
from lamina.layers.layer import InputSpec, Layer
from lamina.layers.merging import *  # noqa: F401,F403
from lamina.layers.normalization import *  # noqa: F401,F403
from lamina.layers.pooling import *  # noqa: F401,F403
from lamina.layers.preprocessing import *  # noqa: F401,F403
from lamina.layers.recurrent import *  # noqa: F401,F403
from lamina.layers.reshaping import *  # noqa: F401,F403

_FAMILIES = (activations, attention, convolution, core, einsum_dense, input_layer, merging, normalization, pooling, preprocessing,
             recurrent, reshaping)
__all__ = ["InputSpec", "Layer", *(name for family in _FAMILIES for name in family.__all__)]
