"""The ops of keras.ops outside its numpy, nn, linalg and image families: tensors, control flow, math."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.ops.dispatch import backend_op, family_getattr
from lamina.ops.rearranging import rearrange  # noqa: F401  (a module of its own: the pattern parser)

# Ops the backend provides under the same name (see lamina.backend.contract), by family.
TENSORS = tuple(("cast convert_to_numpy convert_to_tensor saturate_cast scatter scatter_update shape slice "
                 "slice_update unstack").split())
CONTROL_FLOW = tuple(("associative_scan cond custom_gradient fori_loop map scan switch vectorized_map "
                      "while_loop").split())
MATH = tuple(("cdist erf erfc erfinv extract_sequences in_top_k logdet logsumexp rsqrt segment_max segment_min "
              "segment_prod segment_sum top_k").split())
SIGNAL = ("fft", "fft2", "ifft2", "irfft", "istft", "rfft", "stft", "view_as_complex", "view_as_real")
NAMES = (*TENSORS, *CONTROL_FLOW, *MATH, *SIGNAL)
# Ops written here from other ops.
COMPOSED = ("dtype", "is_tensor", "rearrange", "stop_gradient")

__all__ = [*NAMES, *COMPOSED]
__getattr__ = family_getattr(__name__, NAMES)


def dtype(x: Any) -> str:
    """The Keras name of x's dtype ("float32", "int64", ...)."""
    return backend.impl.dtype_of(x)


def is_tensor(x: Any) -> bool:
    """Whether x is a tensor of the active backend (NumPy arrays are not)."""
    return backend.impl.is_tensor(x)


def stop_gradient(variable: Any) -> Any:
    """variable (a tensor or a Variable) as a constant that gradients do not flow through."""
    return backend_op("stop_gradient")(variable)
