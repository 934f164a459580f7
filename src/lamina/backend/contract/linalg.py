"""keras.ops.linalg (decompositions, solves, norms), and keras.ops' math family (special functions,
segment reductions, top-k), which the backends keep in their math module."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

LINALG = (
    Entry("cholesky", "cholesky(x, upper=False)", "the Cholesky factor of a Hermitian positive-definite x (lower "
          "unless upper)"),
    Entry("cholesky_inverse", "cholesky_inverse(x, upper=False)", "the inverse of the matrix whose Cholesky factor "
          "is x"),
    Entry("det", "det(x)", "the determinant of square x, batched"),
    Entry("eig", "eig(x)", "the (complex) eigenvalues and eigenvectors of square x"),
    Entry("eigh", "eigh(x)", "the eigenvalues (ascending) and eigenvectors of Hermitian x"),
    Entry("inv", "inv(x)", "the inverse of square x"),
    Entry("lu_factor", "lu_factor(x)", "the packed LU factors of x and its row pivots, counted from 0"),
    Entry("matrix_rank", "matrix_rank(x, tol=None)", "the number of singular values above tol (a default by dtype)"),
    Entry("norm", "norm(x, ord=None, axis=None, keepdims=False)", "a vector or matrix norm, as numpy.linalg.norm"),
    Entry("pinv", "pinv(x, rcond=None)", "the Moore-Penrose pseudo-inverse"),
    Entry("qr", "qr(x, mode=\"reduced\")", "the QR decomposition (q, r)"),
    Entry("solve", "solve(a, b)", "x with a @ x = b"),
    Entry("solve_triangular", "solve_triangular(a, b, lower=False)", "x with a @ x = b for a triangular a"),
    Entry("svd", "svd(x, full_matrices=True, compute_uv=True)", "(u, s, vh), or only s unless compute_uv"),
    Entry("lstsq", "lstsq(a, b, rcond=None)", "the least-squares solution x of a @ x = b"),
    Entry("jvp", "jvp(fun, primals, tangents, has_aux=False)",
          "(fun(*primals), the forward-mode derivative along tangents), and fun's auxiliary output when has_aux",
          False),
)

MATH = (
    *(Entry(name, f"{name}(x)", meaning) for name, meaning in (
        ("erf", "the error function"), ("erfc", "1 - erf(x)"), ("erfinv", "the inverse of erf"),
        ("rsqrt", "1 / sqrt(x)"), ("logdet", "log det x of a Hermitian positive-definite x"))),
    Entry("logsumexp", "logsumexp(x, axis=None, keepdims=False)", "log(sum(e**x)) over axis, computed stably"),
    Entry("cdist", "cdist(x, y)", "Euclidean distances between the rows of x (..., m, d) and y (..., n, d)"),
    Entry("top_k", "top_k(x, k, sorted=True)", "the k largest values along the last axis and their indices"),
    Entry("in_top_k", "in_top_k(targets, predictions, k)",
          "whether each target's prediction is among the k largest of its row"),
    Entry("extract_sequences", "extract_sequences(x, sequence_length, sequence_stride)",
          "frames of sequence_length along the last axis, every sequence_stride"),
    *(Entry(f"segment_{name}", f"segment_{name}(data, segment_ids, num_segments=None, sorted=False)",
            f"the {name} of data's rows by segment id (the identity of {name} for an empty segment; ids out of "
            f"range dropped)") for name in ("sum", "prod", "max", "min")),
)

ENTRIES: tuple[Entry, ...] = (*LINALG, *MATH)
