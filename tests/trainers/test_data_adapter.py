"""What fit/evaluate/predict make of their data: checked arrays, validation splits, device copies, generators."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend
from lamina.trainers import data_adapter

X = np.arange(20, dtype="float64").reshape(10, 2)
Y = np.arange(10)


def test_array_data_counts_samples_and_makes_float64_float32() -> None:
    data = data_adapter.array_data(X, Y)
    assert data.count == 10
    assert data.x.dtype == np.float32 and data.y.dtype == Y.dtype  # labels keep their integer type
    np.testing.assert_array_equal(data.x, X.astype("float32"))
    assert data.sample_weight is None


def test_array_data_takes_lists_dicts_and_nested_inputs() -> None:
    data = data_adapter.array_data({"a": X, "b": np.ones((10, 1))}, [Y, Y * 2], sample_weight=np.arange(10))
    assert data.count == 10
    assert set(data.x) == {"a", "b"} and data.x["b"].shape == (10, 1)
    assert isinstance(data.y, list) and len(data.y) == 2
    np.testing.assert_array_equal(data.sample_weight, np.arange(10))


def test_array_data_reads_objects_with_to_numpy() -> None:
    class Frame:  # what a pandas DataFrame offers
        def to_numpy(self):
            return X

    data = data_adapter.array_data(Frame(), Y)
    np.testing.assert_array_equal(data.x, X.astype("float32"))


def test_array_data_keeps_backend_tensors() -> None:
    with backend.use("torch") as B:
        tensor = B.convert_to_tensor(X.astype("float32"))
        data = data_adapter.array_data(tensor, Y)
        assert data.x is tensor and data.count == 10


@pytest.mark.parametrize("x, y, sample_weight, error", [
    (None, Y, None, ValueError),  # no x
    (X, Y[:9], None, ValueError),  # y has fewer samples
    (X, Y, np.ones(11), ValueError),  # sample_weight has more
    ({"a": X, "b": X[:5]}, Y, None, ValueError),  # inputs disagree
    (np.float32(3.0), None, None, ValueError),  # no batch axis
    (np.array(["a", "b"]), None, None, TypeError),  # not numbers
    ([[1, 2], [3]], None, None, ValueError),  # ragged
])
def test_bad_arrays_raise(x, y, sample_weight, error) -> None:
    with pytest.raises(error):
        data_adapter.array_data(x, y, sample_weight)


def test_mismatched_counts_are_named() -> None:
    with pytest.raises(ValueError) as raised:
        data_adapter.array_data(X, Y[:7])
    assert "10" in str(raised.value) and "7" in str(raised.value)


def test_split_keeps_the_last_fraction_for_validation() -> None:
    # As Keras's validation_split: the last samples, before any shuffling.
    weights = np.linspace(0, 1, 10)
    train, validation = data_adapter.array_data({"a": X}, Y, weights).split(0.3)
    assert (train.count, validation.count) == (7, 3)
    np.testing.assert_array_equal(train.y, Y[:7])
    np.testing.assert_array_equal(validation.y, Y[7:])
    np.testing.assert_array_equal(validation.x["a"], X[7:].astype("float32"))
    np.testing.assert_allclose(validation.sample_weight, weights[7:])


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 1.5, 0.999])
def test_split_that_leaves_a_side_empty_raises(fraction: float) -> None:
    with pytest.raises(ValueError):
        data_adapter.array_data(X, Y).split(fraction)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_to_device_converts_once(backend_name: str) -> None:
    with backend.use(backend_name) as B:
        data = data_adapter.array_data({"a": X}, Y)
        x, y, weights = data.to_device()
        assert B.is_tensor(x["a"]) and B.is_tensor(y) and weights is None
        np.testing.assert_array_equal(B.convert_to_numpy(x["a"]), X.astype("float32"))
        again = data.to_device()
        assert again[0]["a"] is x["a"] and again[1] is y


class Batches:
    """A Keras-style Sequence: indexable batches with a length, told when an epoch ends."""

    def __init__(self, count: int = 3) -> None:
        self.count, self.epochs_ended = count, 0

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int):
        return X[2 * index:2 * index + 2], Y[2 * index:2 * index + 2]

    def on_epoch_end(self) -> None:
        self.epochs_ended += 1


def test_is_generator_like() -> None:
    assert data_adapter.is_generator_like(x for x in range(3))
    assert data_adapter.is_generator_like(iter([1, 2]))
    assert data_adapter.is_generator_like(Batches())
    for not_a_generator in (X, [X], (X, Y), {"a": X}, "text"):
        assert not data_adapter.is_generator_like(not_a_generator)
    with backend.use("torch") as B:
        assert not data_adapter.is_generator_like(B.convert_to_tensor(X))


def test_unpack_batch() -> None:
    assert data_adapter.unpack_batch((X,)) == (X, None, None)
    assert data_adapter.unpack_batch((X, Y)) == (X, Y, None)
    assert data_adapter.unpack_batch((X, Y, Y)) == (X, Y, Y)
    assert data_adapter.unpack_batch(X)[0] is X
    with pytest.raises(ValueError):
        data_adapter.unpack_batch((X, Y, Y, Y))


def test_sequence_epochs_take_every_batch_and_call_on_epoch_end() -> None:
    source = Batches(3)
    data = data_adapter.GeneratorData(source, None)
    assert data.steps == 3
    for epoch in range(2):
        batches = list(data.epoch())
        assert [b.count for b in batches] == [2, 2, 2]
        np.testing.assert_array_equal(np.concatenate([b.y for b in batches]), Y[:6])
        assert source.epochs_ended == epoch + 1


def test_sequence_with_fewer_steps() -> None:
    batches = list(data_adapter.GeneratorData(Batches(5), 2).epoch())
    assert len(batches) == 2
    np.testing.assert_array_equal(batches[1].y, Y[2:4])


def test_generator_epochs_continue_where_the_last_one_stopped() -> None:
    def endless():
        start = 0
        while True:
            yield X[start % 10:start % 10 + 1], Y[start % 10:start % 10 + 1]
            start += 1

    data = data_adapter.GeneratorData(endless(), 3)
    first = [int(b.y[0]) for b in data.epoch()]
    second = [int(b.y[0]) for b in data.epoch()]
    assert first == [0, 1, 2] and second == [3, 4, 5]


def test_generator_batches_are_checked_like_arrays() -> None:
    data = data_adapter.GeneratorData(iter([(X[:2], Y[:3])]), 1)
    with pytest.raises(ValueError):
        list(data.epoch())


# --- torch and jax objects, DataLoaders, datasets of samples ------------------------------------------


def test_framework_objects_are_told_apart_without_importing_torch_here() -> None:
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    import pandas as pd

    samples = torch.utils.data.TensorDataset(torch.zeros(4, 2), torch.zeros(4))
    assert data_adapter.is_generator_like(torch.utils.data.DataLoader(samples, batch_size=2))
    for not_batches in (samples, torch.zeros(3, 2), jnp.zeros((3, 2)), pd.DataFrame(X), pd.Series(Y)):
        assert not data_adapter.is_generator_like(not_batches)
    assert data_adapter.is_torch_tensor(torch.nn.Parameter(torch.zeros(1)))
    assert not data_adapter.is_torch_tensor(X)


def test_torch_datasets_are_read_into_arrays() -> None:
    torch = pytest.importorskip("torch")

    class Samples(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 10

        def __getitem__(self, index: int):
            return torch.from_numpy(X[index]), int(Y[index])

    with backend.use("jax"):
        for dataset in (Samples(), torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y))):
            data = data_adapter.array_data(dataset)
            assert data.count == 10 and isinstance(data.x, np.ndarray)
            np.testing.assert_array_equal(data.x, X.astype("float32"))
            np.testing.assert_array_equal(data.y, Y)
    with pytest.raises(ValueError, match="y must not be passed"):
        data_adapter.array_data(Samples(), Y)


def test_torch_tensors_under_jax_become_arrays() -> None:
    torch = pytest.importorskip("torch")
    with backend.use("jax"):
        data = data_adapter.array_data(torch.from_numpy(X), torch.from_numpy(Y))
        assert isinstance(data.x, np.ndarray) and data.x.dtype == np.float32


def test_data_loaders_start_a_new_pass_every_epoch() -> None:
    torch = pytest.importorskip("torch")
    samples = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y))
    data = data_adapter.GeneratorData(torch.utils.data.DataLoader(samples, batch_size=4), None)
    assert data.steps == 3
    for _ in range(2):
        batches = list(data.epoch())
        np.testing.assert_array_equal(np.concatenate([np.asarray(b.y) for b in batches]), Y)
        assert not data.ran_short


def test_iterables_of_unknown_length_restart_at_an_epoch_boundary() -> None:
    torch = pytest.importorskip("torch")

    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(zip(torch.from_numpy(X[:6]), torch.from_numpy(Y[:6])))

    data = data_adapter.GeneratorData(torch.utils.data.DataLoader(Stream(), batch_size=2), 3)
    assert [[int(v) for v in b.y] for b in data.epoch()] == [[0, 1], [2, 3], [4, 5]]
    assert [[int(v) for v in b.y] for b in data.epoch()] == [[0, 1], [2, 3], [4, 5]]


def test_a_list_from_a_data_loader_is_x_and_y() -> None:
    assert data_adapter.unpack_batch([X, Y]) == (X, Y, None)


def test_what_batches_of_their_own_refuse() -> None:
    with pytest.raises(ValueError, match="y must not be passed"):
        data_adapter.GeneratorData(iter([(X, Y)]), None, y=Y)
    with pytest.raises(ValueError, match="sample_weight must not be passed"):
        data_adapter.GeneratorData(Batches(), None, sample_weight=Y)
    with pytest.raises(ValueError, match="class_weight is not supported when x is a generator"):
        data_adapter.GeneratorData((b for b in [(X, Y)]), None, class_weight={0: 1.0})
    with pytest.raises(ValueError, match="no batches"):
        data_adapter.GeneratorData(Batches(0), None)


def test_class_weights_follow_the_argmax_of_one_hot_targets() -> None:
    one_hot = np.eye(3)[[0, 2, 1, 2]]
    weights = data_adapter.class_weight_to_sample_weights(one_hot, {0: 2.0, 2: 0.5})
    np.testing.assert_array_equal(weights, [2.0, 0.5, 1.0, 0.5])
    np.testing.assert_array_equal(data_adapter.class_weight_to_sample_weights(np.array([[1.0], [0.0]]), {1: 4.0}),
                                  [4.0, 1.0])


def test_classes_without_a_class_weight_weigh_one() -> None:
    weights = data_adapter.class_weight_to_sample_weights(np.array([-1, 0, 5, 0]), {0: 2.0, -1: 0.0})
    np.testing.assert_array_equal(weights, [0.0, 2.0, 1.0, 2.0])
