"""Mixed precision as Keras names it: policies that compute in float16 or bfloat16 with float32 weights,
and the loss-scaling optimizer that float16 training needs."""

from __future__ import annotations

from lamina.dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy
from lamina.optimizers.loss_scale_optimizer import LossScaleOptimizer

Policy = DTypePolicy
global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = ["DTypePolicy", "LossScaleOptimizer", "Policy", "dtype_policy", "global_policy", "set_dtype_policy",
           "set_global_policy"]
