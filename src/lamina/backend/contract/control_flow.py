"""keras.ops' control flow and gradients (cond, while_loop, scan, fori_loop, switch, custom_gradient), and
its functional tensor updates (scatter, slice_update, ...).

On jax every loop and branch is a lax primitive and traces inside jax.jit; torch and numpy run them as
Python, reading predicates on the host.
"""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

CONTROL_FLOW = (
    Entry("cond", "cond(pred, true_fn, false_fn)", "true_fn() if pred else false_fn()"),
    Entry("switch", "switch(index, branches, *operands)", "branches[index](*operands), index clamped into range"),
    Entry("while_loop", "while_loop(cond, body, loop_vars, maximum_iterations=None)",
          "loop_vars = body(*loop_vars) while cond(*loop_vars), at most maximum_iterations times"),
    Entry("fori_loop", "fori_loop(lower, upper, body_fun, init_val)",
          "val = body_fun(i, val) for i from lower to upper - 1, starting from init_val"),
    Entry("scan", "scan(f, init, xs=None, length=None, reverse=False, unroll=1)",
          "carry, y = f(carry, x) over the leading axis of xs: the final carry and the stacked ys"),
    Entry("map", "map(f, xs)", "f over the leading axis of xs, the results stacked"),
    Entry("vectorized_map", "vectorized_map(function, elements)",
          "function over the leading axis of elements, vectorized where the backend can"),
    Entry("associative_scan", "associative_scan(f, elems, reverse=False, axis=0)",
          "the inclusive prefix combination of elems along axis by an associative f"),
    Entry("custom_gradient", "custom_gradient(f)",
          "f(*args) -> (output, grad_fn) made a function whose gradient is grad_fn(upstream); numpy drops it"),
)

TENSOR_UPDATES = (
    Entry("scatter", "scatter(indices, values, shape)", "zeros of shape with values added at indices (N, k)"),
    Entry("scatter_update", "scatter_update(inputs, indices, updates, reduction=None)",
          "inputs with the entries at indices set to updates, or combined by reduction (add, max, min, mul)"),
    Entry("slice", "slice(inputs, start_indices, shape)", "the block of inputs of shape from start_indices"),
    Entry("slice_update", "slice_update(inputs, start_indices, updates)",
          "inputs with the block from start_indices replaced by updates"),
    Entry("unstack", "unstack(x, num=None, axis=0)", "the slices of x along axis, as a list"),
    Entry("saturate_cast", "saturate_cast(x, dtype)", "x cast to dtype, clipped to dtype's range first"),
)

ENTRIES: tuple[Entry, ...] = (*CONTROL_FLOW, *TENSOR_UPDATES)
