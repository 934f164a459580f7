"""Attention layers: check_layer against NumPy, masks (given, causal, carried by inputs), and a Transformer block
that trains on torch and jax."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import lamina
from check import check_layer, make_input
from lamina import backend
from lamina.layers import (AdditiveAttention, Attention, Dense, Embedding, GlobalAveragePooling1D,
                           GroupQueryAttention, Layer, LayerNormalization, MultiHeadAttention)
from lamina.models import Model
from lamina.optimizers import Adam


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Pair(Layer):
    """Calls a two-input attention layer on [query, value] (the form check_layer passes several inputs in)."""

    def __init__(self, inner: dict, call_kwargs: dict | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.inner_config, self.call_kwargs = inner, call_kwargs or {}
        kinds = {"MultiHeadAttention": MultiHeadAttention, "GroupQueryAttention": GroupQueryAttention}
        self.attention = kinds[inner["class"]](**inner["config"])

    def call(self, inputs):
        return self.attention(inputs[0], inputs[1], **self.call_kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "inner": self.inner_config, "call_kwargs": self.call_kwargs}


# --- Attention and AdditiveAttention ---------------------------------------------------------------------

def dot_attention(q, v, k=None, scale=1.0, value_mask=None, causal=False, query_mask=None):
    k = v if k is None else k
    scores = q @ k.transpose(0, 2, 1) * scale
    keep = np.ones(scores.shape, bool)
    if value_mask is not None:
        keep &= value_mask[:, None, :]
    if causal:
        keep &= np.tril(np.ones(scores.shape[-2:], bool))
    outputs = softmax(np.where(keep, scores, scores - 1e9)) @ v
    return outputs if query_mask is None else outputs * query_mask[..., None]


def test_attention_dot() -> None:
    check_layer(Attention, [(2, 3, 4), (2, 5, 4)], lambda x, w: dot_attention(*x), expected_output_shape=(2, 3, 4))


def test_attention_with_scale_and_key() -> None:
    check_layer(lambda: Attention(use_scale=True), [(2, 3, 4), (2, 5, 6), (2, 5, 4)],
                lambda x, w: dot_attention(x[0], x[1], x[2], scale=w[0]), expected_output_shape=(2, 3, 6))


def concat_scores(q, k, scale):
    return np.tanh(scale * (q[:, :, None, :] + k[:, None, :, :]))


def test_attention_concat() -> None:
    def reference(x, w):
        q, v = x
        return softmax(w[1] * concat_scores(q, v, w[0]).sum(-1)) @ v

    check_layer(lambda: Attention(use_scale=True, score_mode="concat"), [(2, 3, 4), (2, 5, 4)], reference)


def test_additive_attention() -> None:
    def reference(x, w):
        q, v = x
        return softmax((np.tanh(q[:, :, None, :] + v[:, None, :, :]) * w[0]).sum(-1)) @ v

    check_layer(AdditiveAttention, [(2, 3, 4), (2, 5, 4)], reference, expected_output_shape=(2, 3, 4))


@pytest.mark.parametrize("name", ["torch", "jax", "numpy"])
def test_attention_masks_and_scores(name: str) -> None:
    q, v = make_input((2, 4, 3), seed=1), make_input((2, 4, 3), seed=2)
    query_mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    value_mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    with backend.use(name) as B:
        layer = Attention()
        outputs, scores = layer([B.convert_to_tensor(q), B.convert_to_tensor(v)],
                                mask=[B.convert_to_tensor(query_mask), B.convert_to_tensor(value_mask)],
                                return_attention_scores=True, use_causal_mask=True)
        expected = dot_attention(q, v, value_mask=value_mask, causal=True, query_mask=query_mask)
        np.testing.assert_allclose(B.convert_to_numpy(outputs), expected, atol=1e-5)
        assert B.convert_to_numpy(scores).shape == (2, 4, 4)
        np.testing.assert_allclose(B.convert_to_numpy(scores)[0, 0], [1, 0, 0, 0], atol=1e-6)


QUERY_MASK = np.array([[True, True, False], [True, False, False]])
VALUE_MASK = np.array([[True, False, True, True, False], [True, True, True, False, False]])


@pytest.mark.parametrize("layer_class", [Attention, AdditiveAttention])
def test_attention_outputs_carry_the_query_mask(layer_class: type) -> None:
    """As Keras 3: the query's mask passes on to the outputs (the value's is used in the scores only)."""
    check_layer(layer_class, [(2, 3, 4), (2, 5, 4)], input_mask=[QUERY_MASK, VALUE_MASK], expected_mask=QUERY_MASK,
                train=False)
    if layer_class is Attention:
        check_layer(layer_class, [(2, 3, 4), (2, 5, 4)], input_mask=[None, VALUE_MASK], expected_mask=None,
                    train=False)


def test_attention_refuses_a_single_input() -> None:
    with pytest.raises(ValueError, match=r"\[query, value\]"):
        Attention().compute_output_shape((None, 3, 4))
    with pytest.raises(ValueError, match="score_mode"):
        Attention(score_mode="cosine")


# --- MultiHeadAttention ------------------------------------------------------------------------------------

def mha_reference(q, v, w, key_dim, mask=None, causal=False):
    """outputs and scores of Keras's MultiHeadAttention from its weights (with biases), in NumPy."""
    q_kernel, q_bias, k_kernel, k_bias, v_kernel, v_bias, o_kernel, o_bias = w
    query = np.einsum("btd,dhk->bthk", q, q_kernel) + q_bias
    key = np.einsum("bsd,dhk->bshk", v, k_kernel) + k_bias
    value = np.einsum("bsd,dhk->bshk", v, v_kernel) + v_bias
    logits = np.einsum("bthk,bshk->bhts", query, key) / np.sqrt(key_dim)
    keep = np.ones(logits.shape, bool)
    if mask is not None:
        keep &= mask[:, None]
    if causal:
        keep &= np.tril(np.ones(logits.shape[-2:], bool))
    scores = softmax(np.where(keep, logits, logits - 1e9))
    outputs = np.einsum("bhts,bshk->bthk", scores, value)
    return np.einsum("bthk,hkd->btd", outputs, o_kernel) + o_bias, scores


def mha(**config) -> dict:
    return {"class": "MultiHeadAttention", "config": {"num_heads": 2, "key_dim": 3, **config}}


def test_multi_head_attention() -> None:
    check_layer(lambda: Pair(mha()), [(2, 4, 5), (2, 6, 5)], lambda x, w: mha_reference(*x, w, 3)[0],
                expected_output_shape=(2, 4, 5))


def test_multi_head_attention_has_keras_sublayers_and_weight_layout() -> None:
    layer = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, output_shape=7)
    layer(make_input((1, 4, 5)), make_input((1, 6, 8)))
    assert [(sub.name, tuple(w.shape)) for sub in (layer._query_dense, layer._key_dense, layer._value_dense,
                                                   layer._output_dense) for w in sub.weights] == [
        ("query", (5, 2, 3)), ("query", (2, 3)), ("key", (8, 2, 3)), ("key", (2, 3)),
        ("value", (8, 2, 4)), ("value", (2, 4)), ("attention_output", (2, 4, 7)), ("attention_output", (7,))]
    assert [w.name for w in layer.weights] == ["kernel", "bias"] * 4
    assert layer.compute_output_shape((None, 4, 5), (None, 6, 8)) == (None, 4, 7)


@pytest.mark.parametrize("name", ["torch", "jax", "numpy"])
def test_multi_head_attention_masks_give_the_reference(name: str) -> None:
    """The fused path (no scores) and the explicit one (scores) both obey attention_mask and the causal mask."""
    q, v = make_input((2, 4, 5), seed=1), make_input((2, 4, 5), seed=2)
    attention_mask = np.random.default_rng(3).uniform(size=(2, 4, 4)) > 0.4
    attention_mask[:, :, 0] = True  # no query step is fully masked
    weights = None
    with backend.use(name) as B:
        layer = MultiHeadAttention(num_heads=2, key_dim=3)
        tensors = B.convert_to_tensor(q), B.convert_to_tensor(v)
        layer(*tensors)
        weights = layer.get_weights()
        for mask, causal in ((attention_mask, False), (None, True), (attention_mask, True)):
            expected, expected_scores = mha_reference(q, v, weights, 3, mask, causal)
            given = None if mask is None else B.convert_to_tensor(mask)
            fused = layer(*tensors, attention_mask=given, use_causal_mask=causal)
            outputs, scores = layer(*tensors, attention_mask=given, use_causal_mask=causal,
                                    return_attention_scores=True)
            np.testing.assert_allclose(B.convert_to_numpy(fused), expected, atol=1e-5)
            np.testing.assert_allclose(B.convert_to_numpy(outputs), expected, atol=1e-5)
            np.testing.assert_allclose(B.convert_to_numpy(scores), expected_scores, atol=1e-5)


@pytest.mark.parametrize("name", ["torch"])  # the masks are gathered above the backend: one backend suffices
def test_multi_head_attention_takes_the_masks_its_inputs_carry(name: str) -> None:
    tokens = np.array([[3, 4, 5, 0, 0], [6, 7, 0, 0, 0]])
    with backend.use(name) as B:
        inputs = lamina.Input(shape=(5,), dtype="int32")
        embedded = Embedding(10, 4, mask_zero=True)(inputs)
        attention = MultiHeadAttention(num_heads=2, key_dim=2)
        model = Model(inputs, attention(embedded, embedded))
        outputs = B.convert_to_numpy(model(tokens))
        vectors = model.layers[1](B.convert_to_tensor(tokens))
        padding = B.convert_to_tensor(tokens != 0)
        expected = attention(vectors, vectors, query_mask=padding, value_mask=padding)
        np.testing.assert_allclose(outputs, B.convert_to_numpy(expected), atol=1e-5)
        unmasked = B.convert_to_numpy(attention(vectors, vectors))
        assert not np.allclose(outputs[:, :2], unmasked[:, :2], atol=1e-4)  # the padding was left out


@pytest.mark.parametrize("name", ["torch", "jax"])
@pytest.mark.parametrize("kind", ["MultiHeadAttention", "GroupQueryAttention"])
def test_projected_attention_passes_the_query_mask_and_uses_the_value_mask(name: str, kind: str) -> None:
    """As Keras 3: in a model, the query's carried mask reaches the next layer and the value's masks the scores;
    eager inputs that carry masks (torch) reach the projections without them, so no warning is raised."""
    from check import MaskProbe

    query_tokens = np.array([[3, 4, 0], [6, 0, 0]])
    value_tokens = np.array([[1, 2, 0, 5], [7, 0, 0, 0]])
    make = {"MultiHeadAttention": lambda: MultiHeadAttention(num_heads=2, key_dim=2),
            "GroupQueryAttention": lambda: GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1)}
    with backend.use(name) as B:
        query_in, value_in = lamina.Input(shape=(3,), dtype="int32"), lamina.Input(shape=(4,), dtype="int32")
        embed = Embedding(10, 4, mask_zero=True)
        attention = make[kind]()
        outputs = attention(embed(query_in), embed(value_in))
        model = Model([query_in, value_in], [outputs, MaskProbe()(outputs)])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values, mask = (B.convert_to_numpy(o) for o in model([query_tokens, value_tokens]))
            query, value = embed(B.convert_to_tensor(query_tokens)), embed(B.convert_to_tensor(value_tokens))
            expected = attention(query, value, query_mask=B.convert_to_tensor(query_tokens != 0),
                                 value_mask=B.convert_to_tensor(value_tokens != 0))
        np.testing.assert_array_equal(mask.astype(bool), query_tokens != 0)
        np.testing.assert_allclose(values, B.convert_to_numpy(expected), atol=1e-5)
        unmasked = B.convert_to_numpy(attention(B.convert_to_tensor(B.convert_to_numpy(query)),
                                                B.convert_to_tensor(B.convert_to_numpy(value))))
        assert not np.allclose(values[0, :2], unmasked[0, :2], atol=1e-4)  # the value's padding was left out
        assert getattr(attention.compute_mask(query, [B.convert_to_tensor(query_tokens != 0), None]), "shape",
                       None) == (2, 3)


@pytest.mark.parametrize("name", ["torch"])  # the choice is made above the backend
def test_multi_head_attention_runs_the_fused_kernel_unless_scores_or_dropout_need_the_weights(name, monkeypatch):
    x = make_input((2, 4, 5))
    with backend.use(name) as B:
        calls = []
        fused = B.dot_product_attention
        counted = lambda *args, **kwargs: calls.append(1) or fused(*args, **kwargs)  # noqa: E731
        monkeypatch.setattr(B, "dot_product_attention", counted)
        layer = MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.1)
        layer(x, x, use_causal_mask=True)
        assert len(calls) == 1
        layer(x, x, return_attention_scores=True)
        layer(x, x, training=True)
        assert len(calls) == 1


def test_multi_head_attention_over_a_chosen_axis() -> None:
    def reference(x, w):  # (batch, rows, columns, dim), attention along the columns of each row
        q, v = x
        q_kernel, q_bias, k_kernel, k_bias, v_kernel, v_bias, o_kernel, o_bias = w
        query = np.einsum("bxtd,dhk->bxthk", q, q_kernel) + q_bias
        key = np.einsum("bxsd,dhk->bxshk", v, k_kernel) + k_bias
        value = np.einsum("bxsd,dhk->bxshk", v, v_kernel) + v_bias
        scores = softmax(np.einsum("bxthk,bxshk->bxhts", query, key) / np.sqrt(2))
        outputs = np.einsum("bxhts,bxshk->bxthk", scores, value)
        return np.einsum("bxthk,hkd->bxtd", outputs, o_kernel) + o_bias

    check_layer(lambda: Pair(mha(key_dim=2, attention_axes=[2])), [(2, 3, 4, 5), (2, 3, 6, 5)], reference,
                expected_output_shape=(2, 3, 4, 5))


def test_multi_head_attention_dropout_only_while_training() -> None:
    with backend.use("torch") as B:
        x = B.convert_to_tensor(make_input((2, 4, 5)))
        layer = MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.5, seed=1)
        inference = B.convert_to_numpy(layer(x, x))
        np.testing.assert_allclose(inference, B.convert_to_numpy(layer(x, x, training=False)), atol=1e-6)
        assert not np.allclose(inference, B.convert_to_numpy(layer(x, x, training=True)), atol=1e-4)


def test_multi_head_attention_errors() -> None:
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(num_heads=0, key_dim=2)
    with pytest.raises(ValueError, match="value"):
        MultiHeadAttention(num_heads=2, key_dim=2)(make_input((1, 3, 4)))


# --- GroupQueryAttention ------------------------------------------------------------------------------------

def test_group_query_attention() -> None:
    def reference(x, w):
        q, v = x
        q_kernel, q_bias, k_kernel, k_bias, v_kernel, v_bias, o_kernel, o_bias = w
        query = np.einsum("btd,dhk->bthk", q, q_kernel) + q_bias
        key = np.repeat(np.einsum("bsd,dhk->bshk", v, k_kernel) + k_bias, 2, axis=2)
        value = np.repeat(np.einsum("bsd,dhk->bshk", v, v_kernel) + v_bias, 2, axis=2)
        scores = softmax(np.einsum("bthk,bshk->bhts", query, key) / np.sqrt(3))
        return np.einsum("bthk,hkd->btd", np.einsum("bhts,bshk->bthk", scores, value), o_kernel) + o_bias

    config = {"class": "GroupQueryAttention", "config": {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2}}
    check_layer(lambda: Pair(config), [(2, 4, 5), (2, 6, 5)], reference, expected_output_shape=(2, 4, 5))
    layer = GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2)
    layer(make_input((1, 4, 5)), make_input((1, 6, 5)))
    assert [tuple(w.shape) for w in layer.weights] == [(5, 4, 3), (4, 3), (5, 2, 3), (2, 3), (5, 2, 3), (2, 3),
                                                       (4, 3, 5), (5,)]


@pytest.mark.parametrize("name", ["torch", "numpy"])
def test_group_query_attention_causal_scores_match_the_fused_path(name: str) -> None:
    x = make_input((2, 4, 5))
    with backend.use(name) as B:
        layer = GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=1)
        fused = B.convert_to_numpy(layer(x, x, use_causal_mask=True))
        outputs, scores = layer(x, x, use_causal_mask=True, return_attention_scores=True)
        np.testing.assert_allclose(B.convert_to_numpy(outputs), fused, atol=1e-5)
        assert np.all(np.triu(B.convert_to_numpy(scores)[0, 0], 1) == 0)
    with pytest.raises(ValueError, match="multiple"):
        GroupQueryAttention(head_dim=3, num_query_heads=3, num_key_value_heads=2)


# --- a Transformer block trains -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["torch", "jax"])
def test_a_transformer_block_trains(name: str) -> None:
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 20, (64, 8))
    labels = (tokens[:, :4].sum(1) > tokens[:, 4:].sum(1)).astype("float32")[:, None]
    with backend.use(name):
        lamina.set_random_seed(2)
        inputs = lamina.Input(shape=(8,), dtype="int32")
        x = Embedding(20, 16)(inputs)
        x = LayerNormalization()(MultiHeadAttention(num_heads=2, key_dim=8)(x, x, use_causal_mask=True))
        outputs = Dense(1, activation="sigmoid")(GlobalAveragePooling1D()(Dense(16, activation="relu")(x)))
        model = Model(inputs, outputs)
        model.compile(Adam(learning_rate=0.01), "binary_crossentropy")
        losses = model.fit(tokens, labels, batch_size=16, epochs=5, verbose=0).history["loss"]
    assert losses[-1] < 0.85 * losses[0], losses
