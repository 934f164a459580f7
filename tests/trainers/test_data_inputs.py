"""Every kind of data fit/evaluate/predict take trains the same weights as the equivalent NumPy arrays."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import lamina
from lamina.layers import Concatenate, Dense, Input
from lamina.models import Model, Sequential
from lamina.utils import PyDataset, timeseries_dataset_from_array

torch = pytest.importorskip("torch")
jnp = pytest.importorskip("jax.numpy")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(12, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.1).astype("float32")
W = np.linspace(0.5, 2.0, 12).astype("float32")
BATCH = 4


@pytest.fixture
def torch_backend():
    """For what does not depend on the backend: the cheaper one (jax compiles every new model and shape)."""
    with lamina.backend.use("torch"):
        yield "torch"


_models: dict[str, tuple[Sequential, list[np.ndarray]]] = {}


def dense_model() -> Sequential:
    """One compiled model per backend, reset to the same initial weights: its steps compile once.

    Plain SGD keeps no state besides the step count, so a reset model trains as a new one would.
    """
    name = lamina.backend.backend()
    if name not in _models:
        lamina.set_random_seed(7)
        model = Sequential([Input((3,)), Dense(2, activation="tanh"), Dense(1)])
        model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.05), loss="mse")
        _models[name] = model, model.get_weights()
    model, initial = _models[name]
    model.set_weights(initial)
    return model


def trained(x, y=None, epochs: int = 2, **kwargs) -> list[np.ndarray]:
    model = dense_model()
    model.fit(x, y, epochs=epochs, shuffle=False, verbose=0, **kwargs)
    return model.get_weights()


_reference: dict[tuple, list[np.ndarray]] = {}


def reference(backend_name: str, weighted: bool = False) -> list[np.ndarray]:
    """The weights after fitting the NumPy arrays, batches of 4 in order, for two epochs."""
    key = (backend_name, weighted)
    if key not in _reference:
        _reference[key] = trained(X, Y, batch_size=BATCH, sample_weight=W if weighted else None)
    return _reference[key]


def assert_same_weights(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def batches(weighted: bool = False):
    for start in range(0, len(X), BATCH):
        rows = slice(start, start + BATCH)
        yield (X[rows], Y[rows], W[rows]) if weighted else (X[rows], Y[rows])


class Batches(PyDataset):
    def __init__(self, weighted: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.weighted, self.epochs_ended = weighted, 0

    def __len__(self) -> int:
        return len(X) // BATCH

    def __getitem__(self, index: int):
        return list(batches(self.weighted))[index]

    def on_epoch_end(self) -> None:
        self.epochs_ended += 1


@pytest.mark.parametrize("kind", ["torch", "jax"])
def test_tensors_of_either_framework_train_as_numpy(training_backend, kind):
    x, y = (torch.from_numpy(X), torch.from_numpy(Y)) if kind == "torch" else (jnp.asarray(X), jnp.asarray(Y))
    assert_same_weights(trained(x, y, batch_size=BATCH), reference(training_backend))


def test_pandas_and_float64_train_as_numpy(torch_backend):
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    assert_same_weights(trained(frame, pd.Series(Y[:, 0]), batch_size=BATCH), reference("torch"))
    assert_same_weights(trained(X.astype("float64"), Y.astype("float64"), batch_size=BATCH), reference("torch"))
    model = dense_model()
    np.testing.assert_allclose(model.predict(frame, verbose=0), model.predict(X, verbose=0))


def test_generators_iterators_and_py_datasets_train_as_numpy(training_backend):
    want = reference(training_backend)
    assert_same_weights(trained_generator_epochs(), want)
    assert_same_weights(trained(iter(list(batches()) * 2), steps_per_epoch=3), want)
    dataset = Batches(workers=2)
    assert_same_weights(trained(dataset), want)
    assert dataset.epochs_ended == 2
    assert_same_weights(trained(Batches()), want)


def trained_generator_epochs() -> list[np.ndarray]:
    """A generator that repeats its batches, with steps_per_epoch: the same batches as the arrays."""
    def endless():
        while True:
            yield from batches()

    return trained(endless(), steps_per_epoch=3)


def test_torch_data_loader_trains_as_numpy(training_backend):
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)),
                                         batch_size=BATCH, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a DataLoader is re-iterated each epoch: it never runs out
        assert_same_weights(trained(loader), reference(training_backend))
    model = dense_model()
    predictions = model.predict(loader, verbose=0)
    np.testing.assert_allclose(predictions, model.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    assert np.isclose(model.evaluate(loader, verbose=0), model.evaluate(X, Y, batch_size=BATCH, verbose=0),
                      rtol=1e-5)


def test_torch_dataset_trains_as_numpy(training_backend):
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y))
    assert_same_weights(trained(dataset, batch_size=BATCH), reference(training_backend))


def test_sample_weights_from_a_generator_weigh_as_sample_weight(training_backend):
    want = reference(training_backend, weighted=True)
    assert not np.allclose(want[0], reference(training_backend)[0])
    assert_same_weights(trained(batches(weighted=True), epochs=1), trained(X, Y, epochs=1, batch_size=BATCH,
                                                                           sample_weight=W))
    assert_same_weights(trained(Batches(weighted=True)), want)


def test_validation_split_takes_the_last_rows(torch_backend):
    history = dense_model().fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, validation_split=0.25, verbose=0)
    model = dense_model()
    model.fit(X[:9], Y[:9], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert np.isclose(history.history["val_loss"][0], model.evaluate(X[9:], Y[9:], verbose=0), rtol=1e-5)


def test_steps_on_arrays_take_the_first_batches(torch_backend):
    """validation_steps, evaluate(steps=) and predict(steps=) on arrays stop after that many batches, as Keras."""
    model = dense_model()
    history = model.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, validation_data=(X, Y), validation_steps=2,
                        validation_batch_size=3, verbose=0)
    first_six = model.evaluate(X[:6], Y[:6], verbose=0)
    assert np.isclose(history.history["val_loss"][0], first_six, rtol=1e-5)
    assert np.isclose(model.evaluate(X, Y, batch_size=3, steps=2, verbose=0), first_six, rtol=1e-5)
    assert not np.isclose(model.evaluate(X, Y, verbose=0), first_six, rtol=1e-5)
    predicted = model.predict(X, batch_size=5, steps=2, verbose=0)
    np.testing.assert_allclose(predicted, model.predict(X[:10], verbose=0), rtol=1e-6)
    assert predicted.shape == (10, 1)


def test_validation_data_as_a_py_dataset_or_loader(torch_backend):
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)),
                                         batch_size=BATCH)
    model = dense_model()
    history = model.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, validation_data=Batches(), verbose=0)
    want = model.evaluate(X, Y, batch_size=BATCH, verbose=0)
    history_loader = dense_model().fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, validation_data=loader,
                                       verbose=0)
    assert np.isclose(history.history["val_loss"][0], want, rtol=1e-5)
    assert np.isclose(history_loader.history["val_loss"][0], want, rtol=1e-5)


def test_validation_split_with_batches_is_refused(torch_backend):
    for source in (batches(), Batches()):
        with pytest.raises(ValueError, match="validation_split"):
            dense_model().fit(source, validation_split=0.2, verbose=0)


def test_named_inputs_take_a_dict_or_a_list(torch_backend):
    def two_inputs(dict_inputs: bool) -> Model:
        lamina.set_random_seed(3)
        a, b = Input((2,), name="a"), Input((1,), name="b")
        model = Model({"a": a, "b": b} if dict_inputs else [a, b], Dense(1)(Concatenate()([a, Dense(2)(b)])))
        model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.05), loss="mse")
        return model

    def fitted(model: Model, x) -> list[np.ndarray]:
        model.fit(x, Y, batch_size=BATCH, shuffle=False, verbose=0)
        return model.get_weights()

    by_list = fitted(two_inputs(False), [X[:, :2], X[:, 2:]])
    by_name = {"b": X[:, 2:], "a": X[:, :2]}  # keyed by the Inputs' names, in any order
    assert_same_weights(fitted(two_inputs(False), by_name), by_list)
    assert_same_weights(fitted(two_inputs(True), by_name), by_list)
    frames = {"a": pd.DataFrame(X[:, :2]), "b": pd.DataFrame(X[:, 2:])}
    model = two_inputs(True)
    assert_same_weights(fitted(model, frames), by_list)
    np.testing.assert_allclose(model.predict(by_name, verbose=0), model.predict(frames, verbose=0), rtol=1e-6)


def test_timeseries_dataset_trains_as_its_windows(torch_backend):
    series = RNG.normal(size=(20, 3)).astype("float32")
    targets = series[:, :1] * 2.0
    dataset = timeseries_dataset_from_array(series, targets, sequence_length=4, batch_size=5)
    windows = np.stack([series[i:i + 4] for i in range(17)])

    def recurrent() -> Sequential:
        lamina.set_random_seed(5)
        model = Sequential([Input((4, 3)), lamina.layers.Flatten(), Dense(1)])
        model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.05), loss="mse")
        return model

    by_dataset, by_arrays = recurrent(), recurrent()
    by_dataset.fit(dataset, epochs=1, shuffle=False, verbose=0)
    by_arrays.fit(windows, targets[:17], batch_size=5, epochs=1, shuffle=False, verbose=0)
    assert_same_weights(by_dataset.get_weights(), by_arrays.get_weights())


def test_class_weight_through_a_py_dataset_weighs_as_sample_weight(torch_backend):
    labels = (Y[:, 0] > 0).astype("float32")
    weights = np.where(labels == 1, 3.0, 0.5).astype("float32")

    class Labelled(PyDataset):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, index: int):
            rows = slice(index * BATCH, (index + 1) * BATCH)
            return X[rows], labels[rows]

    want = trained(X, labels, batch_size=BATCH, sample_weight=weights)
    assert_same_weights(trained(Labelled(), class_weight={0: 0.5, 1: 3.0}), want)


def test_what_keras_refuses_with_batches_of_their_own(torch_backend):
    with pytest.raises(ValueError, match="class_weight"):
        dense_model().fit(batches(), class_weight={0: 1.0}, verbose=0)
    with pytest.raises(ValueError, match="y must not be passed"):
        dense_model().fit(Batches(), Y, verbose=0)
    with pytest.raises(ValueError, match="sample_weight must not be passed"):
        dense_model().evaluate(Batches(), sample_weight=W, verbose=0)


def test_fit_shuffles_a_py_datasets_batches(torch_backend):
    class Recording(Batches):
        def __init__(self) -> None:
            super().__init__()
            self.order: list[int] = []

        def __getitem__(self, index: int):
            self.order.append(index)
            return super().__getitem__(index)

    np.random.seed(1)
    dataset = Recording()
    dense_model().fit(dataset, epochs=4, verbose=0)
    epochs = [dataset.order[i:i + 3] for i in range(0, 12, 3)]
    assert all(sorted(e) == [0, 1, 2] for e in epochs) and any(e != [0, 1, 2] for e in epochs)
