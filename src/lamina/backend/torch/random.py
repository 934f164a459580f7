"""Random state of the torch backend: torch's own generator, seeded by lamina.utils.set_random_seed.

An int seed makes a draw stateless: it runs on a fresh torch.Generator seeded with that int.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator

import torch

from lamina.backend.common import StatelessSeedGenerator
from lamina.backend.torch.core import DEVICE, convert_to_tensor, to_torch_dtype

SeedGenerator = StatelessSeedGenerator

# The unit normal's CDF at -2 and 2: truncated draws are inverse-CDF images of uniforms between them.
_LOW = 0.5 * math.erfc(2.0 / math.sqrt(2.0))
_HIGH = 1.0 - _LOW


def set_seed(seed: int) -> None:
    torch.manual_seed(seed)


def _generator(seed: Any) -> torch.Generator | None:
    """A generator of its own for an int seed; None (the global generator) otherwise."""
    if isinstance(seed, int) and not isinstance(seed, bool):
        generator = torch.Generator(device=DEVICE)
        generator.manual_seed(seed)
        return generator
    return None


@contextlib.contextmanager
def _global_state(seed: Any) -> Iterator[None]:
    """For samplers without a generator argument: the global state, forked and seeded for an int seed."""
    if not (isinstance(seed, int) and not isinstance(seed, bool)):
        yield
        return
    with torch.random.fork_rng(devices=[DEVICE] if DEVICE.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


def random_uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = "float32",
                   seed: Any = None) -> torch.Tensor:
    return torch.empty(tuple(shape), dtype=to_torch_dtype(dtype), device=DEVICE).uniform_(
        minval, maxval, generator=_generator(seed))


def random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
                  seed: Any = None) -> torch.Tensor:
    return torch.empty(tuple(shape), dtype=to_torch_dtype(dtype), device=DEVICE).normal_(
        mean, stddev, generator=_generator(seed))


def random_truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
                            seed: Any = None) -> torch.Tensor:
    uniform = torch.empty(tuple(shape), dtype=torch.float32, device=DEVICE).uniform_(
        _LOW, _HIGH, generator=_generator(seed))
    unit = math.sqrt(2.0) * torch.erfinv(2.0 * uniform - 1.0)
    return (mean + stddev * unit.clamp(-2.0, 2.0)).to(to_torch_dtype(dtype))


def random_randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32", seed: Any = None) -> torch.Tensor:
    return torch.randint(int(minval), int(maxval), tuple(shape), generator=_generator(seed),
                         dtype=to_torch_dtype(dtype), device=DEVICE)


def random_categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> torch.Tensor:
    probabilities = torch.softmax(convert_to_tensor(logits).float(), dim=-1)
    draws = torch.multinomial(probabilities, int(num_samples), replacement=True, generator=_generator(seed))
    return draws.to(to_torch_dtype(dtype))


def random_shuffle(x: Any, axis: int = 0, seed: Any = None) -> torch.Tensor:
    x = convert_to_tensor(x)
    order = torch.randperm(x.shape[axis], generator=_generator(seed), device=DEVICE)
    return torch.index_select(x, axis, order)


def _gamma(shape: tuple, alpha: Any) -> torch.Tensor:
    concentration = torch.broadcast_to(torch.as_tensor(alpha, dtype=torch.float32, device=DEVICE), shape)
    return torch.distributions.Gamma(concentration, torch.ones_like(concentration)).sample()


def random_gamma(shape: Any, alpha: Any, dtype: Any = "float32", seed: Any = None) -> torch.Tensor:
    with _global_state(seed):
        return _gamma(tuple(shape), alpha).to(to_torch_dtype(dtype))


def random_beta(shape: Any, alpha: Any, beta: Any, dtype: Any = "float32", seed: Any = None) -> torch.Tensor:
    with _global_state(seed):
        first, second = _gamma(tuple(shape), alpha), _gamma(tuple(shape), beta)
    return (first / (first + second)).to(to_torch_dtype(dtype))


def random_binomial(shape: Any, counts: Any, probabilities: Any, dtype: Any = "float32",
                    seed: Any = None) -> torch.Tensor:
    shape = tuple(shape)
    counts = torch.broadcast_to(torch.as_tensor(counts, dtype=torch.float32, device=DEVICE), shape)
    probabilities = torch.broadcast_to(torch.as_tensor(probabilities, dtype=torch.float32, device=DEVICE), shape)
    draws = torch.binomial(counts.contiguous(), probabilities.contiguous(), generator=_generator(seed))
    return draws.to(to_torch_dtype(dtype))


def random_permutation(n: int, seed: Any = None) -> torch.Tensor:
    return torch.randperm(n, generator=_generator(seed), device=DEVICE)
