"""fit / evaluate / predict as a user sees them: learning happens, the return values have Keras's shapes."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina.callbacks import Callback, EarlyStopping, LambdaCallback
from lamina.layers import Dense, Dropout, Input
from lamina.models import Model, Sequential


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    return np.repeat(x, 16, axis=0), np.repeat(np.array([0, 1, 1, 0], dtype="float32"), 16)


def test_xor_is_learned_to_full_accuracy(training_backend):
    x, y = xor_data()
    model = Sequential([Dense(16, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")])
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=60, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] == 1.0
    np.testing.assert_array_equal(model.predict(x[::16], verbose=0).round().ravel(), [0, 1, 1, 0])


def test_linear_regression_recovers_weights(training_backend):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 3)).astype("float32")
    true_kernel, true_bias = np.array([[2.0], [-1.0], [0.5]], "float32"), np.array([0.3], "float32")
    y = x @ true_kernel + true_bias
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel, true_kernel, atol=1e-2)
    np.testing.assert_allclose(bias, true_bias, atol=1e-2)


def small_classifier(metrics=("accuracy",)) -> Sequential:
    model = Sequential([Dense(8, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=list(metrics))
    return model


def classes(n: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1).astype("int64")


def test_history_keys_epochs_and_initial_epoch(training_backend):
    x, y = classes()
    model = small_classifier()
    history = model.fit(x, y, epochs=4, initial_epoch=1, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.epoch == [1, 2, 3]
    assert all(len(values) == 3 for values in history.history.values())
    assert model.history is history


def test_evaluate_returns_scalar_list_or_dict(training_backend):
    x, y = classes()
    plain = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    plain.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(plain.evaluate(x, y, verbose=0), float)
    model = small_classifier(metrics=["accuracy", "sparse_categorical_crossentropy"])
    loss, accuracy, crossentropy = model.evaluate(x, y, verbose=0)
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert as_dict == pytest.approx({"loss": loss, "accuracy": accuracy,
                                     "sparse_categorical_crossentropy": crossentropy})
    assert crossentropy == pytest.approx(loss, rel=1e-5)
    assert model.metrics_names == ["loss", "accuracy", "sparse_categorical_crossentropy"]


def test_evaluate_loss_is_mean_over_samples(training_backend):
    x, y = classes(n=50)
    model = Sequential([Dense(1, input_shape=(4,))])
    model.compile(optimizer="sgd", loss="mse")
    prediction = model.predict(x, verbose=0)
    target = y.reshape(-1, 1).astype("float32")
    assert model.evaluate(x, target, batch_size=16, verbose=0) == pytest.approx(
        float(np.mean((prediction - target) ** 2)), rel=1e-5)


def test_predict_batches_and_partial_batch_match_one_call(training_backend):
    x, _ = classes(n=70)
    model = small_classifier()
    whole = model.predict(x, batch_size=128, verbose=0)
    pieces = model.predict(x, batch_size=16, verbose=0)
    assert whole.shape == (70, 3)
    np.testing.assert_allclose(whole, pieces, atol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x[:5]), whole[:5], atol=1e-6)
    np.testing.assert_allclose(lamina.ops.convert_to_numpy(model(x[:5])), whole[:5], atol=1e-6)


def test_single_batch_methods(training_backend):
    x, y = classes(n=32)
    model = small_classifier()
    first = model.train_on_batch(x, y)
    assert isinstance(first, list) and len(first) == 2
    for _ in range(20):
        last = model.train_on_batch(x, y, return_dict=True)
    assert set(last) == {"loss", "accuracy"}
    loss, _ = model.test_on_batch(x, y)
    assert loss < first[0]


def test_shuffle_false_is_repeatable(training_backend):
    x, y = classes()
    results = []
    for _ in range(2):
        lamina.set_random_seed(7)
        model = small_classifier()
        model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
        results.append(model.predict(x, verbose=0))
    np.testing.assert_allclose(results[0], results[1], atol=1e-6)


def test_callbacks_receive_every_hook_in_order(training_backend):
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_train_batch_end(self, batch, logs=None):
            events.append("batch")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    x, y = classes(n=64)
    small_classifier().fit(x, y, epochs=2, batch_size=32, validation_data=(x, y), callbacks=[Recorder()], verbose=0)
    assert events[0] == "train_begin" and events[-1] == "train_end"
    assert events[1] == "epoch_begin 0"
    assert "epoch_end 0 ['accuracy', 'loss', 'val_accuracy', 'val_loss']" in events
    assert events.count("batch") >= 2


def test_early_stopping_stops_training(training_backend):
    x, y = classes()
    model = small_classifier()
    model.optimizer.learning_rate = 0.0  # nothing improves, so patience runs out
    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[EarlyStopping(monitor="loss", patience=2, min_delta=1e-3)])
    assert len(history.history["loss"]) == 3


def test_lambda_callback_and_stop_training_flag(training_backend):
    x, y = classes()
    model = small_classifier()
    seen = []
    stopper = LambdaCallback(on_epoch_end=lambda epoch, logs: (seen.append(epoch), setattr(model, "stop_training", True)))
    model.fit(x, y, epochs=5, verbose=0, callbacks=[stopper])
    assert seen == [0]


def test_sample_weight_and_class_weight_change_the_loss(training_backend):
    x, y = classes()
    model = small_classifier()
    weights = np.where(y == 0, 0.0, 1.0).astype("float32")
    plain = model.evaluate(x, y, verbose=0)[0]
    weighted = model.evaluate(x, y, sample_weight=weights, verbose=0)[0]
    assert plain != pytest.approx(weighted)
    history = model.fit(x, y, class_weight={0: 1.0, 1: 2.0, 2: 2.0}, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_progress_output_as_keras_prints_it(training_backend, capsys):
    x, y = classes(n=64)
    small_classifier().fit(x, y, epochs=2, batch_size=32, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "2/2" in out and "loss:" in out and "accuracy:" in out and "/step" in out
    small_classifier().fit(x, y, epochs=2, batch_size=32, verbose=2)
    lines = [line for line in capsys.readouterr().out.splitlines() if "loss:" in line]
    assert len(lines) == 2
    small_classifier().fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_subclassed_model_trains(training_backend):
    class TwoLayer(Model):
        def __init__(self):
            super().__init__()
            self.hidden = Dense(16, activation="relu")
            self.dropout = Dropout(0.1)
            self.out = Dense(3, activation="softmax")

        def call(self, inputs, training=None):
            return self.out(self.dropout(self.hidden(inputs), training=training))

    x, y = classes()
    model = TwoLayer()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(model.trainable_weights) == 4
    assert model.predict(x, verbose=0).shape == (96, 3)


def test_rmsprop_and_sgd_momentum_train(training_backend):
    x, y = classes()
    for optimizer in ("rmsprop", lamina.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)):
        model = Sequential([Dense(8, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        history = model.fit(x, y, epochs=5, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]


def test_functional_dict_inputs_and_outputs(training_backend):
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    merged = lamina.layers.Concatenate()([a, b])
    out_one = Dense(1, name="one")(merged)
    out_two = Dense(1, name="two")(merged)
    model = Model(inputs={"a": a, "b": b}, outputs={"one": out_one, "two": out_two})
    model.compile(optimizer="adam", loss="mse", loss_weights={"one": 1.0, "two": 0.0})
    rng = np.random.default_rng(0)
    x = {"a": rng.normal(size=(64, 3)).astype("float32"), "b": rng.normal(size=(64, 2)).astype("float32")}
    y = {"one": x["a"][:, :1], "two": np.zeros((64, 1), "float32")}
    history = model.fit(x, y, epochs=3, verbose=0)
    assert {"loss", "one_loss", "two_loss"} <= set(history.history)
    predictions = model.predict(x, verbose=0)
    assert set(predictions) == {"one", "two"} and predictions["one"].shape == (64, 1)


def test_shared_layer_is_one_set_of_weights(training_backend):
    shared = Dense(4, name="shared")
    left, right = Input(shape=(3,)), Input(shape=(3,))
    model = Model([left, right], lamina.layers.Add()([shared(left), shared(right)]))
    assert len(model.weights) == 2
    x = np.ones((2, 3), "float32")
    kernel, bias = shared.get_weights()
    np.testing.assert_allclose(model.predict([x, x], verbose=0), 2 * (x @ kernel + bias), atol=1e-5)


def test_steps_per_epoch_on_arrays_walks_passes_as_keras(training_backend):
    """fit(x, y, steps_per_epoch=k) on arrays trains k batches per epoch through a pass over the data; the epoch
    that reaches the end of the pass ends early, with a warning, and the next one begins a new pass (Keras 3.15)."""
    x = np.random.default_rng(0).random((100, 3)).astype("float32")
    model = Sequential([lamina.Input((3,)), Dense(1)])
    model.compile(optimizer=lamina.optimizers.SGD(0.01), loss="mse")
    history = model.fit(x, x[:, :1], batch_size=10, steps_per_epoch=3, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and int(model.optimizer.iterations) == 6
    model.compile(optimizer=lamina.optimizers.SGD(0.01), loss="mse")
    with pytest.warns(UserWarning, match="ran out of data after 10 batches \\(epoch 4\\)"):
        history = model.fit(x, x[:, :1], batch_size=10, steps_per_epoch=3, epochs=6, verbose=0)
    # epochs of 3, 3, 3 and 1 batches end the first pass; two epochs of 3 begin the second
    assert len(history.history["loss"]) == 6 and int(model.optimizer.iterations) == 16
