"""The rest of keras.ops.numpy beyond the core set in base.py.

Ops whose output shape depends on the values (nonzero, unique without size, bincount without
minlength, histogram's range) run eagerly; under jax.jit they need the static arguments jax asks for.
"""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

_SCALAR_NOTE = "; either operand may be a Python number"

UNARY = tuple(Entry(name, f"{name}(x)", meaning) for name, meaning in (
    ("arccos", "inverse cosine"), ("arccosh", "inverse hyperbolic cosine"), ("arcsin", "inverse sine"),
    ("arcsinh", "inverse hyperbolic sine"), ("arctan", "inverse tangent"),
    ("arctanh", "inverse hyperbolic tangent"), ("cosh", "hyperbolic cosine"), ("sinh", "hyperbolic sine"),
    ("tan", "tangent"), ("cbrt", "cube root, negative for negative x"), ("deg2rad", "degrees to radians"),
    ("rad2deg", "radians to degrees"), ("exp2", "2**x"), ("expm1", "e**x - 1, accurate near 0"),
    ("log10", "base-10 logarithm"), ("log2", "base-2 logarithm"), ("reciprocal", "1 / x"),
    ("trunc", "round toward zero"), ("sinc", "sin(pi x) / (pi x), 1 at 0"),
    ("i0", "modified Bessel function of the first kind, order 0"),
    ("signbit", "whether the sign bit is set (true for -0.0)"), ("isfinite", "whether each element is finite"),
    ("isinf", "whether each element is infinite"), ("isneginf", "whether each element is -inf"),
    ("isposinf", "whether each element is +inf"), ("angle", "the complex argument (0 or pi for reals)"),
    ("conj", "complex conjugate (x itself for reals)"), ("real", "the real part"),
    ("imag", "the imaginary part (zeros for reals)"), ("isreal", "whether each element has no imaginary part"),
    ("bitwise_not", "bitwise inversion of integers, logical not of booleans"), ("copy", "a copy of x"),
    ("bartlett", "the Bartlett window of x points, float32"), ("blackman", "the Blackman window of x points"),
    ("hamming", "the Hamming window of x points"), ("hanning", "the Hann window of x points"),
    ("nonzero", "a tuple of index arrays, one per axis, of the nonzero elements; eager only"),
    ("corrcoef", "Pearson correlation coefficients of the rows of x"),
    ("slogdet", "(sign, log|det|) of square matrices, batched over leading axes"),
))

BINARY = tuple(Entry(name, f"{name}(x1, x2)", meaning + _SCALAR_NOTE) for name, meaning in (
    ("arctan2", "angle of the point (x2, x1), quadrant-aware"), ("floor_divide", "x1 // x2, rounding down"),
    ("fmax", "elementwise maximum, ignoring NaN"), ("fmin", "elementwise minimum, ignoring NaN"),
    ("fmod", "remainder with the sign of x1 (C fmod)"), ("mod", "remainder with the sign of x2 (Python %)"),
    ("gcd", "greatest common divisor of integers"), ("lcm", "least common multiple of integers"),
    ("heaviside", "0 for x1 < 0, 1 for x1 > 0, x2 where x1 == 0"), ("hypot", "sqrt(x1**2 + x2**2)"),
    ("ldexp", "x1 * 2**x2"), ("logaddexp", "log(e**x1 + e**x2), computed stably"),
    ("logaddexp2", "log2(2**x1 + 2**x2), computed stably"), ("logical_xor", "boolean exclusive or"),
    ("nextafter", "the next float after x1 toward x2"), ("kron", "Kronecker product"),
    ("outer", "outer product of the flattened inputs"), ("inner", "sum product over the last axes"),
    ("dot", "numpy.dot: products of scalars, vectors, matrices, or over x1's last and x2's second-last axis"),
    ("vdot", "dot product of the flattened inputs, conjugating x1"),
))

BITWISE = tuple(Entry(name, f"{name}(x, y)", meaning + _SCALAR_NOTE) for name, meaning in (
    ("bitwise_and", "bitwise and of integers or booleans"), ("bitwise_or", "bitwise or of integers or booleans"),
    ("bitwise_xor", "bitwise exclusive or of integers or booleans"),
    ("bitwise_left_shift", "x shifted left by y bits"), ("bitwise_right_shift", "x shifted right by y bits"),
))

_NAN = "ignoring NaN; NaN where a slice is all NaN"
REDUCTIONS = (
    *(Entry(name, f"{name}(x, axis=None, keepdims=False)", meaning) for name, meaning in (
        ("all", "whether every element is true along axis"), ("any", "whether some element is true along axis"),
        ("median", "median along axis, averaging the middle pair"),
        ("nanmax", f"maximum {_NAN}"), ("nanmin", f"minimum {_NAN}"), ("nanmean", f"mean {_NAN}"),
        ("nanmedian", f"median {_NAN}"), ("nanvar", f"population variance {_NAN}"),
        ("nanstd", f"population standard deviation {_NAN}"), ("nansum", "sum treating NaN as 0"),
        ("nanprod", "product treating NaN as 1"), ("nanargmax", "index of the maximum, ignoring NaN"),
        ("nanargmin", "index of the minimum, ignoring NaN"))),
    Entry("count_nonzero", "count_nonzero(x, axis=None)", "the number of nonzero elements along axis"),
    *(Entry(name, f'{name}(x, q, axis=None, method="linear", keepdims=False)', meaning) for name, meaning in (
        ("quantile", "q-th quantiles (q in [0, 1]) along axis; method linear, lower, higher, midpoint or nearest; "
                     "q's axes come first"),
        ("nanquantile", "quantile ignoring NaN"))),
    *(Entry(name, f"{name}(x, axis=None, dtype=None)", meaning) for name, meaning in (
        ("cumprod", "running product along axis (of the flattened x when None)"),
        ("nancumsum", "running sum treating NaN as 0"), ("nancumprod", "running product treating NaN as 1"))),
    Entry("nan_to_num", "nan_to_num(x, nan=0.0, posinf=None, neginf=None)",
          "x with NaN, +inf and -inf replaced (infinities by the dtype's extremes when None)"),
    Entry("isclose", "isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False)",
          "whether |x1 - x2| <= atol + rtol * |x2| elementwise"),
    Entry("allclose", "allclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False)",
          "whether isclose holds everywhere, as a boolean scalar tensor"),
)

SORTING_AND_SEARCHING = (
    Entry("sort", "sort(x, axis=-1)", "x sorted along axis (flattened when None)"),
    Entry("argsort", "argsort(x, axis=-1)", "the indices that sort x along axis, stable"),
    Entry("argpartition", "argpartition(x, kth, axis=-1)",
          "indices putting the kth element in its sorted place, smaller ones before and larger after"),
    Entry("searchsorted", 'searchsorted(sorted_sequence, values, side="left")',
          "where values would be inserted in a sorted 1-D sequence to keep it sorted"),
    Entry("digitize", "digitize(x, bins)", "the index i of the bin with bins[i-1] <= x < bins[i], increasing bins"),
    Entry("isin", "isin(x1, x2, assume_unique=False, invert=False)", "whether each element of x1 occurs in x2"),
    Entry("bincount", "bincount(x, weights=None, minlength=0, sparse=False)",
          "counts (or summed weights) of each non-negative integer in 1-D x; length max(x) + 1 or minlength; "
          "sparse output is not supported"),
    Entry("histogram", "histogram(x, bins=10, range=None)",
          "(counts, bin edges) of x over bins equal bins spanning range (x's min and max when None)"),
    Entry("unique", "unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False, "
                    "axis=None, size=None, fill_value=None)",
          "the distinct elements (or slices along axis), with first indices, inverse and counts on request; "
          "size pads or cuts them to a fixed length (needed under jax.jit); eager otherwise"),
)

CREATION = (
    Entry("tri", 'tri(N, M=None, k=0, dtype="float32")', "an N x M matrix with ones at and below diagonal k"),
    Entry("linspace", "linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0)",
          "num evenly spaced values from start to stop (array bounds add an axis); with the step when retstep"),
    Entry("logspace", "logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0)",
          "base ** linspace(start, stop)"),
    Entry("geomspace", "geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0)",
          "num values from start to stop evenly spaced on a log scale"),
    Entry("meshgrid", 'meshgrid(*x, indexing="xy")', "coordinate grids of 1-D arrays, as numpy.meshgrid"),
    Entry("vander", "vander(x, N=None, increasing=False)", "the Vandermonde matrix of the powers of 1-D x"),
    Entry("kaiser", "kaiser(x, beta)", "the Kaiser window of x points with shape parameter beta"),
)

SHAPES_AND_INDEXING = (
    Entry("diag", "diag(x, k=0)", "the diagonal k of a matrix, or a matrix with 1-D x on diagonal k"),
    Entry("diagonal", "diagonal(x, offset=0, axis1=0, axis2=1)", "the diagonal of the axis1/axis2 planes, last"),
    Entry("diff", "diff(a, n=1, axis=-1)", "the n-th discrete difference along axis"),
    Entry("roll", "roll(x, shift, axis=None)", "x shifted cyclically along axis (flattened when None)"),
    Entry("rot90", "rot90(array, k=1, axes=(0, 1))", "array rotated by k quarter turns in the plane of axes"),
    Entry("tril", "tril(x, k=0)", "x with the elements above diagonal k of the last two axes zeroed"),
    Entry("triu", "triu(x, k=0)", "x with the elements below diagonal k of the last two axes zeroed"),
    Entry("view", "view(x, dtype=None)", "x's bytes read as dtype (x itself when None)"),
)

LINEAR_ALGEBRA = (
    Entry("tensordot", "tensordot(x1, x2, axes=2)", "sum products over the given axes, as numpy.tensordot"),
    Entry("cross", "cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None)",
          "cross product of 3-vectors (or 2-vectors, giving the z component); axis overrides the other axes"),
    Entry("correlate", 'correlate(x1, x2, mode="valid")', "cross-correlation of two 1-D arrays (valid, same, full)"),
    Entry("trapezoid", "trapezoid(y, x=None, dx=1.0, axis=-1)", "integral of y along axis by the trapezoid rule"),
)

FUNCTIONS = (
    Entry("vectorize", "vectorize(pyfunc, excluded=None, signature=None)",
          "pyfunc mapped over the leading (broadcast) axes of its array arguments, with numpy.vectorize's "
          "signature for core axes; runs under jit"),
)

ENTRIES: tuple[Entry, ...] = (*UNARY, *BINARY, *BITWISE, *REDUCTIONS, *SORTING_AND_SEARCHING, *CREATION,
                              *SHAPES_AND_INDEXING, *LINEAR_ALGEBRA, *FUNCTIONS)
