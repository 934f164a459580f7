"""The rest of keras.ops.nn: activations, losses and helpers beyond base.py."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ACTIVATIONS = (
    *(Entry(name, f"{name}(x)", meaning) for name, meaning in (
        ("hard_silu", "x * hard_sigmoid(x)"), ("hard_swish", "hard_silu under its other name"),
        ("hard_tanh", "clip(x, -1, 1)"), ("log_sigmoid", "log(sigmoid(x)), computed stably"),
        ("sparse_plus", "0 for x <= -1, (x + 1)**2 / 4 for |x| < 1, x for x >= 1"),
        ("sparse_sigmoid", "0 for x <= -1, (x + 1) / 2 for |x| < 1, 1 for x >= 1"),
        ("tanh_shrink", "x - tanh(x)"), ("swish", "silu under its other name"))),
    Entry("celu", "celu(x, alpha=1.0)", "max(x, 0) + alpha * (e**(min(x, 0) / alpha) - 1)"),
    Entry("glu", "glu(x, axis=-1)", "a * sigmoid(b) for the two halves a, b of x along axis"),
    Entry("hard_shrink", "hard_shrink(x, threshold=0.5)", "x where |x| > threshold, else 0"),
    Entry("soft_shrink", "soft_shrink(x, threshold=0.5)", "x moved threshold towards 0, and 0 within threshold of it"),
    Entry("squareplus", "squareplus(x, b=4)", "(x + sqrt(x**2 + b)) / 2"),
    Entry("threshold", "threshold(x, threshold, default_value)", "x where x > threshold, else default_value"),
    Entry("sparsemax", "sparsemax(x, axis=-1)", "the Euclidean projection of x onto the probability simplex"),
    Entry("polar", "polar(abs_, angle)", "the complex numbers of these magnitudes and angles"),
)

LOSSES = (
    Entry("ctc_loss", "ctc_loss(target, output, target_length, output_length, mask_index=0)",
          "the connectionist temporal classification loss per sample, from logits (batch, time, classes) and "
          "padded integer labels (batch, max_label_length)"),
    Entry("ctc_greedy_decode", "ctc_greedy_decode(inputs, sequence_lengths, merge_repeated=True, mask_index=0)",
          "the best path of logits (batch, time, classes) as labels (1, batch, time) padded with -1, and minus "
          "the sum of the chosen logits (batch, 1)"),
)

PATCHES = (
    Entry("unfold", "unfold(x, kernel_size, dilation=1, padding=0, stride=1)",
          "the sliding blocks of an NCHW batch as (batch, channels * kernel positions, blocks)"),
    Entry("fold", "fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1)",
          "unfold's inverse: the blocks summed back into an NCHW batch of output_size"),
)

# What the layers wrapping a backend's own models need (TorchModuleWrapper, JaxLayer); the other training
# backend provides them too, raising a clear error or working on its own nested structures.
FOREIGN_MODELS = (
    Entry("wrap_module_parameters", "wrap_module_parameters(module, input_shape=None)",
          "a torch module's parameters and buffers replaced in place by Variables, as (state_dict key, Variable) "
          "pairs; lazy parameters first made on zeros of input_shape (None while they cannot be made)",
          inference=False),
    Entry("call_module", "call_module(module, args, kwargs, training=None)",
          "a torch module's forward, in training mode unless training is False", inference=False),
    Entry("flatten_pytree", "flatten_pytree(tree)",
          "the leaves of a nested structure and the definition that rebuilds it", inference=False),
    Entry("unflatten_pytree", "unflatten_pytree(treedef, leaves)",
          "the structure of flatten_pytree's definition holding these leaves", inference=False),
)

ENTRIES: tuple[Entry, ...] = (*ACTIVATIONS, *LOSSES, *PATCHES, *FOREIGN_MODELS)
