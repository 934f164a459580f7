"""TensorBoard: event files that TensorBoard's own reader reads back, in Keras's layout and names."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

from lamina import layers, models  # noqa: E402
from lamina.callbacks import CallbackList, TensorBoard  # noqa: E402


def read(folder) -> EventAccumulator:
    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    return events


def values(events: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(event.step, float(tensor_util.make_ndarray(event.tensor_proto))) for event in events.Tensors(tag)]


def test_fit_writes_every_epochs_scalars_and_histograms(training_backend, tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 3)).astype("float32"), rng.normal(size=(12, 1)).astype("float32")
    model = models.Sequential([layers.Input((3,)), layers.Dense(2), layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=4, epochs=3, validation_data=(x, y), verbose=0,
                        callbacks=[TensorBoard(tmp_path, histogram_freq=2, update_freq=2)])
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train, validation = read(tmp_path / "train"), read(tmp_path / "validation")
    for key, events, name in [("loss", train, "epoch_loss"), ("mae", train, "epoch_mae"),
                              ("val_loss", validation, "epoch_loss"), ("val_mae", validation, "epoch_mae")]:
        found = values(events, name)
        assert [step for step, _ in found] == [0, 1, 2]
        np.testing.assert_allclose([value for _, value in found], history.history[key], rtol=1e-6)
    assert values(train, "epoch_learning_rate") == [(epoch, pytest.approx(0.01)) for epoch in range(3)]
    # update_freq=2: batch scalars at global batches 2, 4, 6, 8 (3 batches an epoch)
    assert [step for step, _ in values(train, "batch_loss")] == [2, 4, 6, 8]
    histograms = [tag for tag in train.Tags()["tensors"] if tag.endswith("/histogram")]
    assert sorted(histograms) == sorted(f"{weight.path}/histogram" for weight in model.weights)
    kernel = train.Tensors(f"{model.layers[0].kernel.path}/histogram")
    assert [event.step for event in kernel] == [0, 2]
    buckets = tensor_util.make_ndarray(kernel[-1].tensor_proto)
    assert buckets.shape[1] == 3 and buckets[:, 2].sum() == 6  # (left, right, count) over the 3x2 kernel
    assert "keras" in train.Tags()["tensors"]  # the model's config, for the graph tab


def test_evaluate_writes_evaluation_vs_iterations(tmp_path):
    model = models.Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((8, 3), "float32"), np.ones((8, 1), "float32")
    board = TensorBoard(tmp_path, write_graph=False)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0, callbacks=[board])
    board.on_train_end()  # closes (flushes) the writers
    found = values(read(tmp_path / "validation"), "evaluation_loss_vs_iterations")
    assert [step for step, _ in found] == [2]


def test_images_and_steps_per_second(tmp_path):
    model = models.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile("sgd", "mse")
    x = np.ones((8, 3), "float32")
    model.fit(x, x[:, :2], batch_size=4, epochs=1, verbose=0, callbacks=[
        TensorBoard(tmp_path, histogram_freq=1, write_images=True, write_steps_per_second=True,
                    update_freq="batch", write_graph=False)])
    train = read(tmp_path / "train")
    tags = train.Tags()["tensors"]
    kernel, bias = (weight.path for weight in model.weights)
    assert {f"{kernel}/image", f"{bias}/image", "epoch_steps_per_second", "batch_steps_per_second"} <= set(tags)
    image = train.Tensors(f"{kernel}/image")[0].tensor_proto.string_val
    assert image[0] == b"3" and image[1] == b"2" and image[2].startswith(b"\x89PNG")  # width, height, PNG


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard(update_freq="step")
    with pytest.raises(ValueError, match="histogram_freq"):
        TensorBoard(histogram_freq=-1)
    with pytest.raises(ValueError, match="profile_batch"):
        TensorBoard(profile_batch=(5, 2))
    with pytest.warns(UserWarning, match="profiler"):
        TensorBoard(profile_batch="2,4")
    assert TensorBoard(update_freq="batch").update_freq == 1


def test_batch_logs_are_read_only_when_written(tmp_path):
    class Logs(dict):
        reads = 0

        def items(self):
            Logs.reads += 1
            return super().items()

    board = TensorBoard(tmp_path, update_freq=3, write_graph=False)
    hooks = CallbackList([board])
    hooks.on_train_begin()
    for step in range(6):
        hooks.on_train_batch_begin(step)
        hooks.on_train_batch_end(step, Logs(loss=1.0))
    hooks.on_train_end()
    assert Logs.reads == 2


def test_a_missing_tensorboard_package_is_named(monkeypatch):
    import sys

    from lamina.callbacks import tensorboard as module

    module._tensorboard.cache_clear()
    for name in [name for name in sys.modules if name.startswith("tensorboard.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    try:
        with pytest.raises(ImportError, match="pip install tensorboard"):
            TensorBoard()
    finally:
        module._tensorboard.cache_clear()
