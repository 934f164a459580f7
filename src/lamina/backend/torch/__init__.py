"""The torch backend: eager tensors on the CPU or the CUDA device, trained with autograd."""

from lamina.backend.torch.core import *  # noqa: F401,F403
from lamina.backend.torch.numpy import *  # noqa: F401,F403
from lamina.backend.torch.nn import *  # noqa: F401,F403
from lamina.backend.torch.convolution import *  # noqa: F401,F403
from lamina.backend.torch.rnn import *  # noqa: F401,F403
from lamina.backend.torch.linalg import *  # noqa: F401,F403
from lamina.backend.torch.math import *  # noqa: F401,F403
from lamina.backend.torch.control_flow import *  # noqa: F401,F403
from lamina.backend.torch.normalization import *  # noqa: F401,F403
from lamina.backend.torch.image import *  # noqa: F401,F403
from lamina.backend.torch.signal import *  # noqa: F401,F403
from lamina.backend.torch.optimizer_ops import *  # noqa: F401,F403
from lamina.backend.torch.random import *  # noqa: F401,F403
from lamina.backend.torch.symbolic import compute_output_spec  # noqa: F401
from lamina.backend.torch.trainer import (StateScope, clear_gradients, compile_step, state_values,  # noqa: F401
                                      steps_per_call, store_state, take_rows, value_and_grad)

from lamina.backend.torch.module_wrapper import *  # noqa: F401,F403
from lamina.backend.torch.export import *  # noqa: F401,F403
from lamina.backend.torch.mesh_stubs import (global_batch, list_devices, make_mesh, mesh_initialize,  # noqa: F401
                                          mesh_process_count, mesh_process_index, mesh_sharding, shard_tensor,
                                          shard_variables, tensor_shards)
from lamina.backend.torch.distributed import *  # noqa: F401,F403
