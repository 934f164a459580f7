"""The base Layer: activity penalties, eager input checks, input casting, refused masks, check_layer on lists."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from check import check_layer, make_input
from lamina import backend
from lamina.layers import LSTM, Concatenate, Conv1D, Dense, Embedding, Flatten, Input
from lamina.models import Model, Sequential


@pytest.mark.parametrize("batch", [2, 8])
def test_activity_penalty_is_that_of_the_whole_batch(training_backend: str, batch: int) -> None:
    x = np.random.default_rng(0).standard_normal((batch, 3)).astype("float32")
    B = backend.impl
    layer = Dense(4, activity_regularizer=lamina.regularizers.L2(0.1))
    outputs = B.convert_to_numpy(layer(B.convert_to_tensor(x)))
    (penalty,) = layer.losses
    np.testing.assert_allclose(B.convert_to_numpy(penalty), 0.1 * np.sum(outputs ** 2), rtol=1e-5)


def test_activity_penalty_reaches_the_training_loss(training_backend: str) -> None:
    x = np.ones((8, 3), "float32")
    model = Sequential([Input((3,)), Dense(2, kernel_initializer="ones", activity_regularizer="l1")])
    model.compile("sgd", "mse")
    loss = model.evaluate(x, np.zeros((8, 2)), verbose=0)
    # outputs are all 3: mse 9, l1 penalty 0.01 * (8 samples * 2 units * 3), as Keras 3 adds it
    np.testing.assert_allclose(loss, 9.0 + 0.01 * 48.0, rtol=1e-5)


def test_activity_regularizer_round_trips_on_any_layer() -> None:
    layer = Flatten(activity_regularizer="l2")
    assert Flatten.from_config(layer.get_config()).activity_regularizer is not None


def test_eager_call_checks_the_input_spec(training_backend: str) -> None:
    B = backend.impl
    layer = Dense(2, name="probe")
    layer(B.ones((5, 4)))
    with pytest.raises(ValueError, match=r"probe.*last dimension 4, got 3"):
        layer(B.ones((5, 3)))
    with pytest.raises(ValueError, match=r"probe.*rank at least 2"):
        layer(B.ones((4,)))
    assert tuple(B.shape(layer(B.ones((7, 4))))) == (7, 2)  # a good shape after a bad one still works


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_integer_and_boolean_inputs_are_cast(training_backend: str, dtype: str) -> None:
    B = backend.impl
    x = np.random.default_rng(0).integers(0, 2, size=(8, 5, 3)).astype(dtype)
    for layer in (Dense(2), LSTM(2), Conv1D(2, 3)):
        expected = B.convert_to_numpy(layer(B.convert_to_tensor(x.astype("float32"))))
        np.testing.assert_allclose(B.convert_to_numpy(layer(B.convert_to_tensor(x))), expected, rtol=1e-6)
    embedded = Embedding(4, 2)(B.convert_to_tensor(x.astype("int64")))  # Embedding keeps its integer inputs
    assert B.dtype_of(embedded) == "float32"


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_fit_and_predict_take_integer_and_boolean_inputs(training_backend: str, dtype: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(16, 4, 3)).astype(dtype)
    y = rng.standard_normal((16, 1)).astype("float32")
    for model in (Sequential([Input((4, 3)), LSTM(2), Dense(1)]), Sequential([Input((4, 3)), Flatten(), Dense(1)])):
        model.compile("sgd", "mse")
        history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x.astype("float32"), verbose=0),
                                   rtol=1e-6)


def test_a_layer_without_mask_support_drops_the_mask_with_a_warning(training_backend: str) -> None:
    B = backend.impl
    with pytest.warns(UserWarning, match="Flatten 'no_masks' does not support masking.*the mask stops here"):
        model = Sequential([Input((5,), dtype="int32"), Embedding(10, 2, mask_zero=True), Flatten(name="no_masks")])
    assert getattr(model.outputs[0], "_keras_mask", None) is None
    inputs = Input((5,), dtype="int32")
    with pytest.warns(UserWarning, match="does not support masking"):
        convolved = Conv1D(2, 3)(Embedding(10, 2, mask_zero=True)(inputs))
    assert getattr(convolved, "_keras_mask", None) is None
    with pytest.warns(UserWarning, match="does not support masking"):
        flat = Flatten()(B.ones((2, 5, 2)), mask=B.ones((2, 5), "bool"))
    assert tuple(flat.shape) == (2, 10)


def test_masks_pass_through_dense_and_merge_in_a_functional_model(training_backend: str) -> None:
    B = backend.impl
    inputs = Input((None,), dtype="int32")
    embedded = Embedding(10, 3, mask_zero=True)(inputs)
    joined = Concatenate()([Dense(2)(embedded), embedded])
    assert joined._keras_mask is not None
    outputs = LSTM(2)(joined)
    model = Model(inputs, outputs)
    padded = np.array([[4, 2, 7, 0, 0]])
    np.testing.assert_allclose(B.convert_to_numpy(model(padded)), B.convert_to_numpy(model(padded[:, :3])),
                               atol=1e-6)


def test_check_layer_takes_several_inputs() -> None:
    check_layer(lambda: Concatenate(axis=1), [(2, 3), (2, 4)], lambda x, w: np.concatenate(x, axis=1),
                expected_output_shape=(2, 7))


# --- the Layer API that subclasses use -------------------------------------------------------------------


class Penalized(lamina.layers.Layer):
    """Adds 0.5 * mean(x) to the loss and passes x through."""

    def call(self, x):
        self.add_loss(0.5 * lamina.ops.mean(x))
        return x


def test_add_loss_in_call_is_collected_reset_and_trained_on(training_backend: str) -> None:
    B = backend.impl
    inputs = Input((3,))
    penalized = Penalized()
    model = Model(inputs, Dense(1, kernel_initializer="zeros")(penalized(inputs)))
    assert model.losses == []  # building the graph adds none
    x = np.full((4, 3), 2.0, "float32")
    model(x)
    model(x)
    assert len(model.losses) == 1 and len(penalized.losses) == 1  # each call starts afresh
    np.testing.assert_allclose(B.convert_to_numpy(model.losses[0]), 1.0)
    model.compile("sgd", "mse")
    # zero outputs against zero targets: the loss is the added term alone
    np.testing.assert_allclose(model.evaluate(x, np.zeros((4, 1)), verbose=0), 1.0, rtol=1e-6)
    history = model.fit(x, np.zeros((4, 1)), epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], 1.0, rtol=1e-5)


class StateFirst(lamina.layers.Layer):
    def build(self, input_shape):
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count")
        self.kernel = self.add_weight(shape=(input_shape[-1], 2), name="kernel")
        self.bias = self.add_weight(shape=(2,), initializer="zeros", name="bias")

    def call(self, x):
        return lamina.ops.matmul(x, self.kernel) + self.bias


def test_weights_are_trainable_first_in_creation_order(training_backend: str) -> None:
    layer = StateFirst()
    layer(Input((3,)))
    assert [w.name for w in layer.weights] == ["kernel", "bias", "count"]
    assert [w.name for w in layer.trainable_weights] == ["kernel", "bias"]
    layer.trainable = False
    assert [w.name for w in layer.weights] == ["kernel", "bias", "count"] and layer.trainable_weights == []


def test_build_config_round_trip(training_backend: str) -> None:
    layer = Dense(2)
    layer(Input((5,)))
    config = layer.get_build_config()
    assert config == {"input_shape": (None, 5)}
    clone = Dense.from_config(layer.get_config())
    assert not clone.built and Dense(2).get_build_config() is None
    clone.build_from_config({"input_shape": [None, 5]})  # as read back from JSON
    assert clone.built and [tuple(w.shape) for w in clone.weights] == [(5, 2), (2,)]


class HostSide(lamina.layers.Layer):
    """A call that cannot be traced on stand-ins (it reads values on the host): shapes come from its methods."""

    def call(self, x):
        return backend.impl.convert_to_tensor(np.asarray(backend.impl.convert_to_numpy(x))[:, :2] * 2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2)


class SpecOnly(HostSide):
    def compute_output_spec(self, x):
        return lamina.ops.symbolic.KerasTensor((x.shape[0], 2), "float16")


def test_symbolic_calls_use_compute_output_shape_and_spec(training_backend: str) -> None:
    x = np.arange(12, dtype="float32").reshape(3, 4)
    for layer, dtype in ((HostSide(), "float32"), (SpecOnly(), "float16")):
        inputs = Input((4,))
        outputs = layer(inputs)
        assert outputs.shape == (None, 2) and outputs.dtype == dtype
        np.testing.assert_allclose(backend.impl.convert_to_numpy(Model(inputs, outputs)(x)), x[:, :2] * 2)
    spec = Dense(3).compute_output_spec(Input((4,)))
    assert spec.shape == (None, 3) and spec._history is None


class ZeroMask(lamina.layers.Layer):
    """Masks the steps whose features are all zero, as Masking does."""

    def call(self, x):
        return x

    def compute_mask(self, inputs, previous_mask=None):
        return lamina.ops.any(lamina.ops.not_equal(inputs, 0), axis=-1)


class PassesMasks(lamina.layers.Layer):
    supports_masking = True

    def call(self, x):
        return x * 2


def test_check_layer_checks_masks() -> None:
    x_mask = np.array([[True, True, False], [True, False, False]])
    check_layer(PassesMasks, (2, 3, 4), lambda x, w: x * 2, input_mask=x_mask, expected_mask=x_mask, train=False)
    check_layer(lambda: Dense(2), (2, 3, 4), input_mask=x_mask, expected_mask=x_mask, train=False)
    check_layer(lambda: Embedding(5, 2, mask_zero=True), (2, 3), input_dtype="int32", input_range=(0, 3),
                expected_mask=make_input((2, 3), "int32", (0, 3)) != 0, train=False)
    check_layer(ZeroMask, (2, 3, 4), expected_mask=np.ones((2, 3), bool), train=False)
    check_layer(Flatten, (2, 3, 4), expected_mask=None, train=False)
    with pytest.raises(AssertionError, match="compute_mask"):
        check_layer(PassesMasks, (2, 3, 4), input_mask=x_mask, expected_mask=~x_mask, train=False)


def test_serialize_and_deserialize_layers(training_backend: str) -> None:
    config = lamina.layers.serialize(Dense(3, activation="relu", name="d"))
    assert config["class_name"] == "Dense" and config["config"]["units"] == 3
    layer = lamina.layers.deserialize(config)
    assert isinstance(layer, Dense) and layer.name == "d" and layer.units == 3
    keras_style = {"class_name": "Dense", "config": {"units": 2, "name": "k", "autocast": True,
                                                     "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                                               "config": {"name": "float32"}}}}
    assert lamina.layers.deserialize(keras_style).units == 2
    with pytest.raises(ValueError, match="Unknown class 'Nope'"):
        lamina.layers.deserialize({"class_name": "Nope", "config": {}})
    custom = Penalized.from_config(Penalized(name="p").get_config())
    assert isinstance(custom, Penalized) and custom.name == "p"


@pytest.mark.parametrize("make", [lambda: Dense(3), lambda: Conv1D(2, 3), lambda: LSTM(2), lambda: Embedding(9, 2)],
                         ids=["Dense", "Conv1D", "LSTM", "Embedding"])
def test_a_built_in_layer_built_by_hand_keeps_its_weights_when_called(training_backend, make):
    """`layer.build(shape)` then `layer(x)`: the call uses the weights the build made, as in Keras."""
    layer = make()
    shapes = {"Dense": (None, 4), "Conv1D": (None, 6, 4), "LSTM": (None, 5, 4), "Embedding": (None, 5)}
    shape = shapes[type(layer).__name__]
    layer.build(shape)
    assert layer.built
    made = [np.array(w) for w in layer.get_weights()]
    x = np.ones((2, *shape[1:]), dtype="int32" if isinstance(layer, Embedding) else "float32")
    layer(x)
    assert len(layer.weights) == len(made)
    for before, after in zip(made, layer.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_a_model_called_under_torch_inference_mode_predicts_as_outside_it():
    import torch

    with backend.use("torch"):
        model = Sequential([Input(shape=(4,)), Dense(3, activation="softmax")])
        x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
        expected = model.predict(x, verbose=0)
        with torch.inference_mode():
            got = model(x).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-6)
