"""Random state of the torch backend.

Three kinds of seed:
- None: torch's global generator (repeatable after lamina.utils.set_random_seed), with torch's own kernels;
- a SeedGenerator made with an int: its state is a (seed, counter) int64 variable on the device, advanced by
  each draw; the draw is a counter-based hash of (state, element index) computed on the device, so it needs
  no host read and runs inside torch.compile(fullgraph=True) and CUDA graphs;
- an int: a stateless draw, the same hash keyed by (int, 0).

A SeedGenerator made without a seed keeps no state and draws from the global generator, as None does.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator

import numpy as np
import torch

from lamina.backend.torch.core import DEVICE, Variable, convert_to_tensor, to_torch_dtype

# The unit normal's CDF at -2 and 2: truncated draws are inverse-CDF images of uniforms between them.
_LOW = 0.5 * math.erfc(2.0 / math.sqrt(2.0))
_HIGH = 1.0 - _LOW
_MASK = 0xFFFFFFFF
# A 32-bit integer hash (xorshift-multiply): both multipliers are below 2**31, so a product of a 32-bit
# value and a multiplier never leaves int64's range; it is exact on every device.
_M1, _M2 = 0x21F0AAAD, 0x735A2D97
_GAMMA_TRIES = 6  # Marsaglia-Tsang candidates per gamma draw; all rejected has probability below 1e-7


_WEYL = (0x4F1BBCDD, 0x61C88647)  # per-draw multiplier and offset step along odd Weyl sequences


def _hash32(x: torch.Tensor, low_bits: bool = True) -> torch.Tensor:
    """A well-mixed bijection of the 32-bit values held in an int64 tensor. Without `low_bits` the last
    xorshift is left out: the high bits (all that uniforms and comparisons use) are mixed already."""
    mask, m1, m2 = _constants(x.device)[:3]
    x = x ^ (x >> 16)
    x = (x * m1) & mask
    x = x ^ (x >> 15)
    x = (x * m2) & mask
    return x ^ (x >> 15) if low_bits else x


_CONSTANTS: dict = {}


def _constants(device: torch.device) -> tuple:
    """The hash's constants as 0-d tensors on the device: eager ops on big int scalars convert them each call."""
    if torch.compiler.is_compiling():
        return _MASK, _M1, _M2, torch.tensor(_WEYL, device=device), torch.tensor([1, 0], device=device)
    constants = _CONSTANTS.get(device)
    if constants is None:
        constants = _CONSTANTS[device] = (
            *(torch.tensor(c, dtype=torch.int64, device=device) for c in (_MASK, _M1, _M2)),
            torch.tensor(_WEYL, dtype=torch.int64, device=device), torch.tensor([1, 0], device=device))
    return constants


def _mix32(value: int) -> int:
    """The host-side counterpart of _hash32, folding an int of any size into 32 well-mixed bits."""
    word = 0x9E3779B9
    for part in (value & _MASK, (value >> 32) & _MASK, 1 if value < 0 else 0):
        word ^= part
        word ^= word >> 16
        word = (word * _M1) & _MASK
        word ^= word >> 15
        word = (word * _M2) & _MASK
        word ^= word >> 15
    return word


def _start(seed: int) -> torch.Tensor:
    """The (mixed seed, counter) state that the int `seed` starts from."""
    return torch.tensor([_mix32(int(seed)), 0], dtype=torch.int64, device=DEVICE)


class SeedGenerator:
    """The random state of one layer: with a seed, a (mixed seed, counter) variable that each draw advances."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        if seed is None:
            self.state = None
            return
        self.state = Variable(_start(seed), dtype="int64", trainable=False, name="seed_state",
                              path="seed_generator/seed_state")
        self._increment = torch.tensor([0, 1], dtype=torch.int64, device=DEVICE)

    @property
    def variables(self) -> list[Variable]:
        """The state that a step carries; empty for an unseeded generator (it uses the global generator)."""
        return [] if self.state is None else [self.state]

    def next(self) -> torch.Tensor | None:
        """The (mixed seed, counter) of the next draw, on the device; the state moves on. None when unseeded."""
        if self.state is None:
            return None
        current = self.state & _constants(self.state.device)[0]  # a copy (32 bits): the state changes in place
        self.state.assign_add(self._increment)
        return current


def set_seed(seed: int) -> None:
    torch.manual_seed(seed)


def global_random_state() -> dict[str, np.ndarray]:
    """The state of torch's global generators (what unseeded draws use), as uint8 arrays."""
    state = {"cpu": torch.get_rng_state().numpy()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = np.stack([s.numpy() for s in torch.cuda.get_rng_state_all()])
    return state


def set_global_random_state(state: dict[str, np.ndarray]) -> None:
    """Restore what global_random_state gave: the unseeded draws that followed it come again."""
    try:
        if "cpu" in state:
            torch.set_rng_state(torch.from_numpy(np.ascontiguousarray(state["cpu"], dtype=np.uint8)))
        if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([torch.from_numpy(np.ascontiguousarray(s, dtype=np.uint8))
                                          for s in state["cuda"]])
    except RuntimeError as error:
        raise ValueError(f"not the state of torch's random generator: {error}") from None


def _key(seed: Any) -> torch.Tensor | None:
    """The device-side (mixed seed, counter) of a draw, or None for a draw from the global generator."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return _start(seed)
    return None


def _bits(key: torch.Tensor, count: int, start: int = 0, low_bits: bool = True) -> torch.Tensor:
    """`count` pseudo-random 32-bit values (in int64) that depend only on the key and their index (from start).

    Each draw maps the index through its own odd multiplier and offset (a bijection of 32-bit words, so no
    two draws are shifted copies of one sequence), then through the hash."""
    mask, _, _, weyl, odd_low = _constants(key.device)
    mixed, counter = key.unbind()
    # the multiplier is odd and below 2**31, so index * multiplier (index < 2**32) stays inside int64
    multiplier, offset = ((((counter * weyl + mixed) & mask) >> odd_low) | odd_low).unbind()
    index = torch.arange(start, start + count, dtype=torch.int64, device=key.device)
    return _hash32((index * multiplier + offset) & mask, low_bits)


def _unit(bits: torch.Tensor) -> torch.Tensor:
    """Uniforms in (0, 1) from 32-bit values: 24 bits, centred in their interval so 0 never comes."""
    return ((bits >> 8).to(torch.float32) + 0.5) * (1.0 / 16777216.0)


def _uniforms(key: torch.Tensor, shape: tuple) -> torch.Tensor:
    return _unit(_bits(key, math.prod(shape), low_bits=False)).reshape(shape)


def _normals(key: torch.Tensor, shape: tuple) -> torch.Tensor:
    """Unit normals by Box-Muller: both outputs of each pair of uniforms are used."""
    count = math.prod(shape)
    half = (count + 1) // 2
    u = _unit(_bits(key, 2 * half)).reshape(2, half)
    radius = torch.sqrt(-2.0 * torch.log(u[0]))
    angle = (2.0 * math.pi) * u[1]
    return torch.cat([radius * torch.cos(angle), radius * torch.sin(angle)])[:count].reshape(shape)


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
    shape, torch_dtype = tuple(shape), to_torch_dtype(dtype)
    key = _key(seed)
    if key is None:
        return torch.empty(shape, dtype=torch_dtype, device=DEVICE).uniform_(minval, maxval)
    return (minval + (maxval - minval) * _uniforms(key, shape)).to(torch_dtype)


def random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
                  seed: Any = None) -> torch.Tensor:
    shape, torch_dtype = tuple(shape), to_torch_dtype(dtype)
    key = _key(seed)
    if key is None:
        return torch.empty(shape, dtype=torch_dtype, device=DEVICE).normal_(mean, stddev)
    return (mean + stddev * _normals(key, shape)).to(torch_dtype)


def random_truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
                            seed: Any = None) -> torch.Tensor:
    shape = tuple(shape)
    key = _key(seed)
    if key is None:
        uniform = torch.empty(shape, dtype=torch.float32, device=DEVICE).uniform_(_LOW, _HIGH)
    else:
        uniform = _LOW + (_HIGH - _LOW) * _uniforms(key, shape)
    unit = math.sqrt(2.0) * torch.erfinv(2.0 * uniform - 1.0)
    return (mean + stddev * unit.clamp(-2.0, 2.0)).to(to_torch_dtype(dtype))


def random_randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32", seed: Any = None) -> torch.Tensor:
    shape, torch_dtype = tuple(shape), to_torch_dtype(dtype)
    key = _key(seed)
    if key is None:
        return torch.randint(int(minval), int(maxval), shape, dtype=torch_dtype, device=DEVICE)
    # Ranges beyond 2**32 take two words; the modulo bias is below range / 2**64.
    span = int(maxval) - int(minval)
    count = math.prod(shape)
    bits = _bits(key, 2 * count if span > 2**32 else count)
    if span > 2**32:
        bits = (bits[:count] << 31) ^ bits[count:]
    return (int(minval) + torch.remainder(bits, span)).reshape(shape).to(torch_dtype)


def random_categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> torch.Tensor:
    logits = convert_to_tensor(logits).float()
    key = _key(seed)
    if key is None:
        draws = torch.multinomial(torch.softmax(logits, dim=-1), int(num_samples), replacement=True)
        return draws.to(to_torch_dtype(dtype))
    # The Gumbel-max trick: argmax of logits plus Gumbel noise is a draw from softmax(logits).
    batch, classes = logits.shape
    gumbel = -torch.log(-torch.log(_uniforms(key, (batch, int(num_samples), classes))))
    return torch.argmax(logits[:, None, :] + gumbel, dim=-1).to(to_torch_dtype(dtype))


def _order(key: torch.Tensor | None, n: int) -> torch.Tensor:
    if key is None:
        return torch.randperm(n, device=DEVICE)
    return torch.argsort(_bits(key, n), stable=True)


def random_shuffle(x: Any, axis: int = 0, seed: Any = None) -> torch.Tensor:
    x = convert_to_tensor(x)
    return torch.index_select(x, axis, _order(_key(seed), x.shape[axis]))


def random_permutation(n: int, seed: Any = None) -> torch.Tensor:
    return _order(_key(seed), int(n))


def _global_gamma(shape: tuple, alpha: Any) -> torch.Tensor:
    concentration = torch.broadcast_to(torch.as_tensor(alpha, dtype=torch.float32, device=DEVICE), shape)
    return torch.distributions.Gamma(concentration, torch.ones_like(concentration)).sample()


def _hashed_gamma(key: torch.Tensor, shape: tuple, alpha: Any, stream: int = 0) -> torch.Tensor:
    """Marsaglia-Tsang with a fixed number of candidates per element (fixed shapes, no loop on values);
    alpha < 1 draws gamma(alpha + 1) and scales it by u ** (1 / alpha)."""
    alpha = torch.broadcast_to(torch.as_tensor(alpha, dtype=torch.float32, device=DEVICE), shape)
    boosted = alpha + (alpha < 1.0).to(torch.float32)
    d = boosted - 1.0 / 3.0
    c = torch.rsqrt(9.0 * d)
    count = math.prod(shape)
    per_stream = (3 * _GAMMA_TRIES + 1) * count
    uniforms = _unit(_bits(key, per_stream, stream * per_stream))
    pairs, accept_u, boost_u = uniforms.split([2 * _GAMMA_TRIES * count, _GAMMA_TRIES * count, count])
    u1, u2 = pairs.reshape(2, _GAMMA_TRIES, *shape)
    z = torch.sqrt(-2.0 * torch.log(u1)) * torch.cos((2.0 * math.pi) * u2)
    v = (1.0 + c * z) ** 3
    log_v = torch.log(torch.clamp(v, min=1e-30))
    accepted = (v > 0) & (torch.log(accept_u.reshape(_GAMMA_TRIES, *shape)) < 0.5 * z * z + d - d * v + d * log_v)
    first = torch.argmax(accepted.to(torch.int8), dim=0, keepdim=True)  # the first accepted candidate (or 0)
    draws = d * torch.gather(torch.clamp(v, min=0.0), 0, first)[0]
    scale = torch.where(alpha < 1.0, boost_u.reshape(shape) ** (1.0 / alpha), torch.ones_like(alpha))
    return draws * scale


def random_gamma(shape: Any, alpha: Any, dtype: Any = "float32", seed: Any = None) -> torch.Tensor:
    shape = tuple(shape)
    key = None if isinstance(seed, int) else _key(seed)
    if key is None:
        with _global_state(seed):
            return _global_gamma(shape, alpha).to(to_torch_dtype(dtype))
    return _hashed_gamma(key, shape, alpha).to(to_torch_dtype(dtype))


def random_beta(shape: Any, alpha: Any, beta: Any, dtype: Any = "float32", seed: Any = None) -> torch.Tensor:
    shape = tuple(shape)
    key = None if isinstance(seed, int) else _key(seed)
    if key is None:
        with _global_state(seed):
            first, second = _global_gamma(shape, alpha), _global_gamma(shape, beta)
    else:
        first, second = _hashed_gamma(key, shape, alpha), _hashed_gamma(key, shape, beta, stream=1)
    return (first / (first + second)).to(to_torch_dtype(dtype))


def random_binomial(shape: Any, counts: Any, probabilities: Any, dtype: Any = "float32",
                    seed: Any = None) -> torch.Tensor:
    shape = tuple(shape)
    counts = torch.broadcast_to(torch.as_tensor(counts, dtype=torch.float32, device=DEVICE), shape)
    probabilities = torch.broadcast_to(torch.as_tensor(probabilities, dtype=torch.float32, device=DEVICE), shape)
    key = _key(seed)
    generator = None
    if key is not None:
        # torch's binomial sampler takes only a host generator: a stateful seed costs one host read here
        generator = torch.Generator(device=DEVICE)
        generator.manual_seed(int(_hash32(key & _MASK).sum()))
    draws = torch.binomial(counts.contiguous(), probabilities.contiguous(), generator=generator)
    return draws.to(to_torch_dtype(dtype))


def dropout_draw(x: torch.Tensor, rate: float, seed: Any = None) -> torch.Tensor:
    """nn's dropout: a seeded generator's mask comes from its state, an unseeded one's from torch's kernel."""
    key = _key(seed)
    if key is None:
        return torch.nn.functional.dropout(x, rate, training=True)
    # keep where the 32-bit draw is at least rate * 2**32: no conversion to floats
    keep = _bits(key, x.numel(), low_bits=False).reshape(x.shape) >= int(rate * 2.0**32)
    return x * (keep.to(x.dtype) * (1.0 / (1.0 - rate)))  # a product: its gradient is one product too
