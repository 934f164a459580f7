"""keras.ops.nn's convolution and pooling ops on every backend and both data formats, against NumPy loops."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

from lamina import backend, ops

BACKENDS = ("torch", "jax", "numpy")
RNG = np.random.default_rng(0)


def normal(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype("float32")


def same_start(size: int, extent: int, stride: int) -> int:
    """Cells 'same' pads before the input: half the total (the odd cell goes at the end)."""
    return max((math.ceil(size / stride) - 1) * stride + extent - size, 0) // 2


def conv_reference(x: np.ndarray, kernel: np.ndarray, strides: tuple, padding: str, dilation: tuple) -> np.ndarray:
    """channels_last grouped convolution, one output cell at a time."""
    rank = x.ndim - 2
    extents = [(k - 1) * d + 1 for k, d in zip(kernel.shape[:rank], dilation)]
    if padding == "same":
        sizes = [math.ceil(n / s) for n, s in zip(x.shape[1:-1], strides)]
        before = [same_start(n, e, s) for n, e, s in zip(x.shape[1:-1], extents, strides)]
        x = np.pad(x, [(0, 0), *[(b, max((o - 1) * s + e - n - b, 0)) for b, o, s, e, n in
                                 zip(before, sizes, strides, extents, x.shape[1:-1])], (0, 0)])
    sizes = [(n - e) // s + 1 for n, e, s in zip(x.shape[1:-1], extents, strides)]
    per_group, filters = kernel.shape[-2:]
    groups = x.shape[-1] // per_group
    out_per_group = filters // groups
    output = np.zeros((x.shape[0], *sizes, filters))
    for position in np.ndindex(*sizes):
        cells = tuple(slice(p * s, p * s + e, d) for p, s, e, d in zip(position, strides, extents, dilation))
        patch = x[(slice(None), *cells)]
        for g in range(groups):
            part = patch[..., g * per_group:(g + 1) * per_group]
            weights = kernel[..., g * out_per_group:(g + 1) * out_per_group]
            output[(slice(None), *position, slice(g * out_per_group, (g + 1) * out_per_group))] = np.tensordot(
                part, weights, axes=(list(range(1, rank + 2)), list(range(rank + 1))))
    return output


def run(op: Callable[..., Any], x: np.ndarray, *args: Any, reference: np.ndarray, atol: float = 1e-4,
        **kwargs: Any) -> None:
    """op on every backend, in both data formats, equals the channels_last reference."""
    for name in BACKENDS:
        with backend.use(name):
            for data_format in ("channels_last", "channels_first"):
                inputs = x if data_format == "channels_last" else np.moveaxis(x, -1, 1)
                output = np.asarray(backend.impl.convert_to_numpy(op(inputs, *args, data_format=data_format,
                                                                     **kwargs)))
                if data_format == "channels_first":
                    output = np.moveaxis(output, 1, -1)
                np.testing.assert_allclose(output, reference, atol=atol, rtol=1e-4,
                                           err_msg=f"{op.__name__} on {name}, {data_format}")


@pytest.mark.parametrize("strides,padding,dilation", [(1, "valid", 1), ((2, 1), "same", 1), (1, "same", (2, 1))])
def test_conv_2d(strides: Any, padding: str, dilation: Any) -> None:
    x, kernel = normal(2, 6, 5, 4), normal(3, 2, 2, 6)  # two groups
    expanded = [(v,) * 2 if isinstance(v, int) else v for v in (strides, dilation)]
    run(ops.conv, x, kernel, strides=strides, padding=padding, dilation_rate=dilation,
        reference=conv_reference(x, kernel, expanded[0], padding, expanded[1]))


def test_conv_1d_and_3d() -> None:
    x, kernel = normal(2, 7, 3), normal(3, 3, 2)
    run(ops.conv, x, kernel, 2, "same", reference=conv_reference(x, kernel, (2,), "same", (1,)))
    x, kernel = normal(1, 3, 4, 3, 2), normal(2, 2, 2, 2, 3)
    run(ops.conv, x, kernel, reference=conv_reference(x, kernel, (1, 1, 1), "valid", (1, 1, 1)))


def test_depthwise_and_separable_conv() -> None:
    x, depthwise, pointwise = normal(2, 5, 6, 3), normal(3, 3, 3, 2), normal(1, 1, 6, 4)
    spread = np.concatenate([conv_reference(x[..., c:c + 1], depthwise[..., c:c + 1, :], (1, 2), "same", (1, 1))
                             for c in range(3)], axis=-1)
    run(ops.depthwise_conv, x, depthwise, (1, 2), "same", reference=spread)
    run(ops.separable_conv, x, depthwise, pointwise, (1, 2), "same",
        reference=conv_reference(spread, pointwise, (1, 1), "valid", (1, 1)))


def conv_transpose_reference(x: np.ndarray, kernel: np.ndarray, strides: tuple, padding: str,
                             output_padding: tuple | None) -> np.ndarray:
    """channels_last: every input cell adds kernel-weighted values at cell * stride of the full output; the cut
    is what the gradient of a forward convolution of that padding sees (Keras's output sizes)."""
    rank = x.ndim - 2
    window = kernel.shape[:rank]
    full = np.zeros((x.shape[0], *[(n - 1) * s + k for n, s, k in zip(x.shape[1:-1], strides, window)],
                     kernel.shape[-2]))
    for position in np.ndindex(*x.shape[1:-1]):
        cells = tuple(slice(p * s, p * s + k) for p, s, k in zip(position, strides, window))
        full[(slice(None), *cells)] += np.einsum("bi,...oi->b...o", x[(slice(None), *position)], kernel)
    cut = []
    for axis, (n, s, k) in enumerate(zip(x.shape[1:-1], strides, window)):
        extra = None if output_padding is None else output_padding[axis]
        if padding == "valid":
            size = n * s + max(k - s, 0) if extra is None else (n - 1) * s + k + extra
        else:
            size = n * s if extra is None else (n - 1) * s + k - 2 * (k // 2) + extra
        start = 0 if padding == "valid" else max((n - 1) * s + k - size, 0) // 2
        cut.append((start, size))
    full = np.pad(full, [(0, 0), *[(0, max(a + b - f, 0)) for (a, b), f in zip(cut, full.shape[1:-1])], (0, 0)])
    return full[(slice(None), *[slice(a, a + b) for a, b in cut])]


@pytest.mark.parametrize("strides,padding,output_padding", [
    (2, "valid", None), (2, "same", None), (3, "same", 1), ((2, 1), "valid", (1, 0))])
def test_conv_transpose(strides: Any, padding: str, output_padding: Any) -> None:
    x, kernel = normal(2, 3, 4, 2), normal(3, 2, 5, 2)
    expanded = (strides,) * 2 if isinstance(strides, int) else strides
    extra = None if output_padding is None else ((output_padding,) * 2 if isinstance(output_padding, int)
                                                 else output_padding)
    run(ops.conv_transpose, x, kernel, strides, padding, output_padding,
        reference=conv_transpose_reference(x, kernel, expanded, padding, extra))


def pool_reference(x: np.ndarray, pool: tuple, strides: tuple, padding: str, reduce: Any) -> np.ndarray:
    """channels_last pooling over the real cells of each window (padding counts in neither max nor mean)."""
    spatial = x.shape[1:-1]
    if padding == "same":
        sizes = [math.ceil(n / s) for n, s in zip(spatial, strides)]
        starts = [same_start(n, p, s) for n, p, s in zip(spatial, pool, strides)]
    else:
        sizes, starts = [(n - p) // s + 1 for n, p, s in zip(spatial, pool, strides)], [0] * len(spatial)
    output = np.zeros((x.shape[0], *sizes, x.shape[-1]))
    for position in np.ndindex(*sizes):
        cells = tuple(slice(max(o * s - a, 0), o * s - a + p) for o, s, a, p in zip(position, strides, starts, pool))
        output[(slice(None), *position)] = reduce(x[(slice(None), *cells)].reshape(x.shape[0], -1, x.shape[-1]), 1)
    return output


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_max_and_average_pool(padding: str) -> None:
    x = normal(2, 5, 7, 3)
    run(ops.max_pool, x, (2, 3), (2, 2), padding, reference=pool_reference(x, (2, 3), (2, 2), padding, np.max))
    run(ops.average_pool, x, 3, None, padding, reference=pool_reference(x, (3, 3), (3, 3), padding, np.mean))
    x = normal(2, 7, 2)
    run(ops.max_pool, x, 3, 2, padding, reference=pool_reference(x, (3,), (2,), padding, np.max))


def adaptive_reference(x: np.ndarray, sizes: tuple, reduce: Any) -> np.ndarray:
    spatial = x.shape[1:-1]
    output = np.zeros((x.shape[0], *sizes, x.shape[-1]))
    for position in np.ndindex(*sizes):
        cells = tuple(slice(math.floor(i * n / o), math.ceil((i + 1) * n / o)) for i, n, o in zip(position, spatial, sizes))
        output[(slice(None), *position)] = reduce(x[(slice(None), *cells)].reshape(x.shape[0], -1, x.shape[-1]), 1)
    return output


def test_adaptive_pools() -> None:
    x = normal(2, 5, 7, 3)
    run(ops.adaptive_average_pool, x, (3, 4), reference=adaptive_reference(x, (3, 4), np.mean))
    run(ops.adaptive_max_pool, x, 2, reference=adaptive_reference(x, (2, 2), np.max))


def test_data_format_none_is_channels_last() -> None:
    x, kernel = normal(1, 4, 4, 2), normal(2, 2, 2, 3)
    with backend.use("numpy"):
        np.testing.assert_allclose(np.asarray(ops.conv(x, kernel)), conv_reference(x, kernel, (1, 1), "valid", (1, 1)),
                                   atol=1e-5)


@pytest.mark.parametrize("call,message", [
    (lambda x, k: ops.conv(x, k, padding="full"), "conv padding must be 'valid' or 'same', got 'full'"),
    (lambda x, k: ops.conv(x, k, data_format="NHWC"), "data_format must be 'channels_last' or 'channels_first'"),
    (lambda x, k: ops.conv(x, k, strides=(1, 1, 1)), "conv strides"),
    (lambda x, k: ops.conv(x, np.zeros((3, 3, 3, 2), "float32")), "in_channels / groups"),
    (lambda x, k: ops.conv(x[0, 0], k), "rank 3, 4 or 5"),
    (lambda x, k: ops.max_pool(x, (2, 2, 2)), "max_pool pool_size"),
    (lambda x, k: ops.adaptive_max_pool(x, 0), "adaptive_max_pool output_size"),
])
def test_bad_arguments_are_named(call: Any, message: str) -> None:
    with backend.use("numpy"):
        with pytest.raises(ValueError, match=message):
            call(np.zeros((1, 5, 5, 4), "float32"), np.zeros((3, 3, 4, 2), "float32"))


def test_ops_under_jit_and_gradients() -> None:
    """The ops trace under jax.jit and differentiate on torch (no host reads of values)."""
    import jax
    import torch

    x, kernel = normal(2, 6, 6, 2), normal(3, 3, 2, 4)
    with backend.use("jax"):
        jitted = jax.jit(lambda a, b: ops.max_pool(ops.conv(a, b, 2, "same"), 2, padding="same"))
        assert jitted(x, kernel).shape == (2, 2, 2, 4)
        transposed = jax.jit(lambda a, b: ops.conv_transpose(a, b, 2, "same", data_format="channels_first"))
        assert transposed(np.moveaxis(x, -1, 1), kernel.swapaxes(-1, -2)).shape == (2, 4, 12, 12)
    with backend.use("torch"):
        inputs = torch.tensor(x, requires_grad=True)
        output = ops.adaptive_average_pool(ops.depthwise_conv(inputs, torch.tensor(normal(2, 2, 2, 1)), 1, "same"), 3)
        output.sum().backward()
        assert inputs.grad is not None and torch.all(torch.isfinite(inputs.grad))
