"""The numpy backend: inference only (predict, calling models and layers) on plain NumPy arrays."""

from lamina.backend.numpy.core import *  # noqa: F401,F403
from lamina.backend.numpy.numpy import *  # noqa: F401,F403
from lamina.backend.numpy.nn import *  # noqa: F401,F403
from lamina.backend.numpy.convolution import *  # noqa: F401,F403
from lamina.backend.numpy.rnn import *  # noqa: F401,F403
from lamina.backend.numpy.linalg import *  # noqa: F401,F403
from lamina.backend.numpy.math import *  # noqa: F401,F403
from lamina.backend.numpy.control_flow import *  # noqa: F401,F403
from lamina.backend.numpy.normalization import *  # noqa: F401,F403
from lamina.backend.numpy.image import *  # noqa: F401,F403
from lamina.backend.numpy.signal import *  # noqa: F401,F403
from lamina.backend.numpy.optimizer_ops import *  # noqa: F401,F403
from lamina.backend.numpy.random import *  # noqa: F401,F403
from lamina.backend.numpy.symbolic import compute_output_spec  # noqa: F401
from lamina.backend.numpy.trainer import (StateScope, compile_step, state_values, steps_per_call,  # noqa: F401
                                      store_state, take_rows, value_and_grad)

