"""The patterns of Keras's guide to training with the built-in methods, as a user writes them: custom losses,
layers that add losses, a model compiled without a loss, data as PyDatasets and torch DataLoaders (with a
batch_size the guide passes anyway), class and sample weights, per-output losses given as lists and dicts with
gaps, and checkpoints named by epoch and by loss. Each runs on torch and jax."""

from __future__ import annotations

import os

import numpy as np
import pytest

import lamina
from lamina import layers, ops

RNG = np.random.default_rng(5)
X = RNG.random((96, 12)).astype("float32")
Y = X[:, :4].argmax(1).astype("float32")


def classifier(logits: bool = False) -> lamina.Model:
    inputs = lamina.Input(shape=(12,), name="digits")
    hidden = layers.Dense(16, activation="relu", name="dense_1")(inputs)
    outputs = layers.Dense(4, activation=None if logits else "softmax", name="predictions")(hidden)
    return lamina.Model(inputs, outputs)


def test_custom_losses_as_a_function_and_as_a_loss_class(training_backend: str) -> None:
    def mean_squared(y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    class PenalisedMSE(lamina.losses.Loss):
        def __init__(self, factor: float = 0.1, name: str = "penalised_mse"):
            super().__init__(name=name)
            self.factor = factor

        def call(self, y_true, y_pred):
            return mean_squared(y_true, y_pred) + self.factor * ops.mean(ops.square(0.5 - y_pred), axis=-1)

    one_hot = ops.one_hot(Y, num_classes=4)  # a backend tensor as fit's y, as the guide passes it
    for loss in (mean_squared, PenalisedMSE()):
        model = classifier()
        model.compile(optimizer=lamina.optimizers.Adam(0.01), loss=loss)
        history = model.fit(X, one_hot, batch_size=16, epochs=3, verbose=0).history
        assert history["loss"][-1] < history["loss"][0]
    expected = np.mean((ops.convert_to_numpy(one_hot) - model.predict(X, verbose=0)) ** 2, axis=-1)
    expected = expected + 0.1 * np.mean((0.5 - model.predict(X, verbose=0)) ** 2, axis=-1)
    assert model.evaluate(X, one_hot, verbose=0) == pytest.approx(expected.mean(), rel=1e-4)


def test_a_layer_that_adds_a_loss_and_a_model_compiled_without_one(training_backend: str) -> None:
    class ActivitySum(layers.Layer):
        def call(self, inputs):
            self.add_loss(ops.sum(inputs) * 0.1)
            return inputs

    inputs = lamina.Input(shape=(12,))
    outputs = layers.Dense(4)(ActivitySum()(layers.Dense(8, activation="relu")(inputs)))
    model = lamina.Model(inputs, outputs)
    model.compile("rmsprop", lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(X, Y, batch_size=32, epochs=1, verbose=0)

    class LogisticEndpoint(layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = lamina.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits, sample_weights=None):
            self.add_loss(self.loss_fn(targets, logits, sample_weights))
            return ops.softmax(logits)

    features, targets = lamina.Input(shape=(3,), name="inputs"), lamina.Input(shape=(4,), name="targets")
    predictions = LogisticEndpoint(name="predictions")(targets, layers.Dense(4)(features))
    endpoint = lamina.Model([features, targets], predictions)
    endpoint.compile(optimizer="adam")  # no loss: the layer adds it
    data = {"inputs": RNG.random((64, 3)), "targets": RNG.random((64, 4)).round()}
    history = endpoint.fit(data, epochs=4, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]


class Batches(lamina.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]


def test_py_datasets_and_data_loaders_with_a_batch_size_that_is_ignored(training_backend: str) -> None:
    import torch

    class Samples(torch.utils.data.Dataset):
        def __len__(self):
            return len(X)

        def __getitem__(self, index):
            return X[index], Y[index]

    model = classifier()
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    train, validation = Batches(X[:64], Y[:64], 16, workers=2), Batches(X[64:], Y[64:], 16, workers=2)
    history = model.fit(train, batch_size=64, validation_data=validation, epochs=1, verbose=0).history
    assert set(history) == {"loss", "sparse_categorical_accuracy", "val_loss", "val_sparse_categorical_accuracy"}
    loader = torch.utils.data.DataLoader(Samples(), batch_size=16, shuffle=True)
    model.fit(loader, batch_size=64, validation_data=loader, epochs=1, verbose=0)
    assert model.evaluate(validation, verbose=0)[0] == pytest.approx(model.evaluate(X[64:], Y[64:], verbose=0)[0],
                                                                     rel=1e-5)


def test_class_weights_equal_the_matching_sample_weights(training_backend: str) -> None:
    weights = {0: 1.0, 1: 1.0, 2: 2.0, 3: 1.0}
    results = []
    for keyword in ({"class_weight": weights}, {"sample_weight": np.array([weights[int(c)] for c in Y])}):
        lamina.set_random_seed(1)
        model = classifier()
        model.compile("rmsprop", "sparse_categorical_crossentropy")
        model.fit(X, Y, batch_size=32, epochs=1, shuffle=False, verbose=0, **keyword)
        results.append(model.get_weights())
    for by_class, by_sample in zip(*results):
        np.testing.assert_allclose(by_class, by_sample, rtol=1e-6, atol=1e-7)


def test_per_output_losses_as_lists_and_dicts_with_gaps(training_backend: str) -> None:
    image, series = lamina.Input(shape=(8, 8, 3), name="img_input"), lamina.Input(shape=(None, 5), name="ts_input")
    merged = layers.concatenate([layers.GlobalMaxPooling2D()(layers.Conv2D(3, 3)(image)),
                                 layers.GlobalMaxPooling1D()(layers.Conv1D(3, 3)(series))])
    model = lamina.Model([image, series], [layers.Dense(1, name="score_output")(merged),
                                           layers.Dense(5, name="class_output")(merged)])
    data = [RNG.random((32, 8, 8, 3)), RNG.random((32, 10, 5))]
    targets = [RNG.random((32, 1)), RNG.random((32, 5))]
    model.compile(optimizer=lamina.optimizers.RMSprop(1e-3),
                  loss={"score_output": "mse", "class_output": "categorical_crossentropy"},
                  metrics={"score_output": ["mape", "mae"], "class_output": ["categorical_accuracy"]},
                  loss_weights={"score_output": 2.0, "class_output": 1.0})
    history = model.fit(data, targets, batch_size=16, epochs=1, verbose=0).history
    assert set(history) == {"loss", "score_output_loss", "class_output_loss", "score_output_mape",
                            "score_output_mae", "class_output_categorical_accuracy"}
    assert history["loss"][0] == pytest.approx(2 * history["score_output_loss"][0]
                                               + history["class_output_loss"][0], rel=1e-4)
    model.compile(optimizer="rmsprop", loss=[None, "categorical_crossentropy"])
    assert set(model.fit(data, targets, batch_size=16, epochs=1, verbose=0).history) == {"loss"}
    model.compile(optimizer="rmsprop", loss={"class_output": "categorical_crossentropy"})
    by_name = model.fit({"img_input": data[0], "ts_input": data[1]},
                        {"score_output": targets[0], "class_output": targets[1]}, batch_size=16, verbose=0)
    assert set(by_name.history) == {"loss"}


def test_checkpoints_named_by_epoch_and_by_loss_restore_the_latest(training_backend: str, tmp_path) -> None:
    os.chdir(tmp_path)
    model = classifier()
    model.compile("rmsprop", "sparse_categorical_crossentropy")
    best = lamina.callbacks.ModelCheckpoint("model_{epoch}.keras", save_best_only=True, monitor="val_loss")
    model.fit(X, Y, epochs=2, batch_size=16, callbacks=[best], validation_split=0.25, verbose=0)
    assert {"model_1.keras"} <= set(os.listdir(tmp_path))
    (tmp_path / "ckpt").mkdir()
    every = lamina.callbacks.ModelCheckpoint("ckpt/model-loss={loss:.2f}.keras", save_freq=3)
    model.fit(X, Y, epochs=1, batch_size=16, callbacks=[every], verbose=0)
    saved = [tmp_path / "ckpt" / name for name in os.listdir(tmp_path / "ckpt")]
    assert saved and all(path.name.startswith("model-loss=") for path in saved)
    latest = lamina.models.load_model(max(saved, key=os.path.getmtime))
    assert latest.predict(X[:4], verbose=0).shape == (4, 4)
