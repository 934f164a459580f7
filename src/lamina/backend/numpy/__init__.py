"""The numpy backend: inference only (predict, calling models and layers) on plain NumPy arrays."""

from lamina.backend.numpy.core import *  # noqa: F401,F403
from lamina.backend.numpy.numpy import *  # noqa: F401,F403
from lamina.backend.numpy.nn import *  # noqa: F401,F403
from lamina.backend.numpy.optimizer_ops import *  # noqa: F401,F403
from lamina.backend.numpy.random import *  # noqa: F401,F403
from lamina.backend.numpy.symbolic import compute_output_spec  # noqa: F401


def __getattr__(name: str):
    # The trainer imports layers, which import this package: load it on first use.
    if name == "StepRunner":
        from lamina.backend.numpy.trainer import StepRunner

        return StepRunner
    raise AttributeError(name)
