"""Tensors, variables, the core numpy-like ops, activations, losses' building blocks, optimizer updates and the step."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

BACKEND = (
    Entry("NAME", None, 'the backend\'s name: "torch", "jax" or "numpy"'),
    Entry("device_name", "device_name()", 'the device tensors are placed on, for display ("cpu", "cuda:0", ...)'),
)

TENSORS = (
    Entry("convert_to_tensor", "convert_to_tensor(x, dtype=None)",
          "x as a tensor on the backend's device; float64 input becomes float32 unless dtype says otherwise"),
    Entry("convert_to_numpy", "convert_to_numpy(x)", "x as a NumPy array on the host"),
    Entry("is_tensor", "is_tensor(x)", "whether x is already a tensor of this backend"),
    Entry("cast", "cast(x, dtype)", "x as a tensor of dtype"),
    Entry("dtype_of", "dtype_of(x)", 'the Keras name of x\'s dtype ("float32", "int64", ...)'),
    Entry("shape", "shape(x)", "x's shape as a tuple, read without converting x (arrays, lists of arrays too)"),
    Entry("size", "size(x)", "the number of elements of x, read without converting x"),
    Entry("stop_gradient", "stop_gradient(x)", "x, seen as a constant by gradients"),
    Entry("autocast", "autocast(dtype)",
          "a context manager for a mixed-precision layer: within it float variables are read, and matmuls and "
          "convolutions run, in dtype (None: as stored); numpy computes in the stored dtype"),
)

VARIABLE = (
    Entry("Variable", "Variable(value, dtype=None, trainable=True, name=None, path=None)",
          "a named, assignable tensor: a layer's weight, an optimizer slot, a metric total"),
    Entry("Variable.value", None, "the tensor the variable holds now"),
    Entry("Variable.assign", "assign(value)", "make the variable hold value (same shape and dtype)"),
    Entry("Variable.assign_add", "assign_add(delta)", "variable += delta"),
    Entry("Variable.assign_sub", "assign_sub(delta)", "variable -= delta"),
    Entry("Variable.numpy", "numpy()", "the value as a NumPy array"),
    Entry("Variable.trainable", None, "whether gradients update it (settable)"),
    Entry("Variable.name", None, 'its short name ("kernel")'),
    Entry("Variable.path", None, 'where it lives in the model ("dense/kernel")'),
    Entry("Variable.shape", None, "its shape"),
    Entry("Variable.dtype", None, "its dtype"),
)

ARRAY_CREATION = (
    Entry("zeros", 'zeros(shape, dtype="float32")', "a tensor of zeros"),
    Entry("ones", 'ones(shape, dtype="float32")', "a tensor of ones"),
    Entry("full", 'full(shape, fill_value, dtype="float32")', "a tensor filled with fill_value"),
    Entry("zeros_like", "zeros_like(x, dtype=None)", "zeros of x's shape (and dtype unless given)"),
    Entry("ones_like", "ones_like(x, dtype=None)", "ones of x's shape (and dtype unless given)"),
    Entry("arange", "arange(start, stop=None, step=1, dtype=None)", "evenly spaced values, as numpy.arange"),
    Entry("eye", 'eye(N, M=None, k=0, dtype="float32")', "an N x M matrix (N x N when M is None) with ones on diagonal k"),
    Entry("one_hot", 'one_hot(x, num_classes, dtype="float32")', "integer labels x as one-hot vectors on a new last axis"),
)

ELEMENTWISE = (
    *(Entry(name, f"{name}(x)", meaning) for name, meaning in (
        ("abs", "|x|"), ("negative", "-x"), ("exp", "e**x"), ("log", "natural logarithm"), ("log1p", "log(1 + x)"),
        ("sqrt", "square root"), ("square", "x * x"), ("sign", "-1, 0 or 1 by the sign of x"),
        ("floor", "round down"), ("ceil", "round up"), ("sin", "sine"),
        ("cos", "cosine"), ("tanh", "hyperbolic tangent"), ("logical_not", "boolean not"),
        ("isnan", "whether each element is NaN"))),
    *(Entry(name, f"{name}(x1, x2)", f"{meaning}; either operand may be a Python number, promoted as NumPy "
                                     "promotes a scalar and never copied to the device per call")
      for name, meaning in (
          ("add", "x1 + x2"), ("subtract", "x1 - x2"), ("multiply", "x1 * x2"), ("divide", "x1 / x2, true division"),
          ("power", "x1 ** x2"), ("maximum", "elementwise maximum (NaN wins)"),
          ("minimum", "elementwise minimum (NaN wins)"), ("equal", "x1 == x2"), ("not_equal", "x1 != x2"),
          ("greater", "x1 > x2"), ("greater_equal", "x1 >= x2"), ("less", "x1 < x2"), ("less_equal", "x1 <= x2"),
          ("logical_and", "boolean and"), ("logical_or", "boolean or"))),
    Entry("round", "round(x, decimals=0)", "round half to even, to decimals places"),
    Entry("clip", "clip(x, x_min, x_max)", "x limited to [x_min, x_max]"),
    Entry("where", "where(condition, x1=None, x2=None)",
          "x1 where condition holds, else x2; with neither, the indices where it holds (as nonzero, eager only)"),
)

REDUCTIONS = (
    *(Entry(name, f"{name}(x, axis=None, keepdims=False)", meaning) for name, meaning in (
        ("sum", "sum over axis (all axes when None)"), ("mean", "mean over axis; integers give float32"),
        ("var", "population variance over axis"),
        ("std", "population standard deviation over axis"), ("argmax", "index of the maximum along one axis (flat when None)"),
        ("argmin", "index of the minimum along one axis (flat when None)"))),
    Entry("prod", "prod(x, axis=None, keepdims=False, dtype=None)", "product over axis, computed in dtype when given"),
    *(Entry(name, f"{name}(x, axis=None, keepdims=False, initial=None)", meaning) for name, meaning in (
        ("max", "maximum over axis, at least initial when given"),
        ("min", "minimum over axis, at most initial when given"))),
    Entry("cumsum", "cumsum(x, axis=None, dtype=None)", "running sum along axis (of the flattened x when None)"),
)

LINEAR_ALGEBRA = (
    Entry("matmul", "matmul(x1, x2)", "matrix product, batched over leading axes"),
    Entry("einsum", "einsum(subscripts, *operands, **kwargs)", "Einstein summation, as numpy.einsum"),
)

SHAPES_AND_INDEXING = (
    Entry("reshape", "reshape(x, newshape)", "x with a new shape of the same size (-1 inferred)"),
    Entry("transpose", "transpose(x, axes=None)", "x with its axes permuted (reversed when None)"),
    Entry("expand_dims", "expand_dims(x, axis)", "x with a new axis of length 1"),
    Entry("squeeze", "squeeze(x, axis=None)", "x without axes of length 1 (only axis, when given)"),
    Entry("concatenate", "concatenate(xs, axis=0)", "tensors joined along an existing axis"),
    Entry("stack", "stack(x, axis=0)", "tensors joined along a new axis"),
    Entry("split", "split(x, indices_or_sections, axis=0)", "x cut into equal sections, or at the given indices"),
    Entry("tile", "tile(x, repeats)", "x repeated as a whole along each axis"),
    Entry("repeat", "repeat(x, repeats, axis=None)", "each element repeated along axis (flattened when None)"),
    Entry("broadcast_to", "broadcast_to(x, shape)", "x broadcast to shape"),
    Entry("take", "take(x, indices, axis=None)", "elements at indices along axis; negative indices count from the end"),
    Entry("take_along_axis", "take_along_axis(x, indices, axis)", "elements picked by an index array of x's rank"),
    Entry("pad", 'pad(x, pad_width, mode="constant", constant_values=None)',
          "x padded by (before, after) per axis; mode constant (with constant_values, 0 when None), reflect, "
          "symmetric, edge or wrap"),
    Entry("flip", "flip(x, axis=None)", "x reversed along axis (all axes when None)"),
)

NN = (
    *(Entry(name, f"{name}(x)", meaning) for name, meaning in (
        ("relu", "max(x, 0)"), ("relu6", "min(max(x, 0), 6)"), ("selu", "scaled exponential linear unit"),
        ("silu", "x * sigmoid(x)"), ("softplus", "log(1 + e**x)"), ("softsign", "x / (1 + |x|)"),
        ("hard_sigmoid", "piecewise linear sigmoid, clip(x / 6 + 0.5, 0, 1)"),
        ("sigmoid", "1 / (1 + e**-x); the output remembers x for logits_of"))),
    Entry("elu", "elu(x, alpha=1.0)", "x for x > 0, alpha * (e**x - 1) otherwise"),
    Entry("leaky_relu", "leaky_relu(x, negative_slope=0.2)", "x for x > 0, negative_slope * x otherwise"),
    Entry("gelu", "gelu(x, approximate=True)", "Gaussian error linear unit (tanh approximation when approximate)"),
    Entry("softmax", "softmax(x, axis=-1)", "normalized exponentials along axis; the output remembers x for logits_of"),
    Entry("log_softmax", "log_softmax(x, axis=-1)", "log of softmax, computed stably"),
    Entry("logits_of", 'logits_of(probabilities, activation="softmax", axis=-1)',
          "the logits that softmax or sigmoid turned into exactly these probabilities, else None"),
    Entry("dense", "dense(x, kernel, bias)", "x @ kernel + bias (bias may be None), fused where the backend can"),
    Entry("dropout", "dropout(x, rate, seed)",
          "x with a fraction rate of elements zeroed and the rest scaled by 1 / (1 - rate); seed is a SeedGenerator"),
    Entry("categorical_crossentropy", "categorical_crossentropy(target, output, from_logits=False, axis=-1)",
          "cross-entropy of one-hot targets, per sample"),
    Entry("sparse_categorical_crossentropy",
          "sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1)",
          "cross-entropy of integer targets, per sample"),
    Entry("binary_crossentropy", "binary_crossentropy(target, output, from_logits=False)",
          "binary cross-entropy, per element"),
)

SYMBOLIC = (
    Entry("compute_output_spec", "compute_output_spec(fn, shapes_and_dtypes)",
          "run fn on placeholders of these (shape, dtype) pairs without computing anything; the outputs' shapes "
          "and dtypes"),
)

OPTIMIZER = (
    Entry("foreach_add", "foreach_add(xs, ys, alpha=1.0)", "[x + alpha * y]; ys may be one scalar for all", False),
    Entry("foreach_mul", "foreach_mul(xs, ys)", "[x * y]; ys may be one scalar for all", False),
    Entry("foreach_div", "foreach_div(xs, ys)", "[x / y]; ys may be one scalar for all", False),
    Entry("foreach_sqrt", "foreach_sqrt(xs)", "[sqrt(x)]", False),
    Entry("foreach_lerp", "foreach_lerp(xs, ys, weight)", "[x + weight * (y - x)], the moving average", False),
    Entry("foreach_maximum", "foreach_maximum(xs, ys)", "[maximum(x, y)]", False),
    Entry("foreach_abs", "foreach_abs(xs)", "[abs(x)]", False),
    Entry("foreach_sign", "foreach_sign(xs)", "[sign(x)]", False),
    Entry("foreach_pow", "foreach_pow(xs, exponent)", "[x ** exponent] for one scalar exponent", False),
    Entry("foreach_clip", "foreach_clip(xs, low, high)", "[clip(x, low, high)] for scalar bounds", False),
    Entry("foreach_norm", "foreach_norm(xs)", "the L2 norm of each tensor, as one 1-D tensor of len(xs)", False),
    Entry("foreach_clip_by_norm", "foreach_clip_by_norm(xs, max_norm)",
          "each tensor scaled so that its own L2 norm is at most max_norm", False),
    Entry("foreach_assign", "foreach_assign(variables, values)", "every variable made to hold its value", False),
    Entry("global_norm", "global_norm(xs)", "the L2 norm of all tensors taken together", False),
    Entry("assign_add", "assign_add(variables, values, alpha=1.0)", "v += alpha * value for every variable", False),
    Entry("assign_mul", "assign_mul(variables, factor)", "v *= factor for every variable", False),
    Entry("assign_lerp", "assign_lerp(variables, targets, weight)", "v += weight * (target - v)", False),
    Entry("assign_addcmul", "assign_addcmul(variables, first, second, value)", "v += value * first * second", False),
    Entry("assign_add_ratio", "assign_add_ratio(variables, numerators, denominators, scale)",
          "v += scale * numerator / denominator (the denominators may be consumed)", False),
    Entry("adam_update", "adam_update(variables, grads, momentums, velocities, velocity_maxima, learning_rate, "
          "iterations, beta_1, beta_2, epsilon, weight_decay=0.0)",
          "one Adam (AMSGrad with velocity_maxima) step in place, in Keras's formulation, after Keras's decoupled "
          "weight decay when given; fused where possible", False),
    Entry("sgd_update", "sgd_update(variables, grads, momentums, learning_rate, momentum=0.0, nesterov=False)",
          "one SGD step in place (with momentum when momentums is a list), in Keras's formulation; fused where "
          "possible", False),
    Entry("adagrad_update",
          "adagrad_update(variables, grads, accumulators, learning_rate, epsilon, initial_accumulator_value=0.0)",
          "one Adagrad step in place, in Keras's formulation (epsilon inside the square root); fused where possible",
          False),
    Entry("foreach_where", "foreach_where(condition, xs, ys)",
          "[where(condition, x, y)] for one boolean scalar condition; ys may be one scalar for all", False),
)

# The step written once above the seam (lamina/trainers/step.py) is stateless: it takes the values of
# every variable group and returns the new ones, so that jax can jit it and torch can capture it whole.
STEP = (
    Entry("value_and_grad", "value_and_grad(fn)",
          "fn(trainable_values) -> (loss, aux) becomes a function giving ((loss, aux), gradients)", False),
    Entry("StateScope", "StateScope(variables, values)",
          "a context manager: within it the variables hold the given values (traced ones inside a jitted step)"),
    Entry("StateScope.current", "current(variables)", "the values these variables hold now, within the scope"),
    Entry("state_values", "state_values(variables)", "the values a step takes for these variables"),
    Entry("clear_gradients", "clear_gradients(variables)",
          "forget the gradients a backward pass left on these variables (torch's .grad); elsewhere nothing", False),
    Entry("store_state", "store_state(variables, values)", "make the variables hold the values a step returned",
          False),
    Entry("compile_step", 'compile_step(step_fn, mode="auto", donate_state=False)',
          "step_fn(state, batch) -> (state, output) compiled or captured as mode says (auto, eager, jit); the "
          "result runs one step (its batch may hold NumPy arrays), or with .over_rows(state, data, order, offset, steps, batch_size) several "
          "steps on batches selected on the device"),
    Entry("steps_per_call", "steps_per_call(requested)", "how many steps one call of a compiled step runs"),
    Entry("no_grad", "no_grad()", "a context manager in which no gradients are recorded"),
)
