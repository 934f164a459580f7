"""Preprocessing of structured data: Normalization (adapt, weights, fit, saving), Discretization, CategoryEncoding,
Hashing, HashedCrossing, IntegerLookup and StringLookup."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from check import check_layer, make_input
from lamina import backend
from lamina.layers import Normalization

EPSILON = 1e-7


def adapted(layer, data):
    layer.adapt(data)
    return layer


def normalized(x, mean, variance):
    return (x - mean) / np.maximum(np.sqrt(variance), EPSILON)


# --- Normalization ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("axis, kept_shape", [(-1, (4,)), (None, ()), ((1, 2), (3, 4)), (1, (3,))])
def test_normalization_adapts_over_every_axis_but_axis(axis, kept_shape) -> None:
    data = make_input((10, 3, 4)) * 3.0 + 1.0
    reduced = tuple(a for a in range(3) if a not in {a % 3 for a in Normalization(axis=axis).axis})
    layer = adapted(Normalization(axis=axis), data)
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == [
        ("mean", kept_shape), ("variance", kept_shape), ("count", ())]
    assert [w.trainable for w in layer.weights] == [False, False, False]
    assert backend.impl.dtype_of(layer.count) == "int32"
    mean, variance, _ = layer.get_weights()
    np.testing.assert_allclose(mean, data.mean(reduced), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(variance, data.var(reduced), rtol=1e-5)
    broadcast = data.mean(reduced, keepdims=True), data.var(reduced, keepdims=True)
    check_layer(lambda: adapted(Normalization(axis=axis), data), (2, 3, 4),
                lambda x, w: normalized(x, *broadcast), train=False)


def test_normalization_adapts_batches_as_one_array() -> None:
    data = make_input((12, 5)) * 2.0 - 3.0
    whole = adapted(Normalization(), data).get_weights()
    in_batches = adapted(Normalization(), (data[i:i + 5] for i in range(0, 12, 5))).get_weights()
    as_list = adapted(Normalization(), data.tolist()).get_weights()
    for got in (in_batches, as_list):
        np.testing.assert_allclose(got[0], whole[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got[1], whole[1], rtol=1e-5)


def test_normalization_with_given_statistics_has_no_weights() -> None:
    check_layer(lambda: Normalization(mean=3.0, variance=2.0), (3, 1), lambda x, w: (x - 3.0) / np.sqrt(2.0),
                train=False)
    mean, variance = [1.0, 2.0, 3.0], [4.0, 1.0, 0.25]
    check_layer(lambda: Normalization(mean=mean, variance=variance), (2, 5, 3),
                lambda x, w: normalized(x, np.array(mean), np.array(variance)), train=False)
    layer = Normalization(mean=mean, variance=variance)
    layer.build((None, 3))
    assert layer.weights == []
    config = layer.get_config()
    assert {k: config[k] for k in ("axis", "invert", "mean", "variance")} == {
        "axis": (-1,), "invert": False, "mean": mean, "variance": variance}


def test_normalization_invert_undoes_normalization() -> None:
    data = make_input((20, 3)) * 4.0 + 2.0
    forward = adapted(Normalization(), data)
    inverse = Normalization(mean=data.mean(0), variance=data.var(0), invert=True)
    back = np.asarray(backend.impl.convert_to_numpy(inverse(forward(data))))
    np.testing.assert_allclose(back, data, rtol=1e-4, atol=1e-4)
    check_layer(lambda: Normalization(mean=2.0, variance=4.0, invert=True), (2, 3), lambda x, w: x * 2.0 + 2.0,
                train=False)


def test_normalization_keeps_a_zero_variance_finite() -> None:
    layer = adapted(Normalization(), np.ones((4, 2), "float32"))
    out = backend.impl.convert_to_numpy(layer(np.array([[1.0, 2.0]], "float32")))
    np.testing.assert_allclose(out, [[0.0, 1.0 / EPSILON]], rtol=1e-5)


def test_normalization_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="both mean and variance"):
        Normalization(mean=1.0)
    with pytest.raises(ValueError, match="axis"):
        Normalization(axis="last")
    with pytest.raises(ValueError, match="out of range"):
        Normalization(axis=3).adapt(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="adapt"):
        Normalization(mean=0.0, variance=1.0).adapt(np.zeros((4, 2)))
    layer = adapted(Normalization(), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="shape"):
        layer.adapt(np.zeros((4, 3)))


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_model_starting_with_adapted_normalization_trains_and_round_trips(name: str, tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 3)) * [10.0, 0.1, 3.0] + [50.0, -2.0, 7.0]).astype("float32")
    y = ((x[:, :1] - 50.0) / 10.0 - (x[:, 2:] - 7.0) / 3.0).astype("float32")
    with backend.use(name):
        normalization = adapted(Normalization(), x)
        inputs = lamina.Input(shape=(3,))
        outputs = lamina.layers.Dense(1)(normalization(inputs))
        model = lamina.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="mse")
        before = model.evaluate(x, y, verbose=0)
        history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
        assert history.history["loss"][-1] < before
        np.testing.assert_allclose(normalization.get_weights()[0], x.mean(0), rtol=1e-5)
        path = str(tmp_path / "model.keras")
        model.save(path)
        loaded = lamina.models.load_model(path)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
        assert [w.name for w in loaded.layers[1].weights] == ["mean", "variance", "count"]
