"""Random state of the torch backend: torch's own generator, seeded by lamina.utils.set_random_seed."""

from __future__ import annotations

from typing import Any

import torch

from lamina.backend.common import StatelessSeedGenerator
from lamina.backend.torch.core import DEVICE, to_torch_dtype

SeedGenerator = StatelessSeedGenerator


def set_seed(seed: int) -> None:
    torch.manual_seed(seed)


def random_uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = "float32",
                   seed: Any = None) -> torch.Tensor:
    return torch.empty(tuple(shape), dtype=to_torch_dtype(dtype), device=DEVICE).uniform_(minval, maxval)


def random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
                  seed: Any = None) -> torch.Tensor:
    return torch.empty(tuple(shape), dtype=to_torch_dtype(dtype), device=DEVICE).normal_(mean, stddev)


def random_permutation(n: int, seed: Any = None) -> torch.Tensor:
    return torch.randperm(n, device=DEVICE)
