"""The torch backend: eager tensors on the CPU or the CUDA device, trained with autograd."""

from lamina.backend.torch.core import *  # noqa: F401,F403
from lamina.backend.torch.numpy import *  # noqa: F401,F403
from lamina.backend.torch.nn import *  # noqa: F401,F403
from lamina.backend.torch.optimizer_ops import *  # noqa: F401,F403
from lamina.backend.torch.random import *  # noqa: F401,F403
from lamina.backend.torch.symbolic import compute_output_spec  # noqa: F401


def __getattr__(name: str):
    # The trainer imports layers, which import this package: load it on first use.
    if name == "StepRunner":
        from lamina.backend.torch.trainer import StepRunner

        return StepRunner
    raise AttributeError(name)
