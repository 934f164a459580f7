"""keras.ops.numpy on every backend: each op against NumPy (values, shape, dtype kind, float32 kept), and
finite gradients of differentiable ops on torch and jax."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend, ops
from lamina.ops import numpy as numpy_ops

BACKENDS = ["torch", "jax", "numpy"]
rng = np.random.default_rng(5)
X = rng.normal(size=(3, 4)).astype("float32")
Y = rng.normal(size=(3, 4)).astype("float32")
POS = rng.uniform(0.5, 2.0, size=(3, 4)).astype("float32")
UNIT = rng.uniform(-0.9, 0.9, size=(3, 4)).astype("float32")
INTS = rng.integers(-5, 10, size=(3, 4)).astype("int32")
NATURALS = rng.integers(1, 12, size=(3, 4)).astype("int32")
COUNTS = np.array([0, 3, 1, 3, 3, 5], "int32")
NANX = np.where(rng.uniform(size=(3, 4)) < 0.3, np.nan, X).astype("float32")
NANX[:, 0] = 1.0  # no all-NaN row: NumPy warns there
SQUARE = rng.normal(size=(3, 3)).astype("float32")
VEC3 = rng.normal(size=(2, 3)).astype("float32")
CUBE = rng.normal(size=(2, 3, 4)).astype("float32")
SORTED = np.array([-1.0, 0.0, 0.5, 2.0], "float32")
SPECIAL = np.array([np.nan, np.inf, -np.inf, -0.0, 1.5], "float32")

def _cross_z(a, b):
    """The z component of the cross product of 2-vectors (NumPy's own form of it is deprecated)."""
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


# name (or name:variant) -> (call on `o` (lamina.ops) with inputs `a` (backend tensors), NumPy's result)
CASES = {
    **{case: (lambda o, a, name=name, src=src: getattr(o, name)(getattr(a, src)),
              lambda name=name, src=src: getattr(np, name)(globals()[src]))
       for case, src in (("arccos", "UNIT"), ("arcsin", "UNIT"), ("arctan", "X"), ("arctanh", "UNIT"),
                         ("arcsinh", "X"), ("cosh", "X"), ("sinh", "X"), ("tan", "UNIT"), ("cbrt", "X"),
                         ("deg2rad", "X"), ("rad2deg", "X"), ("exp2", "X"), ("expm1", "X"), ("log10", "POS"),
                         ("log2", "POS"), ("reciprocal", "POS"), ("trunc", "X"), ("sinc", "X"), ("i0", "X"),
                         ("signbit", "SPECIAL"), ("isfinite", "SPECIAL"), ("isinf", "SPECIAL"),
                         ("isneginf", "SPECIAL"), ("isposinf", "SPECIAL"), ("angle", "X"), ("conj", "X"),
                         ("conjugate", "X"), ("real", "X"), ("imag", "X"), ("isreal", "X"), ("absolute", "X"),
                         ("fabs", "X"), ("copy", "X"), ("ravel", "CUBE"), ("fliplr", "X"), ("flipud", "X"),
                         ("bitwise_not", "INTS"), ("bitwise_invert", "INTS"), ("corrcoef", "X"),
                         ("ndim", "CUBE"), ("trunc:int", "INTS"))
       for name in [case.split(":")[0]]},
    "nonzero": (lambda o, a: list(o.nonzero(a.INTS)), lambda: list(np.nonzero(INTS))),
    "arccosh": (lambda o, a: o.arccosh(a.POS + 1), lambda: np.arccosh(POS + 1)),
    **{name: (lambda o, a, name=name: getattr(o, name)(a.X, a.Y), lambda name=name: getattr(np, name)(X, Y))
       for name in ("arctan2", "fmax", "fmin", "hypot", "logaddexp", "logaddexp2", "nextafter", "kron", "outer",
                    "vdot", "true_divide", "heaviside")},
    **{name: (lambda o, a, name=name: getattr(o, name)(a.INTS, a.NATURALS),
              lambda name=name: getattr(np, name)(INTS, NATURALS))
       for name in ("floor_divide", "fmod", "mod", "gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor")},
    **{name: (lambda o, a, name=name: getattr(o, name)(a.NATURALS, 2), lambda name=name: getattr(np, name)(NATURALS, 2))
       for name in ("bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift")},
    "scalar_first": (lambda o, a: [o.mod(7, a.NATURALS), o.hypot(3.0, a.X), o.fmax(0.0, a.X), o.arctan2(1.0, a.X),
                                   o.bitwise_and(6, a.NATURALS), o.logaddexp(0.5, a.X), o.floor_divide(7, a.NATURALS)],
                     lambda: [np.mod(7, NATURALS), np.hypot(np.float32(3), X), np.fmax(np.float32(0), X),
                              np.arctan2(np.float32(1), X), np.bitwise_and(6, NATURALS), np.logaddexp(np.float32(0.5), X),
                              np.floor_divide(7, NATURALS)]),
    "mod:scalar": (lambda o, a: o.mod(a.X, 0.7), lambda: np.mod(X, np.float32(0.7))),
    "floor_divide:float": (lambda o, a: o.floor_divide(a.X, 0.3), lambda: np.floor_divide(X, np.float32(0.3))),
    "fmod:float": (lambda o, a: o.fmod(a.X, a.POS), lambda: np.fmod(X, POS)),
    "arctan2:scalar": (lambda o, a: o.arctan2(a.X, 1.0), lambda: np.arctan2(X, np.float32(1.0))),
    "ldexp": (lambda o, a: o.ldexp(a.X, a.INTS % 4), lambda: np.ldexp(X, INTS % 4)),
    "logical_xor": (lambda o, a: o.logical_xor(a.X > 0, a.Y > 0), lambda: np.logical_xor(X > 0, Y > 0)),
    "dot": (lambda o, a: [o.dot(a.X, o.transpose(a.X)), o.dot(a.X[0], a.Y[0]), o.dot(a.X, 2.0)],
            lambda: [X @ X.T, np.dot(X[0], Y[0]), X * 2]),
    "inner": (lambda o, a: [o.inner(a.X, a.Y), o.inner(a.X[0], a.Y[0])], lambda: [np.inner(X, Y), np.inner(X[0], Y[0])]),
    "dot:nd": (lambda o, a: o.dot(a.CUBE, o.transpose(a.X)), lambda: np.dot(CUBE, X.T)),
    "isclose": (lambda o, a: o.isclose(a.X, a.X + 1e-6), lambda: np.isclose(X, X + np.float32(1e-6))),
    "allclose": (lambda o, a: [o.allclose(a.X, a.X + 1e-6), o.allclose(a.X, a.Y)], lambda: [True, False]),
    "nan_to_num": (lambda o, a: o.nan_to_num(a.SPECIAL, nan=1.0, posinf=9.0),
                   lambda: np.nan_to_num(SPECIAL, nan=1.0, posinf=9.0)),
    "divide_no_nan": (lambda o, a: o.divide_no_nan(a.X, o.where(a.X > 0, a.Y, 0.0)),
                      lambda: np.where(X > 0, X / np.where(X > 0, Y, 1), 0)),
    "round:decimals": (lambda o, a: o.round(a.X, 2), lambda: np.round(X, 2)),
    # reductions
    **{name: (lambda o, a, name=name: [getattr(o, name)(a.X > 0), getattr(o, name)(a.X > 0, axis=1, keepdims=True)],
              lambda name=name: [getattr(np, name)(X > 0), getattr(np, name)(X > 0, axis=1, keepdims=True)])
       for name in ("all", "any")},
    **{name: (lambda o, a, name=name: [getattr(o, name)(a.X), getattr(o, name)(a.X, axis=0, keepdims=True)],
              lambda name=name: [getattr(np, name)(X), getattr(np, name)(X, axis=0, keepdims=True)])
       for name in ("amax", "amin", "median", "ptp")},
    "median:axes": (lambda o, a: o.median(a.CUBE, axis=(0, 2)), lambda: np.median(CUBE, axis=(0, 2))),
    **{name: (lambda o, a, name=name: [getattr(o, name)(a.NANX), getattr(o, name)(a.NANX, axis=1)],
              lambda name=name: [getattr(np, name)(NANX), getattr(np, name)(NANX, axis=1)])
       for name in ("nanmax", "nanmin", "nanmean", "nanmedian", "nanstd", "nansum", "nanvar", "nanprod",
                    "nanargmax", "nanargmin")},
    **{name: (lambda o, a, name=name: [getattr(o, name)(a.NANX), getattr(o, name)(a.NANX, axis=1)],
              lambda name=name: [getattr(np, name)(NANX), getattr(np, name)(NANX, axis=1)])
       for name in ("nancumsum", "nancumprod", "cumprod")},
    "cumsum:dtype": (lambda o, a: [o.cumsum(a.X), o.cumsum(a.INTS, axis=0, dtype="float32")],
                     lambda: [np.cumsum(X), np.cumsum(INTS, axis=0, dtype="float32")]),
    "max_min:initial": (lambda o, a: [o.max(a.X, axis=1, initial=0.5), o.min(a.X, initial=-0.5)],
                        lambda: [np.max(X, axis=1, initial=0.5), np.min(X, initial=-0.5)]),
    "prod:dtype": (lambda o, a: o.prod(a.INTS, axis=0, dtype="float32"), lambda: np.prod(INTS, 0, dtype="float32")),
    "count_nonzero": (lambda o, a: [o.count_nonzero(a.INTS), o.count_nonzero(a.INTS, axis=1)],
                      lambda: [np.count_nonzero(INTS), np.count_nonzero(INTS, axis=1)]),
    "average": (lambda o, a: [o.average(a.X), o.average(a.X, axis=1, weights=a.POS[0]), o.average(a.X, weights=a.POS)],
                lambda: [np.average(X), np.average(X, axis=1, weights=POS[0]), np.average(X, weights=POS)]),
    **{f"{name}:{method}": (lambda o, a, name=name, method=method: getattr(o, name)(
        a.NANX if name.startswith("nan") else a.X, [0.2, 0.5] if "quant" in name else [20.0, 50.0], axis=1,
        method=method, keepdims=True),
        lambda name=name, method=method: getattr(np, name)(NANX if name.startswith("nan") else X,
                                                           [0.2, 0.5] if "quant" in name else [20.0, 50.0], axis=1,
                                                           method=method, keepdims=True).astype("float32"))
       for name, methods in (("quantile", ("linear", "lower", "higher", "midpoint", "nearest")),
                             ("nanquantile", ("linear", "lower", "higher", "midpoint", "nearest")),
                             ("percentile", ("linear", "nearest")), ("nanpercentile", ("midpoint", "nearest")))
       for method in methods},
    "quantile:scalar": (lambda o, a: o.quantile(a.CUBE, 0.3, axis=(0, 1)), lambda: np.quantile(CUBE, 0.3, axis=(0, 1))),
    "trace": (lambda o, a: [o.trace(a.SQUARE), o.trace(a.CUBE, offset=1, axis1=1, axis2=2)],
              lambda: [np.trace(SQUARE), np.trace(CUBE, offset=1, axis1=1, axis2=2)]),
    # sorting and searching
    "sort": (lambda o, a: [o.sort(a.X), o.sort(a.X, axis=0), o.sort(a.X, axis=None)],
             lambda: [np.sort(X), np.sort(X, 0), np.sort(X, None)]),
    "argsort": (lambda o, a: [o.argsort(a.X), o.argsort(a.X, axis=0)], lambda: [np.argsort(X), np.argsort(X, 0)]),
    "argpartition": (lambda o, a: o.take_along_axis(a.X, o.argpartition(a.X, 1, axis=1), 1)[:, 1],
                     lambda: np.sort(X, 1)[:, 1]),
    "searchsorted": (lambda o, a: [o.searchsorted(a.SORTED, a.X), o.searchsorted(a.SORTED, a.SORTED, side="right")],
                     lambda: [np.searchsorted(SORTED, X), np.searchsorted(SORTED, SORTED, side="right")]),
    "digitize": (lambda o, a: o.digitize(a.X, a.SORTED), lambda: np.digitize(X, SORTED)),
    "isin": (lambda o, a: [o.isin(a.INTS, a.COUNTS), o.isin(a.INTS, a.COUNTS, invert=True)],
             lambda: [np.isin(INTS, COUNTS), np.isin(INTS, COUNTS, invert=True)]),
    "bincount": (lambda o, a: [o.bincount(a.COUNTS), o.bincount(a.COUNTS, minlength=8)],
                 lambda: [np.bincount(COUNTS), np.bincount(COUNTS, minlength=8)]),
    "bincount:weights": (lambda o, a: o.bincount(a.COUNTS, weights=o.reshape(a.X, (-1,))[:6]),
                         lambda: np.bincount(COUNTS, weights=X.reshape(-1)[:6]).astype("float32")),
    "histogram": (lambda o, a: list(o.histogram(a.X, bins=5)), lambda: list(np.histogram(X, bins=5))),
    "histogram:range": (lambda o, a: list(o.histogram(a.X, bins=4, range=(-1.0, 1.0))),
                        lambda: list(np.histogram(X, bins=4, range=(-1.0, 1.0)))),
    "unique": (lambda o, a: list(o.unique(a.INTS, return_index=True, return_inverse=True, return_counts=True)),
               lambda: [*np.unique(INTS, return_index=True, return_counts=True)[:2],
                        np.unique(INTS, return_inverse=True)[1].reshape(-1), np.unique(INTS, return_counts=True)[1]]),
    "unique:unsorted": (lambda o, a: o.unique(a.COUNTS, sorted=False), lambda: np.array([0, 3, 1, 5])),
    "unique:size": (lambda o, a: o.unique(a.COUNTS, size=6, fill_value=-1), lambda: np.array([0, 1, 3, 5, -1, -1])),
    "unique:axis": (lambda o, a: o.unique(o.concatenate([a.INTS, a.INTS[:1]]), axis=0),
                    lambda: np.unique(np.concatenate([INTS, INTS[:1]]), axis=0)),
    "unravel_index": (lambda o, a: list(o.unravel_index(a.COUNTS, (2, 3))), lambda: list(np.unravel_index(COUNTS, (2, 3)))),
    # creation
    "eye": (lambda o, a: [o.eye(3), o.eye(2, 4, k=1), o.eye(3, k=-1, dtype="int32"), o.identity(2)],
            lambda: [np.eye(3), np.eye(2, 4, 1), np.eye(3, k=-1, dtype="int32"), np.identity(2)]),
    "tri": (lambda o, a: [o.tri(3), o.tri(2, 4, k=1, dtype="int32")], lambda: [np.tri(3), np.tri(2, 4, 1, "int32")]),
    "tril_triu": (lambda o, a: [o.tril(a.X), o.triu(a.X, k=1), o.tril(a.CUBE, k=-1)],
                  lambda: [np.tril(X), np.triu(X, 1), np.tril(CUBE, -1)]),
    "linspace": (lambda o, a: [o.linspace(0, 1, 5), o.linspace(-1.0, 2.0, 4, endpoint=False),
                               o.linspace(a.SORTED[:2], a.SORTED[2:], 3, axis=1), o.linspace(0, 10, 6, dtype="int32"),
                               *o.linspace(0.0, 1.0, 3, retstep=True)],
                 lambda: [np.linspace(0, 1, 5), np.linspace(-1, 2, 4, endpoint=False),
                          np.linspace(SORTED[:2], SORTED[2:], 3, axis=1), np.linspace(0, 10, 6, dtype="int32"),
                          *np.linspace(0.0, 1.0, 3, retstep=True)]),
    "logspace": (lambda o, a: [o.logspace(0, 2, 3), o.logspace(0.0, 3.0, 4, base=2, endpoint=False)],
                 lambda: [np.logspace(0, 2, 3), np.logspace(0, 3, 4, base=2, endpoint=False)]),
    "geomspace": (lambda o, a: [o.geomspace(1, 1000, 4), o.geomspace(-1.0, -16.0, 5)],
                  lambda: [np.geomspace(1, 1000, 4), np.geomspace(-1, -16, 5)]),
    "meshgrid": (lambda o, a: [*o.meshgrid(a.SORTED, a.X[0]), *o.meshgrid(a.SORTED, a.X[0], indexing="ij")],
                 lambda: [*np.meshgrid(SORTED, X[0]), *np.meshgrid(SORTED, X[0], indexing="ij")]),
    "vander": (lambda o, a: [o.vander(a.SORTED), o.vander(a.SORTED, 3, increasing=True)],
               lambda: [np.vander(SORTED), np.vander(SORTED, 3, increasing=True)]),
    **{name: (lambda o, a, name=name: getattr(o, name)(7), lambda name=name: getattr(np, name)(7).astype("float32"))
       for name in ("bartlett", "blackman", "hamming", "hanning")},
    "kaiser": (lambda o, a: o.kaiser(6, 2.5), lambda: np.kaiser(6, 2.5).astype("float32")),
    "empty_full_like": (lambda o, a: [o.empty((2, 3)), o.empty_like(a.INTS), o.full_like(a.X, 2.5),
                                      o.full_like(a.INTS, 7), o.array([1.0, 2.0]), o.array([1, 2], dtype="int32")],
                        lambda: [np.zeros((2, 3), "float32"), np.zeros_like(INTS), np.full_like(X, 2.5),
                                 np.full_like(INTS, 7), np.array([1.0, 2.0], "float32"), np.array([1, 2], "int32")]),
    # shapes and indexing
    "append": (lambda o, a: [o.append(a.X, a.Y), o.append(a.X, a.Y, axis=0)],
               lambda: [np.append(X, Y), np.append(X, Y, axis=0)]),
    "array_split": (lambda o, a: o.array_split(a.X, 3, axis=1), lambda: np.array_split(X, 3, axis=1)),
    "hsplit_vsplit_dsplit": (lambda o, a: [*o.hsplit(a.X, 2), *o.vsplit(a.X, [1]), *o.dsplit(a.CUBE, 2)],
                             lambda: [*np.hsplit(X, 2), *np.vsplit(X, [1]), *np.dsplit(CUBE, 2)]),
    "hstack_vstack_dstack": (lambda o, a: [o.hstack([a.X, a.Y]), o.hstack([a.SORTED, a.SORTED]),
                                           o.vstack([a.X, a.Y]), o.vstack([a.SORTED, a.SORTED]),
                                           o.dstack([a.X, a.Y]), o.dstack([a.SORTED, a.SORTED])],
                             lambda: [np.hstack([X, Y]), np.hstack([SORTED, SORTED]), np.vstack([X, Y]),
                                      np.vstack([SORTED, SORTED]), np.dstack([X, Y]), np.dstack([SORTED, SORTED])]),
    "diag": (lambda o, a: [o.diag(a.X), o.diag(a.X, k=1), o.diag(a.SORTED, k=-1), o.diagflat(a.VEC3)],
             lambda: [np.diag(X), np.diag(X, 1), np.diag(SORTED, -1), np.diagflat(VEC3)]),
    "diagonal": (lambda o, a: [o.diagonal(a.X), o.diagonal(a.CUBE, offset=1, axis1=1, axis2=2)],
                 lambda: [np.diagonal(X), np.diagonal(CUBE, 1, 1, 2)]),
    "diff": (lambda o, a: [o.diff(a.X), o.diff(a.X, n=2, axis=0), o.diff(a.INTS)],
             lambda: [np.diff(X), np.diff(X, 2, 0), np.diff(INTS)]),
    "roll": (lambda o, a: [o.roll(a.X, 2), o.roll(a.X, -1, axis=1), o.roll(a.X, (1, 2), axis=(0, 1))],
             lambda: [np.roll(X, 2), np.roll(X, -1, 1), np.roll(X, (1, 2), (0, 1))]),
    "rot90": (lambda o, a: [o.rot90(a.X), o.rot90(a.CUBE, k=3, axes=(1, 2))],
              lambda: [np.rot90(X), np.rot90(CUBE, 3, (1, 2))]),
    "moveaxis_swapaxes": (lambda o, a: [o.moveaxis(a.CUBE, 0, -1), o.moveaxis(a.CUBE, (0, 1), (2, 0)),
                                        o.swapaxes(a.CUBE, 0, 2)],
                          lambda: [np.moveaxis(CUBE, 0, -1), np.moveaxis(CUBE, (0, 1), (2, 0)), np.swapaxes(CUBE, 0, 2)]),
    "pad:modes": (lambda o, a: [o.pad(a.X, ((1, 2), (2, 1)), mode=mode) for mode in ("reflect", "symmetric", "edge",
                                                                                      "wrap")]
                  + [o.pad(a.X, ((1, 1), (0, 2)), constant_values=5.0), o.pad(a.X, 1), o.pad(a.X, (1, 2), mode="wrap"),
                     o.pad(a.X[:1], ((2,),), mode="reflect")],
                  lambda: [np.pad(X, ((1, 2), (2, 1)), mode=mode) for mode in ("reflect", "symmetric", "edge", "wrap")]
                  + [np.pad(X, ((1, 1), (0, 2)), constant_values=5.0), np.pad(X, 1), np.pad(X, (1, 2), mode="wrap"),
                     np.pad(X[:1], ((2,),), mode="reflect")]),
    "where": (lambda o, a: [*o.where(a.INTS > 3), o.where(a.X > 0, 1.0, 0.0), o.where(a.X > 0, a.INTS, 0.5)],
              lambda: [*np.where(INTS > 3), np.where(X > 0, np.float32(1), np.float32(0)),
                       np.where(X > 0, INTS, np.float32(0.5))]),
    "get_item": (lambda o, a: [o.get_item(a.X, (slice(None), 1)), o.get_item(a.X, 2)], lambda: [X[:, 1], X[2]]),
    "select": (lambda o, a: o.select([a.X < -0.5, a.X > 0.5], [a.X, a.Y], default=-1.0),
               lambda: np.select([X < -0.5, X > 0.5], [X, Y], default=-1.0)),
    "view": (lambda o, a: [o.view(a.X, "int32"), o.view(a.X)], lambda: [X.view("int32"), X]),
    "stack:x": (lambda o, a: o.stack(x=[a.X, a.Y], axis=1), lambda: np.stack([X, Y], 1)),
    # linear algebra
    "tensordot": (lambda o, a: [o.tensordot(a.X, a.Y, axes=2), o.tensordot(a.CUBE, a.X, axes=([1, 2], [0, 1])),
                                o.tensordot(a.X, a.X, axes=0), o.tensordot(a.CUBE, a.X, axes=([2], [1]))],
                  lambda: [np.tensordot(X, Y, 2), np.tensordot(CUBE, X, ([1, 2], [0, 1])), np.tensordot(X, X, 0),
                           np.tensordot(CUBE, X, ([2], [1]))]),
    "cross": (lambda o, a: [o.cross(a.VEC3, o.flip(a.VEC3, 0)), o.cross(a.VEC3[:, :2], a.VEC3[:, 1:]),
                            o.cross(o.transpose(a.VEC3), o.transpose(o.flip(a.VEC3, 0)), axis=0),
                            o.cross(a.VEC3, a.VEC3[0, :2])],
              lambda: [np.cross(VEC3, VEC3[::-1]), _cross_z(VEC3[:, :2], VEC3[:, 1:]),
                       np.cross(VEC3.T, VEC3[::-1].T, axis=0), np.cross(VEC3, np.append(VEC3[0, :2], 0))]),
    "correlate": (lambda o, a: [o.correlate(a.X[0], a.Y[0, :3]), o.correlate(a.X[0], a.Y[0, :3], mode="same"),
                                o.correlate(a.X[0], a.Y[0, :3], mode="full"), o.correlate(a.Y[0, :3], a.X[0])],
                  lambda: [np.correlate(X[0], Y[0, :3]), np.correlate(X[0], Y[0, :3], "same"),
                           np.correlate(X[0], Y[0, :3], "full"), np.correlate(Y[0, :3], X[0])]),
    "slogdet": (lambda o, a: list(o.slogdet(a.SQUARE)), lambda: list(np.linalg.slogdet(SQUARE))),
    "trapezoid": (lambda o, a: [o.trapezoid(a.X), o.trapezoid(a.X, dx=0.5, axis=0), o.trapezoid(a.X, a.POS)],
                  lambda: [np.trapezoid(X), np.trapezoid(X, dx=0.5, axis=0), np.trapezoid(X, POS)]),
    "vectorize": (lambda o, a: [o.vectorize(lambda u, v: u * v + 1)(a.X, a.SORTED),
                                o.vectorize(lambda row: o.sum(row * row), signature="(n)->()")(a.CUBE)],
                  lambda: [X * SORTED + 1, (CUBE * CUBE).sum(-1)]),
}
# Covered by tests/ops/test_ops.py with the core ops.
CORE = set(("abs add arange argmax argmin broadcast_to ceil clip concatenate cos cumsum divide einsum equal exp "
            "expand_dims eye flip floor full greater greater_equal isnan less less_equal log log1p logical_and "
            "logical_not logical_or matmul max maximum mean min minimum multiply negative not_equal ones ones_like "
            "pad power prod repeat reshape round sign sin size split sqrt square squeeze stack std subtract sum take "
            "take_along_axis tanh tile transpose var where zeros zeros_like").split())


class _Inputs:
    """The inputs as tensors of the active backend."""

    def __init__(self) -> None:
        for name in ("X", "Y", "POS", "UNIT", "INTS", "NATURALS", "COUNTS", "NANX", "SQUARE", "VEC3", "CUBE",
                     "SORTED", "SPECIAL"):
            setattr(self, name, ops.convert_to_tensor(globals()[name]))


def _np(value):
    if isinstance(value, (list, tuple)):
        return [_np(v) for v in value]
    return np.asarray(backend.impl.convert_to_numpy(value))


def test_every_keras_numpy_op_has_a_case():
    tested = {case.split(":")[0] for case in CASES} | {"identity", "diagflat", "empty_like", "full_like", "array",
                                                        "left_shift", "right_shift", "nanpercentile", "percentile",
                                                        "hsplit", "vsplit", "dsplit", "hstack", "vstack", "dstack",
                                                        "moveaxis", "swapaxes", "amin", "tril", "triu", "eye"}
    tested |= {name for case in CASES for name in case.split(":")[0].split("_") if name in numpy_ops.__all__}
    untested = sorted(set(numpy_ops.__all__) - tested - CORE)
    assert untested == [], untested


def _compare(case: str, actual, expected) -> None:
    if not isinstance(expected, list):
        actual, expected = [actual], [expected]
    assert len(actual) == len(expected), f"{case}: {len(actual)} results, expected {len(expected)}"
    for index, (a, e) in enumerate(zip(actual, expected)):
        e, label = np.asarray(e), f"{case}[{index}]"
        assert a.shape == e.shape, f"{label}: shape {a.shape}, expected {e.shape}"
        kinds = {"b": "b", "i": "iu", "u": "iu", "f": "f", "c": "c"}
        assert a.dtype.kind in kinds[e.dtype.kind], f"{label}: dtype {a.dtype}, expected like {e.dtype}"
        if e.dtype == np.float32:
            assert a.dtype == np.float32, f"{label}: dtype {a.dtype}, expected float32"
        if e.dtype.kind in "biu":
            np.testing.assert_array_equal(a, e, err_msg=label)
        else:
            np.testing.assert_allclose(a.astype("float64"), e.astype("float64"), rtol=2e-5, atol=2e-6,
                                       err_msg=label)


# Output shapes that depend on the values: these run eagerly; on jax every other case runs inside one jax.jit
# (which also shows that they trace; and one compilation is much cheaper than one per op).
EAGER_ONLY = {"nonzero", "where", "unique", "unique:unsorted", "unique:axis", "bincount", "bincount:weights", "histogram"}


def _run_cases(names, inputs):
    """case -> its result, or the exception it raised."""
    results = {}
    for case in names:
        try:
            results[case] = CASES[case][0](ops, inputs)
        except Exception as error:  # reported per case
            results[case] = error
    return results


def _results(backend_name: str) -> dict:
    inputs = _Inputs()
    if backend_name != "jax":
        return _run_cases(CASES, inputs)
    import jax

    traced = [case for case in CASES if case not in EAGER_ONLY]
    errors = {}

    def run_all(arrays):
        traced_inputs = _Inputs.__new__(_Inputs)
        vars(traced_inputs).update(arrays)
        results = _run_cases(traced, traced_inputs)
        errors.update({case: result for case, result in results.items() if isinstance(result, Exception)})
        return {case: result for case, result in results.items() if case not in errors}

    results = jax.jit(run_all)(vars(inputs))
    return {**results, **errors, **_run_cases(EAGER_ONLY, inputs)}


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_values_match_numpy(backend_name: str) -> None:
    """Every case on one backend; the failures of all cases are reported together."""
    failures = []
    with np.errstate(all="ignore"), backend.use(backend_name):
        for case, result in _results(backend_name).items():
            try:
                if isinstance(result, Exception):
                    raise result
                _compare(case, _np(result), CASES[case][1]())
            except Exception as error:  # collected, so that one run shows every broken op
                failures.append(f"{case}: {type(error).__name__}: {str(error).strip().splitlines()[0]}")
    assert not failures, "\n".join(failures)


# name -> (function of one float tensor `t` and the ops module, input)
GRADIENTS = {
    "arctan2": (lambda o, t: o.arctan2(t, 1.5), X),
    "logaddexp": (lambda o, t: o.logaddexp(t, 2 * t), X),
    "hypot": (lambda o, t: o.hypot(t, 1.0), X),
    "cbrt": (lambda o, t: o.cbrt(t), POS),
    "sinc": (lambda o, t: o.sinc(t), X),
    "median": (lambda o, t: o.median(t, axis=1), X),
    "quantile": (lambda o, t: o.quantile(t, 0.3, axis=0), X),
    "nanmean": (lambda o, t: o.nanmean(t * 2, axis=1), X),
    "cumprod": (lambda o, t: o.cumprod(t, axis=1), POS),
    "divide_no_nan": (lambda o, t: o.divide_no_nan(t, o.where(t > 0, t, 0.0)), X),
    "cross": (lambda o, t: o.cross(t[:, :3], t[:, 1:]), X),
    "tensordot": (lambda o, t: o.tensordot(t, t, axes=([1], [1])), X),
    "trapezoid": (lambda o, t: o.trapezoid(t, axis=0), X),
    "linspace": (lambda o, t: o.linspace(t[0], t[1], 5), X),
    "sort": (lambda o, t: o.sort(t, axis=0) * o.arange(3.0)[:, None], X),
    "pad:reflect": (lambda o, t: o.pad(t, ((1, 1), (2, 2)), mode="reflect"), X),
}


def _torch_gradient(fn, value):
    import torch

    with backend.use("torch"):
        tensor = torch.tensor(value, requires_grad=True)
        weights = torch.tensor(rng_weights(fn, value))
        (gradient,) = torch.autograd.grad((fn(ops, tensor) * weights).sum(), tensor)
        return gradient.numpy()


def _jax_gradient(fn, value):
    import jax
    import jax.numpy as jnp

    with backend.use("jax"):
        weights = jnp.asarray(rng_weights(fn, value))
        return np.asarray(jax.grad(lambda t: (fn(ops, t) * weights).sum())(jnp.asarray(value)))


def rng_weights(fn, value):
    """Fixed weights for the outputs, so that no gradient cancels in a plain sum."""
    with backend.use("numpy"):
        shape = np.shape(fn(ops, value))
    return np.random.default_rng(0).uniform(0.5, 1.5, size=shape).astype("float32")


@pytest.mark.parametrize("case", list(GRADIENTS))
def test_gradients_are_finite_and_agree(case: str) -> None:
    fn, value = GRADIENTS[case]
    torch_gradient, jax_gradient = _torch_gradient(fn, value), _jax_gradient(fn, value)
    for gradient in (torch_gradient, jax_gradient):
        assert gradient.shape == value.shape and np.all(np.isfinite(gradient)) and np.any(gradient != 0)
    np.testing.assert_allclose(torch_gradient, jax_gradient, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_bad_arguments_are_named(backend_name: str) -> None:
    with backend.use(backend_name):
        with pytest.raises(ValueError, match="split"):
            ops.hsplit(X, 3)
        with pytest.raises(ValueError, match="select"):
            ops.select([X > 0], [X, Y])
        with pytest.raises(ValueError, match="average"):
            ops.average(X, axis=0, weights=np.ones(4, "float32"))
        with pytest.raises(ValueError, match="sparse"):
            ops.bincount(COUNTS, sparse=True)


def test_data_dependent_ops_run_eagerly_and_jit_with_static_sizes() -> None:
    import jax

    with backend.use("jax"):
        np.testing.assert_array_equal(_np(jax.jit(lambda x: ops.unique(x, size=4))(COUNTS)), [0, 1, 3, 5])
        assert [a.tolist() for a in _np(ops.nonzero(COUNTS))] == [[1, 2, 3, 4, 5]]
