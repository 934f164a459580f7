"""The jax backend: stateless steps compiled with jax.jit, on jax's default device."""

from lamina.backend.jax.core import *  # noqa: F401,F403
from lamina.backend.jax.numpy import *  # noqa: F401,F403
from lamina.backend.jax.nn import *  # noqa: F401,F403
from lamina.backend.jax.convolution import *  # noqa: F401,F403
from lamina.backend.jax.rnn import *  # noqa: F401,F403
from lamina.backend.jax.linalg import *  # noqa: F401,F403
from lamina.backend.jax.math import *  # noqa: F401,F403
from lamina.backend.jax.control_flow import *  # noqa: F401,F403
from lamina.backend.jax.normalization import *  # noqa: F401,F403
from lamina.backend.jax.image import *  # noqa: F401,F403
from lamina.backend.jax.signal import *  # noqa: F401,F403
from lamina.backend.jax.optimizer_ops import *  # noqa: F401,F403
from lamina.backend.jax.random import *  # noqa: F401,F403
from lamina.backend.jax.symbolic import compute_output_spec  # noqa: F401
from lamina.backend.jax.trainer import (StateScope, clear_gradients, compile_step, state_values, steps_per_call,  # noqa: F401
                                    store_state, take_rows, value_and_grad)

from lamina.backend.jax.function_layer import *  # noqa: F401,F403
from lamina.backend.jax.export import *  # noqa: F401,F403
from lamina.backend.jax.distributed import (global_batch, list_devices, make_mesh, mesh_initialize,  # noqa: F401
                                         mesh_process_count, mesh_process_index, mesh_sharding, shard_tensor,
                                         shard_variables, tensor_shards)
from lamina.backend.jax.process_stubs import *  # noqa: F401,F403
