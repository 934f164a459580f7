"""What compile, fit, evaluate and predict refuse before any work, and the legitimate cases they still accept."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lamina import ops
from lamina.layers import LSTM, Concatenate, Dense, Input, Layer
from lamina.models import Model, Sequential


def classifier(loss: str, classes: int = 3) -> Sequential:
    model = Sequential([Dense(classes, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="adam", loss=loss)
    return model


def weights_of(model) -> list[np.ndarray]:
    return [w.copy() for w in model.get_weights()]


def same_weights(before: list[np.ndarray], model) -> bool:
    after = model.get_weights()
    return len(before) == len(after) and all(np.array_equal(a, b) for a, b in zip(before, after))


def features(n: int = 20, width: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, width)).astype("float32")


# --- 1 and 4: targets that do not fit the output ---------------------------------------------------


@pytest.mark.parametrize("labels_shape", [(20, 1), (20,)])
def test_integer_labels_with_categorical_crossentropy(training_backend, labels_shape):
    model = classifier("categorical_crossentropy")
    before = weights_of(model)
    labels = np.random.default_rng(0).integers(0, 3, size=labels_shape)
    shape = str(labels_shape).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(ValueError, match=rf"y has shape {shape}.*categorical_crossentropy.*\(None, 3\)"
                                         r".*sparse_categorical_crossentropy"):
        model.fit(features(), labels, verbose=0)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.evaluate(features(), labels, verbose=0)
    assert same_weights(before, model)


@pytest.mark.parametrize("loss, y, message", [
    ("categorical_crossentropy", np.eye(4)[np.arange(20) % 4],
     r"y has shape \(20, 4\).*categorical_crossentropy.*\(20, 3\).*\(None, 3\)"),
    ("sparse_categorical_crossentropy", np.eye(3)[np.arange(20) % 3],
     r"y has shape \(20, 3\), one-hot.*sparse_categorical_crossentropy.*\(None, 3\).*'categorical_crossentropy'"),
    ("sparse_categorical_crossentropy", np.zeros((20, 3, 1)),
     r"y has shape \(20, 3, 1\).*sparse_categorical_crossentropy.*\(20,\).*\(None, 3\)"),
    ("categorical_crossentropy", np.zeros((20, 3, 1)),
     r"y has shape \(20, 3, 1\).*categorical_crossentropy.*\(None, 3\)"),
    ("mse", np.zeros((20, 2)), r"y has shape \(20, 2\).*mse.*\(20, 3\).*\(None, 3\)"),
])
def test_targets_that_do_not_fit_the_output(training_backend, loss, y, message):
    model = classifier(loss)
    before = weights_of(model)
    with pytest.raises(ValueError, match=message):
        model.fit(features(), y, verbose=0)
    assert same_weights(before, model)
    with pytest.raises(ValueError, match=message):
        model.train_on_batch(features(), y)
    assert same_weights(before, model)


def test_a_refused_target_leaves_the_metrics_unbuilt(training_backend):
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(features(), np.zeros((20, 1), "int64"), verbose=0)
    history = model.fit(features(), np.eye(3)[np.arange(20) % 3], epochs=1, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}


@pytest.mark.parametrize("loss", ["mse", "binary_crossentropy"])
@pytest.mark.parametrize("targets_shape", [(20,), (20, 1)])
def test_single_unit_output_takes_flat_or_column_targets(training_backend, loss, targets_shape):
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile(optimizer="adam", loss=loss)
    y = (np.arange(20) % 2).astype("float32").reshape(targets_shape)
    history = model.fit(features(), y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize("labels_shape", [(20,), (20, 1)])
def test_sparse_labels_flat_or_column(training_backend, labels_shape):
    model = classifier("sparse_categorical_crossentropy")
    history = model.fit(features(), (np.arange(20) % 3).reshape(labels_shape), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_sequence_output_with_sparse_labels_per_step(training_backend):
    model = Sequential([LSTM(5, return_sequences=True, input_shape=(6, 4)), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(8, 6, 4)).astype("float32")
    history = model.fit(x, np.arange(48).reshape(8, 6) % 3, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    with pytest.raises(ValueError, match=r"y has shape \(8, 6, 3\), one-hot"):
        model.fit(x, np.eye(3)[np.arange(48).reshape(8, 6) % 3], verbose=0)


def two_outputs() -> Model:
    inputs = Input((4,))
    hidden = Dense(8, activation="relu")(inputs)
    score = Dense(1, name="score")(hidden)
    kind = Dense(3, activation="softmax", name="kind")(hidden)
    model = Model(inputs, [score, kind])
    model.compile(optimizer="adam", loss={"score": "mse", "kind": "sparse_categorical_crossentropy"})
    return model


def test_multi_output_targets_as_list_or_dict(training_backend):
    model = two_outputs()
    score, kind = np.zeros((20, 1), "float32"), np.arange(20) % 3
    assert np.isfinite(model.fit(features(), [score, kind], verbose=0).history["loss"]).all()
    assert np.isfinite(model.fit(features(), {"kind": kind, "score": score.ravel()}, verbose=0).history["loss"]).all()
    with pytest.raises(ValueError, match=r"y has shape \(20, 3\), one-hot.*on output 'kind'"):
        model.fit(features(), {"score": score, "kind": np.eye(3)[kind]}, verbose=0)


def test_rank_matched_targets_as_keras_accepts_them(training_backend):
    model = classifier("mse")
    history = model.fit(features(), np.zeros((20, 3, 1), "float32"), verbose=0)
    assert np.isfinite(history.history["loss"]).all()


# --- 2: a loss is needed ------------------------------------------------------------------------------


def test_fit_without_a_loss(training_backend):
    model = Sequential([Dense(3, input_shape=(4,))])
    model.compile(optimizer="adam")
    before = weights_of(model)
    with pytest.raises(ValueError, match="without a loss.*add_loss.*loss="):
        model.fit(features(), np.zeros((20, 3)), verbose=0)
    with pytest.raises(ValueError, match="without a loss"):
        model.evaluate(features(), np.zeros((20, 3)), verbose=0)
    assert same_weights(before, model)


class ShrinkOutputs(Layer):
    """Adds the mean square of its outputs to the loss."""

    def call(self, inputs):
        self.add_loss(ops.mean(ops.square(inputs)))
        return inputs


def test_a_model_with_its_own_loss_trains_without_a_compiled_loss(training_backend):
    model = Sequential([Dense(3, input_shape=(4,)), ShrinkOutputs()])
    model.compile(optimizer="sgd")
    before = weights_of(model)
    history = model.fit(features(), epochs=3, verbose=0)
    losses = history.history["loss"]
    assert losses[0] > 0 and losses[-1] < losses[0]
    assert not same_weights(before, model)


# --- 3: dict inputs match by name ---------------------------------------------------------------------


def named_inputs() -> Model:
    age, income = Input((1,), name="age"), Input((2,), name="income")
    model = Model([age, income], Dense(1)(Concatenate()([age, income])))
    model.compile(optimizer="adam", loss="mse")
    return model


def test_dict_inputs_are_matched_by_name(training_backend):
    model = named_inputs()
    age, income = np.ones((5, 1), "float32"), np.arange(10, dtype="float32").reshape(5, 2)
    expected = model.predict([age, income], verbose=0)
    np.testing.assert_allclose(model.predict({"income": income, "age": age}, verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(model({"income": income, "age": age})), expected, rtol=1e-6)
    model.fit({"income": income, "age": age}, np.zeros((5, 1)), verbose=0)
    model.evaluate({"income": income, "age": age}, np.zeros((5, 1)), verbose=0)


@pytest.mark.parametrize("keys, message", [
    (("age", "salary"), r"\['age', 'income'\].*unknown key\(s\) \['salary'\].*no value for \['income'\]"),
    (("zeta", "alpha"), r"\['age', 'income'\].*unknown key\(s\) \['zeta', 'alpha'\]"),
])
def test_dict_inputs_with_unknown_or_missing_names(training_backend, keys, message):
    model = named_inputs()
    x = dict(zip(keys, (np.ones((5, 1), "float32"), np.ones((5, 2), "float32"))))
    with pytest.raises(ValueError, match=message):
        model.predict(x, verbose=0)
    with pytest.raises(ValueError, match=message):
        model.fit(x, np.zeros((5, 1)), verbose=0)
    with pytest.raises(ValueError, match=message):
        model(x)


def test_dict_structured_model_refuses_other_keys(training_backend):
    inputs = {"age": Input((1,)), "income": Input((1,))}
    model = Model(inputs, Dense(1)(Concatenate()([inputs["age"], inputs["income"]])))
    x = {"zeta": np.ones((2, 1), "float32"), "alpha": np.zeros((2, 1), "float32")}
    with pytest.raises(ValueError, match=r"\['age', 'income'\].*unknown key\(s\) \['zeta', 'alpha'\]"):
        model.predict(x, verbose=0)


# --- 5: empty data, generators that run dry ----------------------------------------------------------


def test_empty_arrays_are_refused(training_backend):
    model = classifier("mse")
    with pytest.raises(ValueError, match=r"x has 0 samples.*\(0, 4\)"):
        model.fit(np.zeros((0, 4)), np.zeros((0, 3)), verbose=0)
    with pytest.raises(ValueError, match="x has 0 samples"):
        model.evaluate(np.zeros((0, 4)), np.zeros((0, 3)), verbose=0)
    with pytest.raises(ValueError, match="x has 0 samples"):
        model.predict(np.zeros((0, 4)), verbose=0)


def batches(count: int):
    for index in range(count):
        yield features(8, seed=index), np.zeros((8, 3), "float32")


def test_empty_generator_is_refused(training_backend):
    with pytest.raises(ValueError, match="x is a generator that yields no batches"):
        classifier("mse").fit(batches(0), epochs=2, verbose=0)


def test_generator_running_dry_warns_once_and_stops(training_backend):
    model = classifier("mse")
    with pytest.warns(UserWarning, match="ran out of data") as caught:
        history = model.fit(batches(3), epochs=4, verbose=0)
    assert len([w for w in caught if "ran out of data" in str(w.message)]) == 1
    assert history.epoch == [0]
    assert history.history["loss"][0] > 0.0


def test_generator_shorter_than_steps_per_epoch_warns_and_stops(training_backend):
    model = classifier("mse")
    with pytest.warns(UserWarning, match="steps_per_epoch"):
        history = model.fit(batches(5), steps_per_epoch=2, epochs=4, verbose=0)
    assert history.epoch == [0, 1, 2]
    assert all(loss > 0.0 for loss in history.history["loss"])


def test_generator_with_enough_batches_gives_no_warning(training_backend):
    model = classifier("mse")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(batches(6), steps_per_epoch=2, epochs=3, verbose=0)
    assert history.epoch == [0, 1, 2]


# --- 6: failed builds, verbose, metrics, empty Sequential ----------------------------------------------


def test_a_failed_first_call_leaves_sequential_usable(training_backend):
    model = Sequential([Dense(8), LSTM(4)])
    with pytest.raises(ValueError, match="LSTM.*rank 3"):
        model(np.ones((2, 5), "float32"))
    assert not model.built and not any(layer.built for layer in model.layers) and model.weights == []
    assert tuple(ops.convert_to_numpy(model(np.ones((2, 5, 3), "float32"))).shape) == (2, 4)
    assert model.get_layer(index=0).get_weights()[0].shape == (3, 8)


def test_a_failed_first_fit_leaves_sequential_usable(training_backend):
    model = Sequential([Dense(8), LSTM(4)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="rank 3"):
        model.fit(np.ones((4, 5), "float32"), np.ones((4, 4)), verbose=0)
    history = model.fit(np.ones((4, 5, 3), "float32"), np.ones((4, 4)), verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_verbose_is_checked():
    model = classifier("mse")
    x, y = features(), np.zeros((20, 3))
    for call in (lambda: model.fit(x, y, verbose="loud"), lambda: model.evaluate(x, y, verbose=3),
                 lambda: model.predict(x, verbose="loud")):
        with pytest.raises(ValueError, match=r'verbose must be "auto", 0, 1 or 2, got'):
            call()


def test_metrics_that_are_not_metrics_fail_at_compile():
    model = Sequential([Dense(3, input_shape=(4,))])
    with pytest.raises(TypeError, match=r"metrics holds 5 \(int\)"):
        model.compile(optimizer="adam", loss="mse", metrics=[5])
    with pytest.raises(TypeError, match=r"weighted_metrics holds 0.5 \(float\)"):
        model.compile(optimizer="adam", loss="mse", weighted_metrics=["mae", 0.5])


def test_sequential_without_layers():
    with pytest.raises(ValueError, match="has no layers"):
        Sequential().predict(np.ones((2, 3)), verbose=0)
    model = Sequential()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="has no layers"):
        model.fit(np.ones((2, 3)), np.ones((2, 3)), verbose=0)


def test_a_layer_that_does_not_fit_is_not_added(training_backend):
    model = Sequential([Dense(8, input_shape=(5,))])
    with pytest.raises(ValueError, match="LSTM.*rank 3"):
        model.add(LSTM(4))
    assert len(model.layers) == 1 and len(model.weights) == 2
    model.add(Dense(2))
    assert model.predict(np.ones((3, 5), "float32"), verbose=0).shape == (3, 2)


def test_sequential_with_only_an_input_passes_inputs_through():
    model = Sequential([Input((3,))])
    np.testing.assert_array_equal(model.predict(np.ones((2, 3), "float32"), verbose=0), np.ones((2, 3)))
