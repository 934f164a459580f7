"""Preprocessing of structured data: Normalization (adapt, weights, fit, saving), Discretization, CategoryEncoding,
Hashing, HashedCrossing, IntegerLookup and StringLookup."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from check import check_layer, make_input
from lamina import backend
from lamina.layers import (CategoryEncoding, Discretization, HashedCrossing, Hashing, IntegerLookup, Normalization,
                           StringLookup)

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
    np.testing.assert_allclose(_np(layer.mean), broadcast[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(layer.variance), broadcast[1], rtol=1e-5)
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
    with pytest.raises(AttributeError, match="adapt"):
        Normalization().mean
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


def _np(value):
    return np.asarray(backend.impl.convert_to_numpy(value))


# --- CategoryEncoding and Discretization --------------------------------------------------------------------

def one_hot_reference(x, depth):
    return (x[..., None] == np.arange(depth)).astype("float32")


@pytest.mark.parametrize("mode, shape, expected_shape, reference", [
    ("one_hot", (4,), (4, 6), lambda x: one_hot_reference(x, 6)),
    ("one_hot", (4, 1), (4, 6), lambda x: one_hot_reference(x[:, 0], 6)),
    ("multi_hot", (4, 3), (4, 6), lambda x: one_hot_reference(x, 6).max(-2)),
    ("count", (4, 3), (4, 6), lambda x: one_hot_reference(x, 6).sum(-2)),
])
def test_category_encoding_against_numpy(mode, shape, expected_shape, reference) -> None:
    check_layer(lambda: CategoryEncoding(6, output_mode=mode), shape, lambda x, w: reference(x), input_dtype="int32",
                input_range=(0, 6), expected_output_shape=expected_shape, train=False)


def test_category_encoding_counts_weights_on_every_backend() -> None:
    for name in ("torch", "jax", "numpy"):
        with backend.use(name):
            out = CategoryEncoding(4, output_mode="count")(np.array([[0, 1, 1], [3, 3, 2]]),
                                                           count_weights=np.array([[0.5, 1.0, 2.0], [1, 1, 1.0]]))
            np.testing.assert_allclose(_np(out), [[0.5, 3.0, 0, 0], [0, 0, 1, 2]])
            np.testing.assert_allclose(_np(CategoryEncoding(3)(np.array([0, 2]))), [1, 0, 1])
    with pytest.raises(ValueError, match="num_tokens"):
        CategoryEncoding(0)
    with pytest.raises(ValueError, match="output_mode"):
        CategoryEncoding(3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="sparse"):
        CategoryEncoding(3, sparse=True)


def test_discretization_buckets_like_numpy_digitize() -> None:
    boundaries = [-1.0, 0.0, 0.5]
    check_layer(lambda: Discretization(bin_boundaries=boundaries), (4, 5),
                lambda x, w: np.digitize(x, boundaries), expected_output_shape=(4, 5), train=False)
    check_layer(lambda: Discretization(bin_boundaries=boundaries, output_mode="one_hot"), (4,),
                lambda x, w: one_hot_reference(np.digitize(x, boundaries), 4), train=False)
    assert Discretization(bin_boundaries=boundaries).get_config()["bin_boundaries"] == boundaries


def test_discretization_adapts_quantiles() -> None:
    layer = Discretization(num_bins=4)
    layer.adapt(np.arange(100.0))
    np.testing.assert_allclose(layer.bin_boundaries, np.quantile(np.arange(100.0), [0.25, 0.5, 0.75]))
    np.testing.assert_array_equal(_np(layer(np.array([0.0, 30.0, 60.0, 99.0]))), [0, 1, 2, 3])
    with pytest.raises(ValueError, match="exactly one"):
        Discretization()
    with pytest.raises(ValueError, match="adapt"):
        Discretization(num_bins=3)(np.zeros(2))


# --- Hashing -------------------------------------------------------------------------------------------------

def test_hashing_is_deterministic_and_spreads_over_bins() -> None:
    values = np.array([f"token{i}" for i in range(400)])
    outputs = []
    for name in ("torch", "jax", "numpy"):
        with backend.use(name):
            outputs.append(_np(Hashing(8)(values)))
    for other in outputs[1:]:
        np.testing.assert_array_equal(other, outputs[0])
    counts = np.bincount(outputs[0], minlength=8)
    assert counts.min() > 25, counts
    ints = _np(Hashing(8)(np.arange(400)))
    assert np.bincount(ints, minlength=8).min() > 25
    assert not np.array_equal(_np(Hashing(8, salt=7)(np.arange(400))), ints)
    np.testing.assert_array_equal(_np(Hashing(8)(np.arange(400).tolist())), ints)


def test_hashing_mask_value_and_encodings() -> None:
    bins = _np(Hashing(5, mask_value="")(np.array(["", "a", "b", ""])))
    assert bins[0] == bins[3] == 0 and bins[1] > 0 and bins[2] > 0
    hot = _np(Hashing(5, output_mode="one_hot")(np.array(["a", "b"])))
    assert hot.shape == (2, 5) and np.all(hot.sum(-1) == 1)
    config = Hashing(5, salt=[1, 2], mask_value=0).get_config()
    assert {k: config[k] for k in ("num_bins", "salt", "mask_value", "output_mode", "sparse")} == {
        "num_bins": 5, "salt": [1, 2], "mask_value": 0, "output_mode": "int", "sparse": False}


def test_hashed_crossing_gives_one_bin_per_combination() -> None:
    a, b = np.array([1, 2, 1, 2]), np.array(["x", "x", "x", "y"])
    out = _np(HashedCrossing(1000)((a, b)))
    assert out[0] == out[2] and len({out[0], out[1], out[3]}) == 3
    assert _np(HashedCrossing(7, output_mode="one_hot")((a, b))).shape == (4, 7)
    with pytest.raises(ValueError, match="one shape"):
        HashedCrossing(3)((a, b[:2]))


# --- IntegerLookup and StringLookup --------------------------------------------------------------------------

def test_string_lookup_indices_and_vocabulary() -> None:
    layer = StringLookup(vocabulary=["a", "b", "c"])
    np.testing.assert_array_equal(_np(layer(np.array([["a", "c", "d"]]))), [[1, 3, 0]])
    assert layer.get_vocabulary() == ["[UNK]", "a", "b", "c"] and layer.vocabulary_size() == 4
    masked = StringLookup(vocabulary=["a", "b"], mask_token="", num_oov_indices=2)
    assert masked.get_vocabulary() == ["", "[UNK]", "[UNK]", "a", "b"]
    out = _np(masked([["", "a", "zz", "b"]]))
    assert out[0, 0] == 0 and out[0, 1] == 3 and out[0, 2] in (1, 2) and out[0, 3] == 4
    inverse = StringLookup(vocabulary=["a", "b"], invert=True)
    assert inverse(np.array([[1, 2, 0]])).tolist() == [["a", "b", "[UNK]"]]


def test_string_lookup_adapts_by_frequency_and_encodes() -> None:
    layer = StringLookup(max_tokens=3)
    layer.adapt([["x", "y", "x"], ["z", "x", "y"]])
    assert layer.get_vocabulary() == ["[UNK]", "x", "y"]
    hot = StringLookup(vocabulary=["x", "y"], output_mode="multi_hot")(np.array([["x", "q"], ["y", "y"]]))
    np.testing.assert_array_equal(_np(hot), [[1, 1, 0], [0, 0, 1]])
    count = StringLookup(vocabulary=["x", "y"], output_mode="count", pad_to_max_tokens=True, max_tokens=5)
    np.testing.assert_array_equal(_np(count(np.array([["y", "y", "x"]]))), [[0, 1, 2, 0, 0]])
    restored = StringLookup.from_config(StringLookup(vocabulary=["a", "b"]).get_config())
    assert restored.get_vocabulary() == ["[UNK]", "a", "b"]


def test_integer_lookup_on_tensors_and_tf_idf() -> None:
    for name in ("torch", "jax"):
        with backend.use(name) as B:
            layer = IntegerLookup(vocabulary=[12, 36, 1138])
            out = layer(B.convert_to_tensor(np.array([[12, 1138, 42]])))
            np.testing.assert_array_equal(_np(out), [[1, 3, 0]])
    assert IntegerLookup(vocabulary=[12, 36]).get_vocabulary() == [-1, 12, 36]
    floormod = IntegerLookup(vocabulary=[12], num_oov_indices=3)  # OOV index: 0 + value mod 3
    np.testing.assert_array_equal(_np(floormod(np.array([7, 8, 9, 12]))), [1, 2, 0, 3])
    hashed = IntegerLookup(vocabulary=[12], num_oov_indices=3, oov_method="farmhash", salt=5)
    assert set(_np(hashed(np.arange(13, 43))).tolist()) == {0, 1, 2}
    assert hashed.get_config()["oov_method"] == "farmhash" and hashed.get_config()["salt"] == 5
    np.testing.assert_array_equal(_np(IntegerLookup(vocabulary=[12, 36], invert=True)(np.array([[1, 2, 0]]))),
                                  [[12, 36, -1]])
    layer = IntegerLookup(output_mode="tf_idf")
    data = np.array([[12, 42, 42], [42, 7, 36]])
    layer.adapt(data)
    assert layer.get_vocabulary()[:2] == [-1, 42]
    idf = np.log1p(2 / (1 + 2))
    np.testing.assert_allclose(_np(layer(np.array([[42, 42]])))[0, 1], 2 * idf, rtol=1e-5)
    with pytest.raises(ValueError, match="idf_weights"):
        IntegerLookup(vocabulary=[1, 2], output_mode="tf_idf")
    with pytest.raises(ValueError, match="once"):
        StringLookup(vocabulary=["a", "a"])


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_integer_lookup_runs_on_the_device_inside_a_trained_model(name: str) -> None:
    rng = np.random.default_rng(1)
    x = rng.choice([3, 7, 100, 5000, 8], size=(32, 3)).astype("int32")
    y = (x == 7).sum(-1, keepdims=True).astype("float32")
    with backend.use(name) as B:
        lookup = IntegerLookup(vocabulary=[7, 100, 3, 5000], mask_token=8, output_mode="count")
        np.testing.assert_array_equal(_np(lookup(B.convert_to_tensor(np.array([[7, 7, 8, 42]], "int32")))),
                                      [[0, 1, 2, 0, 0, 0]])
        indices = IntegerLookup(vocabulary=[7, 100, 3], num_oov_indices=2)(B.convert_to_tensor(np.array([7, 4, 5, 3])))
        np.testing.assert_array_equal(_np(indices), [2, 0, 1, 4])
        inputs = lamina.Input(shape=(3,), dtype="int32")
        outputs = lamina.layers.Dense(1)(lookup(inputs))
        model = lamina.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="mse")
        before = model.evaluate(x, y, verbose=0)
        model.fit(x, y, epochs=5, batch_size=8, verbose=0)
        assert model.evaluate(x, y, verbose=0) < before


def test_normalization_passes_the_mask_on() -> None:
    """As Keras 3: the Normalization preprocessing layer supports masking."""
    mask = np.array([[True, False, True], [False, True, True]])
    check_layer(lambda: Normalization(mean=0.5, variance=4.0), (2, 3, 4), lambda x, w: (x - 0.5) / 2.0,
                input_mask=mask, expected_mask=mask, train=False)
