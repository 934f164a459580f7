"""ReversibleEmbedding: the lookup through check_layer, the reverse projection (tied, untied, soft-capped)
against NumPy, its config and training on both training backends."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from check import MaskProbe, check_layer, make_input
from lamina import backend
from lamina.layers import Input, ReversibleEmbedding
from lamina.losses import SparseCategoricalCrossentropy
from lamina.models import Model
from lamina.optimizers import Adam


class ReverseByDefault(ReversibleEmbedding):
    """The reverse projection as the layer's plain call, so that check_layer runs its checks on it."""

    def call(self, inputs: Any, reverse: bool = True) -> Any:
        return super().call(inputs, reverse=reverse)

    def compute_output_shape(self, input_shape: Any, reverse: bool = True) -> tuple:
        return super().compute_output_shape(input_shape, reverse=reverse)


def test_lookup_is_an_embedding() -> None:
    check_layer(lambda: ReversibleEmbedding(10, 4), (3, 5), lambda x, w: w[0][x], input_dtype="int32",
                input_range=(0, 10), expected_output_shape=(3, 5, 4))


def test_reverse_with_tied_weights_uses_the_transposed_table() -> None:
    check_layer(lambda: ReverseByDefault(7, 4), (2, 3, 4), lambda x, w: x @ w[0].T, expected_output_shape=(2, 3, 7))


def test_reverse_with_untied_weights_uses_its_own_kernel() -> None:
    def reference(x: np.ndarray, w: list[np.ndarray]) -> np.ndarray:
        assert [a.shape for a in w] == [(7, 4), (4, 7)]  # embeddings, reverse_embeddings
        return x @ w[1]

    check_layer(lambda: ReverseByDefault(7, 4, tie_weights=False), (2, 4), reference, expected_output_shape=(2, 7),
                train=False)


def test_logit_soft_cap() -> None:
    cap = 0.5
    outputs = check_layer(lambda: ReverseByDefault(7, 4, logit_soft_cap=cap, embeddings_initializer="normal"),
                          (2, 3, 4), lambda x, w: cap * np.tanh(x @ w[0].T / cap), atol=1e-5)
    assert np.abs(outputs[0]).max() < cap  # capped, and the cap is not trivially far from the logits
    assert np.abs(outputs[0]).max() > cap / 4


def test_tied_and_untied_weights_and_call_with_reverse() -> None:
    tied, untied = ReversibleEmbedding(6, 3), ReversibleEmbedding(6, 3, tie_weights=False)
    hidden = np.random.default_rng(0).standard_normal((2, 3)).astype("float32")
    tied(np.array([[1, 2]])), untied(np.array([[1, 2]]))
    assert [v.name for v in tied.weights] == ["embeddings"]
    assert [v.name for v in untied.weights] == ["embeddings", "reverse_embeddings"]
    table = tied.get_weights()[0]
    np.testing.assert_allclose(backend.impl.convert_to_numpy(tied(hidden, reverse=True)), hidden @ table.T,
                               rtol=1e-5, atol=1e-6)
    kernel = untied.get_weights()[1]
    np.testing.assert_allclose(backend.impl.convert_to_numpy(untied(hidden, reverse=True)), hidden @ kernel,
                               rtol=1e-5, atol=1e-6)


def test_config_keys_and_round_trip() -> None:
    layer = ReversibleEmbedding(9, 2, tie_weights=False, reverse_dtype="float32", logit_soft_cap=30.0,
                                mask_zero=True)
    config = json.loads(json.dumps(layer.get_config()))
    assert {"input_dim": 9, "output_dim": 2, "tie_weights": False, "reverse_dtype": "float32",
            "logit_soft_cap": 30.0, "mask_zero": True}.items() <= config.items()
    clone = ReversibleEmbedding.from_config(config)
    assert (clone.tie_weights, clone.reverse_dtype, clone.logit_soft_cap, clone.mask_zero) == \
        (False, "float32", 30.0, True)
    assert ReversibleEmbedding(3, 2).get_config()["tie_weights"] is True


def test_bad_soft_cap_is_named() -> None:
    with pytest.raises(ValueError, match="logit_soft_cap"):
        ReversibleEmbedding(5, 2, logit_soft_cap=-1.0)


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_a_tied_language_model_trains(name: str) -> None:
    """Tokens embedded and projected back through the same table learn to predict themselves."""
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 12, size=(64, 5)).astype("int32")
    with backend.use(name):
        inputs = Input(shape=(5,), dtype="int32")
        layer = ReversibleEmbedding(12, 8, logit_soft_cap=10.0)
        logits = layer(layer(inputs), reverse=True)
        model = Model(inputs, logits)
        model.compile(optimizer=Adam(learning_rate=0.05), loss=SparseCategoricalCrossentropy(from_logits=True))
        before = layer.get_weights()[0]
        history = model.fit(tokens, tokens, epochs=8, batch_size=16, verbose=0)
        losses = history.history["loss"]
        assert losses[-1] < losses[0] * 0.9, losses
        assert not np.allclose(layer.get_weights()[0], before)


def test_the_lookup_carries_the_token_mask_and_the_logits_none() -> None:
    """As Keras 3: with mask_zero the embedded tokens carry their mask; a reverse call's logits carry none."""
    tokens = np.array([[3, 1, 0, 0], [2, 0, 0, 0]], dtype="int32")
    inputs = Input(shape=(4,), dtype="int32")
    layer = ReversibleEmbedding(5, 3, mask_zero=True)
    hidden = layer(inputs)
    logits = layer(hidden, reverse=True)
    assert tuple(logits.shape) == (None, 4, 5) and getattr(logits, "_keras_mask", None) is None
    propagated = Model(inputs, MaskProbe()(hidden))(tokens)
    np.testing.assert_array_equal(backend.impl.convert_to_numpy(propagated), tokens != 0)
    check_layer(lambda: ReversibleEmbedding(5, 2, mask_zero=True), (2, 4), input_dtype="int32", input_range=(0, 3),
                expected_mask=make_input((2, 4), "int32", (0, 3)) != 0, train=False)
