"""MultiHeadAttention: scaled dot-product attention over several heads, with Keras's EinsumDense projections."""

from __future__ import annotations

import math
import string
from typing import Any, Sequence

from lamina import backend, constraints, initializers, regularizers
from lamina.layers.attention.masks import (call_masks, causal_mask, expand_mask, input_masks, masked_softmax,
                                           masks_hidden, split_masks)
from lamina.layers.einsum_dense import EinsumDense
from lamina.layers.layer import Layer
from lamina.ops.symbolic import KerasTensor

_LETTERS = string.ascii_lowercase


def projection_equation(free_dims: int, bound_dims: int, output_dims: int) -> tuple[str, str, int]:
    """The einsum of a projection that keeps `free_dims` leading axes, contracts `bound_dims` and makes
    `output_dims` new ones: (equation, bias axes, output rank); e.g. (2, 1, 2) gives "abc,cde->abde"."""
    free = _LETTERS[:free_dims]
    bound = _LETTERS[free_dims:free_dims + bound_dims]
    new = _LETTERS[free_dims + bound_dims:free_dims + bound_dims + output_dims]
    return f"{free}{bound},{bound}{new}->{free}{new}", new, free_dims + output_dims


def attention_equations(rank: int, attention_axes: tuple[int, ...]) -> tuple[str, str]:
    """For projected inputs of `rank` axes (batch, *positions, heads, depth): the einsum giving the scores
    (batch..., heads, *target axes, *source axes) from (key, query), and the one combining scores and value."""
    target = _LETTERS[:rank]
    others = [i for i in range(rank - 1) if i not in attention_axes]  # batch-like axes, the heads among them
    source = list(target)
    for offset, axis in enumerate(attention_axes):
        source[axis] = _LETTERS[rank + offset]
    source = "".join(source)
    product = "".join([target[i] for i in others] + [target[i] for i in attention_axes]
                      + [source[i] for i in attention_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}"


def _shape_of(tensor: Any) -> tuple:
    return tuple(tensor.shape) if isinstance(tensor, KerasTensor) else tuple(backend.impl.shape(tensor))


class QueryValueLayer(Layer):
    """What MultiHeadAttention and GroupQueryAttention share: a call on query, value and an optional key,
    built from all three shapes, with the masks the inputs carry gathered into `mask`."""

    def __call__(self, query: Any, value: Any = None, key: Any = None, **kwargs: Any) -> Any:
        if value is None:
            raise ValueError(f"{type(self).__name__} needs a value (and optionally a key): call it as "
                             "layer(query, value) or layer(query, value, key).")
        if not self.built:
            self.build(_shape_of(query), _shape_of(value), _shape_of(key) if key is not None else None)
            self.built = True
            self._build_shapes = _shape_of(query)
        if "mask" not in kwargs:
            masks = input_masks(query, value, key)
            if masks is not None:
                kwargs["mask"] = masks
        if key is not None:
            kwargs["key"] = key
        return super().__call__(query, value, **kwargs)


class MultiHeadAttention(QueryValueLayer):
    """Multi-head attention (Vaswani et al.): query, key and value are projected to `num_heads` heads by
    EinsumDense sublayers (kernels (dim, heads, key_dim), output kernel (heads, value_dim, dim)), attend
    with scores scaled by 1 / sqrt(key_dim), and are projected back.

    Masks: `attention_mask` (batch, target, source), True where attention is allowed, and-ed with the
    query/value/key masks (given, or carried by the inputs) and the causal mask of use_causal_mask.
    Without dropout and attention scores it runs the backend's fused attention kernel.
    """

    casts_inputs = True
    supports_masking = True

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape: int | Sequence[int] | None = None,
                 attention_axes: int | Sequence[int] | None = None, flash_attention: bool | None = None,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        _refuse_unsupported(kwargs)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for name, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"MultiHeadAttention {name} must be a positive integer, got {value!r}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiHeadAttention dropout must be in [0, 1), got {dropout!r}.")
        self.num_heads, self.key_dim = num_heads, key_dim
        self.value_dim = value_dim if value_dim is not None else key_dim
        self.dropout, self.use_bias, self.seed = float(dropout), bool(use_bias), seed
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) else \
            tuple(output_shape) if output_shape is not None else None
        self.attention_axes = (attention_axes,) if isinstance(attention_axes, int) else \
            tuple(attention_axes) if attention_axes is not None else None
        self.flash_attention = flash_attention
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed_generator = backend.impl.SeedGenerator(seed) if dropout > 0 else None

    # --- building ----------------------------------------------------------------------------------

    def _dense(self, equation: str, output_shape: list, bias_axes: str, name: str) -> EinsumDense:
        return EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes if self.use_bias else None,
                           kernel_initializer=self.kernel_initializer, bias_initializer=self.bias_initializer,
                           kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
                           kernel_constraint=self.kernel_constraint, bias_constraint=self.bias_constraint,
                           dtype=self.dtype, name=name)

    def _projection(self, input_shape: tuple, heads: int, depth: int, name: str) -> EinsumDense:
        equation, bias_axes, rank = projection_equation(len(input_shape) - 1, 1, 2)
        layer = self._dense(equation, [None] * (rank - 3) + [heads, depth], bias_axes, name)
        layer._build_for(tuple(input_shape))
        return layer

    def build(self, query_shape: Sequence[int | None], value_shape: Sequence[int | None] | None = None,
              key_shape: Sequence[int | None] | None = None) -> None:
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        rank = len(query_shape)
        if len(value_shape) != rank or len(key_shape) != rank:
            raise ValueError(f"MultiHeadAttention needs query, value and key of the same rank, got shapes "
                             f"{tuple(query_shape)}, {tuple(value_shape)} and {tuple(key_shape)}.")
        self._query_dense = self._projection(query_shape, self.num_heads, self.key_dim, "query")
        self._key_dense = self._projection(key_shape, self.num_heads, self.key_dim, "key")
        self._value_dense = self._projection(value_shape, self.num_heads, self.value_dim, "value")
        axes = self.attention_axes if self.attention_axes is not None else tuple(range(1, rank - 1))
        self._attention_axes = tuple(a % (rank + 1) for a in axes)
        self._dot_product_equation, self._combine_equation = attention_equations(rank + 1, self._attention_axes)
        output_shape = list(self.partial_output_shape or (query_shape[-1],))
        equation, bias_axes, output_rank = projection_equation(rank - 1, 2, len(output_shape))
        self._output_dense = self._dense(equation, [None] * (output_rank - 1 - len(output_shape)) + output_shape,
                                        bias_axes, "attention_output")
        self._output_dense._build_for((*query_shape[:-1], self.num_heads, self.value_dim))
        # Keras's attribute names; tracked by hand, as underscored attributes are not
        self._track([self._query_dense, self._key_dense, self._value_dense, self._output_dense])

    # --- calling -----------------------------------------------------------------------------------

    def call(self, query: Any, value: Any, key: Any = None, query_mask: Any = None, value_mask: Any = None,
             key_mask: Any = None, attention_mask: Any = None, return_attention_scores: bool = False,
             training: bool | None = None, use_causal_mask: bool = False, mask: Any = None) -> Any:
        key, attention_mask, only_causal = call_masks(query, value, key, query_mask, value_mask, key_mask,
                                                      attention_mask, use_causal_mask, mask)
        with masks_hidden(query, value, key):
            query = self._query_dense(query)  # (batch, target, heads, key_dim)
            key = self._key_dense(key)  # (batch, source, heads, key_dim)
            value = self._value_dense(value)  # (batch, source, heads, value_dim)
        outputs, scores = self._attend(query, key, value, attention_mask, only_causal, return_attention_scores,
                                       training)
        outputs = self._output_dense(outputs)
        return (outputs, scores) if return_attention_scores else outputs

    def _attend(self, query: Any, key: Any, value: Any, mask: Any, causal: bool, return_scores: bool,
                training: bool | None) -> tuple[Any, Any]:
        B = backend.impl
        scale = 1.0 / math.sqrt(self.key_dim)
        dropping = bool(training) and self.dropout > 0
        if not return_scores and not dropping and self._attention_axes == (1,) and len(B.shape(query)) == 4:
            mask = expand_mask(mask, 4, 1)  # (batch, 1, target, source): the same for every head
            return B.dot_product_attention(query, key, value, mask=mask, scale=scale, is_causal=causal,
                                           flash_attention=self.flash_attention), None
        if self.flash_attention and return_scores:
            raise ValueError("MultiHeadAttention cannot return attention scores with flash_attention=True.")
        scores = B.einsum(self._dot_product_equation, key, B.multiply(query, scale))
        axes = tuple(range(-len(self._attention_axes), 0))
        if causal:
            mask = causal_mask(B.shape(query)[1], B.shape(key)[1])
        mask = expand_mask(mask, len(B.shape(scores)), -2 * len(self._attention_axes) - 1)
        scores = masked_softmax(scores, mask, axes)
        applied = B.dropout(scores, self.dropout, self.seed_generator) if dropping else scores
        return B.einsum(self._combine_equation, applied, value), scores

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The query's mask carries over to the outputs."""
        return split_masks(previous_mask, 3)[0] if previous_mask is not None else None

    @property
    def _creates_mask(self) -> bool:
        return False

    def compute_output_shape(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> tuple:
        output_shape = self.partial_output_shape or (query_shape[-1],)
        return (*tuple(query_shape)[:-1], *output_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "output_shape": list(self.partial_output_shape) if self.partial_output_shape else None,
                "attention_axes": list(self.attention_axes) if self.attention_axes is not None else None,
                "flash_attention": self.flash_attention,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint), "seed": self.seed}


def _refuse_unsupported(kwargs: dict) -> None:
    """Keras's sliding_window and use_gate are accepted at their defaults only."""
    if kwargs.pop("sliding_window", None) is not None:
        raise ValueError("sliding_window attention is not supported; expected sliding_window=None.")
    if kwargs.pop("use_gate", False):
        raise ValueError("gated attention is not supported; expected use_gate=False.")
