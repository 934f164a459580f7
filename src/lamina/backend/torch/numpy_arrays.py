"""keras.ops.numpy's array creation, windows, shapes and linear algebra on the torch backend."""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

import torch

from lamina.backend.torch.core import DEVICE, to_torch_dtype
from lamina.backend.torch.numpy import _t


def _float_dtype(dtype: Any) -> torch.dtype:
    return to_torch_dtype(dtype) if dtype else torch.float32


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = "float32") -> torch.Tensor:
    M = N if M is None else M
    rows = torch.arange(N, device=DEVICE)[:, None]
    return (torch.arange(M, device=DEVICE) <= rows + k).to(to_torch_dtype(dtype))


def tril(x: Any, k: int = 0) -> torch.Tensor:
    return torch.tril(_t(x), diagonal=k)


def triu(x: Any, k: int = 0) -> torch.Tensor:
    return torch.triu(_t(x), diagonal=k)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Any:
    """Computed in float32 (float64 for float64 bounds) and cast to dtype; array bounds add the axis `axis`."""
    start, stop = _t(start), _t(stop)
    compute = torch.float64 if torch.float64 in (start.dtype, stop.dtype) else torch.float32
    start, stop = torch.broadcast_tensors(start.to(compute), stop.to(compute))
    divisor = num - 1 if endpoint else num
    step = (stop - start) / divisor if divisor > 0 else torch.full_like(start, float("nan"))
    positions = torch.arange(num, dtype=compute, device=DEVICE).reshape((-1,) + (1,) * start.ndim)
    values = start + positions * (step if divisor > 0 else torch.zeros_like(start))
    if endpoint and num > 1:  # exactly stop, without writing in place (gradients flow to start and stop)
        values = torch.cat([values[:-1], stop[None]])
    values = torch.movedim(values, 0, axis)
    values = values.to(to_torch_dtype(dtype) if dtype else compute)
    return (values, step) if retstep else values


def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10, dtype: Any = None,
             axis: int = 0) -> torch.Tensor:
    exponents = linspace(start, stop, num, endpoint, dtype=None, axis=axis)
    values = torch.pow(base if isinstance(base, (int, float)) else _t(base), exponents)
    return values.to(to_torch_dtype(dtype)) if dtype else values


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
              axis: int = 0) -> torch.Tensor:
    start, stop = _t(start).float(), _t(stop).float()
    values = torch.sign(start) * torch.exp(linspace(torch.log(torch.abs(start)), torch.log(torch.abs(stop)), num,
                                                    endpoint, axis=axis))
    return values.to(to_torch_dtype(dtype)) if dtype else values


def meshgrid(*x: Any, indexing: str = "xy") -> list[torch.Tensor]:
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}.")
    return list(torch.meshgrid(*[_t(item) for item in x], indexing=indexing))


def vander(x: Any, N: int | None = None, increasing: bool = False) -> torch.Tensor:
    return torch.vander(_t(x), N=N, increasing=increasing)


def _window(function: Callable[..., torch.Tensor], x: int, **kwargs: Any) -> torch.Tensor:
    return function(int(x), periodic=False, dtype=torch.float32, device=DEVICE, **kwargs)


def bartlett(x: int) -> torch.Tensor:
    return _window(torch.bartlett_window, x)


def blackman(x: int) -> torch.Tensor:
    return _window(torch.blackman_window, x)


def hamming(x: int) -> torch.Tensor:
    return _window(torch.hamming_window, x)


def hanning(x: int) -> torch.Tensor:
    return _window(torch.hann_window, x)


def kaiser(x: int, beta: float) -> torch.Tensor:
    return _window(torch.kaiser_window, x, beta=float(beta))


def diag(x: Any, k: int = 0) -> torch.Tensor:
    return torch.diag(_t(x), diagonal=k)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    return torch.diagonal(_t(x), offset=offset, dim1=axis1, dim2=axis2)


def diff(a: Any, n: int = 1, axis: int = -1) -> torch.Tensor:
    return torch.diff(_t(a), n=n, dim=axis)


def roll(x: Any, shift: Any, axis: Any = None) -> torch.Tensor:
    x = _t(x)
    if axis is None:
        return torch.roll(x.reshape(-1), shift).reshape(x.shape)
    return torch.roll(x, shift, dims=axis)


def rot90(array: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> torch.Tensor:
    return torch.rot90(_t(array), k, dims=list(axes))


def view(x: Any, dtype: Any = None) -> torch.Tensor:
    x = _t(x)
    return x if dtype is None else x.view(to_torch_dtype(dtype))


def _common(x1: Any, x2: Any) -> tuple[torch.Tensor, torch.Tensor]:
    x1, x2 = _t(x1), _t(x2)
    dtype = torch.promote_types(x1.dtype, x2.dtype)
    return x1.to(dtype), x2.to(dtype)


def kron(x1: Any, x2: Any) -> torch.Tensor:
    return torch.kron(*_common(x1, x2))


def outer(x1: Any, x2: Any) -> torch.Tensor:
    x1, x2 = _common(x1, x2)
    return torch.outer(x1.reshape(-1), x2.reshape(-1))


def inner(x1: Any, x2: Any) -> torch.Tensor:
    return torch.inner(*_common(x1, x2))


def vdot(x1: Any, x2: Any) -> torch.Tensor:
    x1, x2 = _common(x1, x2)
    return torch.vdot(x1.reshape(-1), x2.reshape(-1))


def dot(x1: Any, x2: Any) -> torch.Tensor:
    x1, x2 = _common(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    if x2.ndim <= 2:
        return torch.matmul(x1, x2)
    return torch.tensordot(x1, x2, dims=([-1], [-2]))


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> torch.Tensor:
    x1, x2 = _common(x1, x2)
    if not isinstance(axes, int):
        axes = [list(a) if isinstance(a, (list, tuple)) else [a] for a in axes]
    return torch.tensordot(x1, x2, dims=axes)


def cross(x1: Any, x2: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None) -> Any:
    x1, x2 = _common(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    x1, x2 = torch.movedim(x1, axisa, -1), torch.movedim(x2, axisb, -1)
    if x1.shape[-1] not in (2, 3) or x2.shape[-1] not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components, got {x1.shape[-1]} and {x2.shape[-1]}.")
    if x1.shape[-1] == 2 and x2.shape[-1] == 2:  # the z component only, as NumPy gives
        return x1[..., 0] * x2[..., 1] - x1[..., 1] * x2[..., 0]
    x1 = torch.nn.functional.pad(x1, (0, 3 - x1.shape[-1]))
    x2 = torch.nn.functional.pad(x2, (0, 3 - x2.shape[-1]))
    x1, x2 = torch.broadcast_tensors(x1, x2)
    return torch.movedim(torch.linalg.cross(x1, x2, dim=-1), -1, axisc)


def correlate(x1: Any, x2: Any, mode: str = "valid") -> torch.Tensor:
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full', got {mode!r}.")
    x1, x2 = _common(x1, x2)
    if not x1.is_floating_point():
        x1, x2 = x1.float(), x2.float()
    length, kernel = x1.shape[0], x2.shape[0]
    if length < kernel:  # NumPy swaps the operands and reverses the result
        return torch.flip(correlate(x2, x1, mode), (0,))
    padding = {"valid": (0, 0), "same": ((kernel - 1) // 2, kernel // 2), "full": (kernel - 1, kernel - 1)}[mode]
    signal = torch.nn.functional.pad(x1, padding)
    return torch.nn.functional.conv1d(signal[None, None], x2[None, None])[0, 0]


def corrcoef(x: Any) -> torch.Tensor:
    x = _t(x)
    return torch.corrcoef(x if x.is_floating_point() else x.float())


def slogdet(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    sign, logabsdet = torch.linalg.slogdet(_t(x))
    return sign, logabsdet


def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> torch.Tensor:
    y = _t(y)
    y = y if y.is_floating_point() else y.float()
    if x is None:
        return torch.trapezoid(y, dx=dx, dim=axis)
    return torch.trapezoid(y, _t(x).to(y.dtype), dim=axis)


# Vectorizing: pyfunc is mapped with torch.vmap over the broadcast loop axes, flattened into one.
_CORE = re.compile(r"\(([^)]*)\)")


def _core_ranks(signature: str | None, count: int) -> tuple[list[int], list[int]]:
    if signature is None:
        return [0] * count, [0]
    inputs, _, outputs = signature.replace(" ", "").partition("->")
    ranks = [len([n for n in dims.split(",") if n]) for dims in _CORE.findall(inputs)]
    if len(ranks) != count:
        raise ValueError(f"vectorize: the signature {signature!r} names {len(ranks)} inputs, got {count}.")
    return ranks, [len([n for n in dims.split(",") if n]) for dims in _CORE.findall(outputs)]


def vectorize(pyfunc: Callable[..., Any], excluded: Any = None, signature: str | None = None) -> Callable[..., Any]:
    excluded = set(excluded or ())

    def vectorized(*args: Any, **kwargs: Any) -> Any:
        mapped = [i for i in range(len(args)) if i not in excluded]
        tensors = [_t(args[i]) for i in mapped]
        ranks, _ = _core_ranks(signature, len(tensors))
        loops = [t.shape[:t.ndim - r] for t, r in zip(tensors, ranks)]
        loop = torch.broadcast_shapes(*loops)
        flat = [t.expand(*loop, *t.shape[t.ndim - r:]).reshape(-1, *t.shape[t.ndim - r:])
                for t, r in zip(tensors, ranks)]

        def call(*items: torch.Tensor) -> Any:
            full = list(args)
            for i, item in zip(mapped, items):
                full[i] = item
            return pyfunc(*full, **{k: v for k, v in kwargs.items()})

        result = torch.vmap(call)(*flat)
        if isinstance(result, tuple):
            return tuple(r.reshape(*loop, *r.shape[1:]) for r in result)
        return result.reshape(*loop, *result.shape[1:])

    return vectorized
