"""The backend contract: every name a backend package provides to the code above `lamina/backend/`.

Each entry gives the name, its signature as Python text, and its meaning in one line. The training
backends (torch, jax) provide every entry; the numpy backend, which only runs inference, provides the
entries marked `inference`. A dotted name (`Variable.assign`) is a member of what the backend provides.
tests/backend/test_contract.py checks every backend against this list, and that the code above the
backend uses no name missing from it.

Arrays in signatures are the backend's tensors; ops also take NumPy arrays, Python numbers and the
backend's Variables unless the meaning says otherwise. Dtypes are Keras names ("float32") or the
backend's own dtype objects. Axes may be an int, a tuple or a list.
"""

from __future__ import annotations

from lamina.backend.contract import (control_flow, convolution, distribution, export, image, linalg, nn_ops,
                                     normalization, numpy_ops, random, rnn, signal)
from lamina.backend.contract.base import (ARRAY_CREATION, BACKEND, ELEMENTWISE, LINEAR_ALGEBRA, NN, OPTIMIZER,
                                          REDUCTIONS, SHAPES_AND_INDEXING, STEP, SYMBOLIC, TENSORS, VARIABLE)
from lamina.backend.contract.entry import Entry

__all__ = ["CONTRACT", "Entry", "required"]

# Each family lives in its own module of this package; the order only groups the listing.
CONTRACT: tuple[Entry, ...] = (*BACKEND, *TENSORS, *VARIABLE, *ARRAY_CREATION, *ELEMENTWISE, *REDUCTIONS,
                               *LINEAR_ALGEBRA, *SHAPES_AND_INDEXING, *numpy_ops.ENTRIES, *linalg.ENTRIES, *NN,
                               *nn_ops.ENTRIES, *convolution.ENTRIES, *rnn.ENTRIES, *normalization.ENTRIES,
                               *image.ENTRIES, *signal.ENTRIES, *control_flow.ENTRIES, *random.ENTRIES, *SYMBOLIC, *OPTIMIZER,
                               *STEP, *export.ENTRIES, *distribution.ENTRIES)


def required(training: bool) -> tuple[Entry, ...]:
    """The entries a training backend (every one) or the inference-only backend must provide."""
    return CONTRACT if training else tuple(entry for entry in CONTRACT if entry.inference)
