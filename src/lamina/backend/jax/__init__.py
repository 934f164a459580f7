"""The jax backend: stateless steps compiled with jax.jit, on jax's default device."""

from lamina.backend.jax.core import *  # noqa: F401,F403
from lamina.backend.jax.numpy import *  # noqa: F401,F403
from lamina.backend.jax.nn import *  # noqa: F401,F403
from lamina.backend.jax.optimizer_ops import *  # noqa: F401,F403
from lamina.backend.jax.random import *  # noqa: F401,F403
from lamina.backend.jax.symbolic import compute_output_spec  # noqa: F401


def __getattr__(name: str):
    # The trainer imports layers, which import this package: load it on first use.
    if name == "StepRunner":
        from lamina.backend.jax.trainer import StepRunner

        return StepRunner
    raise AttributeError(name)
