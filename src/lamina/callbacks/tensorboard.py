"""`TensorBoard`: write training logs as TensorBoard event files.

The files are written with the `tensorboard` package's event-file writer, in the layout Keras uses:
`log_dir/train` and `log_dir/validation`, scalars named `epoch_loss`, `epoch_accuracy`, ... (`batch_loss`
with `update_freq`), `evaluation_loss_vs_iterations` after each evaluation, `epoch_learning_rate`, weight
histograms named `<weight path>/histogram`, and the model's config for TensorBoard's graph tab.
"""

from __future__ import annotations

import functools
import os
import struct
import time
import warnings
import zlib
from typing import Any

import numpy as np

from lamina.callbacks.callback import Callback, Logs

__all__ = ["TensorBoard"]

MAX_IMAGES = 3  # images written per weight, as TensorBoard's image summaries default to


@functools.lru_cache(maxsize=None)
def _tensorboard() -> Any:
    """The pieces of the `tensorboard` package used here, imported on first use."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.histogram.summary_v2 import histogram_pb
        from tensorboard.plugins.image import metadata as image_metadata
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        from tensorboard.util import tensor_util
    except ImportError as error:
        raise ImportError("The TensorBoard callback writes its files with the `tensorboard` package, which is "
                          "not installed: pip install tensorboard (or lamina[tensorboard]).") from error
    return type("TensorBoardModules", (), dict(
        event_pb2=event_pb2, summary_pb2=summary_pb2, histogram_pb=staticmethod(histogram_pb),
        image_metadata=image_metadata, scalar_pb=staticmethod(scalar_pb), EventFileWriter=EventFileWriter,
        tensor_util=tensor_util))


class TensorBoard(Callback):
    """Writes the logs of `fit` and `evaluate` for TensorBoard (`tensorboard --logdir <log_dir>`).

    Args:
        log_dir: the folder of the logs; `train/` and `validation/` go under it.
        histogram_freq: every how many epochs to write histograms of the weights (0: never).
        write_graph: write the model's config, shown in TensorBoard's graph tab.
        write_images: write the weights as images too (with the histograms).
        write_steps_per_second: log the training steps per second.
        update_freq: "epoch", "batch", or a number of batches between two writes of the `batch_` scalars.
        profile_batch: accepted for compatibility; Lamina writes no profiler traces.
        embeddings_freq: accepted for compatibility; Lamina writes no projector data.
        embeddings_metadata: accepted for compatibility.
    """

    _reads_logs_lazily = True  # step logs are read only when they are written

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False, update_freq: str | int = "epoch",
                 profile_batch: Any = 0, embeddings_freq: int = 0, embeddings_metadata: Any = None) -> None:
        super().__init__()
        _tensorboard()  # a missing package is reported when the callback is made, not after an epoch
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = _count(histogram_freq, "histogram_freq")
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = _update_freq(update_freq)
        self.profile_batch = _profile_batch(profile_batch)
        self.embeddings_freq = _count(embeddings_freq, "embeddings_freq")
        self.embeddings_metadata = embeddings_metadata
        if self.profile_batch != (0, 0):
            warnings.warn("TensorBoard(profile_batch=...) is accepted but Lamina writes no profiler traces; use "
                          "the backend's own profiler (torch.profiler, jax.profiler).", stacklevel=2)
        if self.embeddings_freq:
            warnings.warn("TensorBoard(embeddings_freq=...) is accepted but Lamina writes no embedding "
                          "projector data.", stacklevel=2)
        self._writers: dict[str, Any] = {}
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._epoch_start: tuple[float, int] | None = None
        self._batch_start_time = 0.0

    # --- writers --------------------------------------------------------------------------------------

    def _writer(self, name: str) -> Any:
        if name not in self._writers:
            folder = os.path.join(self.log_dir, "train" if name == "train" else "validation")
            self._writers[name] = _tensorboard().EventFileWriter(folder)
        return self._writers[name]

    def _write(self, writer: str, summary: Any, step: int) -> None:
        from lamina import distribution

        if not distribution.current().is_chief:  # in a run of several processes, process 0 alone writes
            return
        event = _tensorboard().event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        self._writer(writer).add_event(event)

    def _scalar(self, writer: str, tag: str, value: Any, step: int) -> None:
        self._write(writer, _tensorboard().scalar_pb(tag, float(value)), step)

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # --- hooks ----------------------------------------------------------------------------------------

    def set_model(self, model: Any) -> None:
        """Take the model; write its config for the graph tab when `write_graph`."""
        super().set_model(model)
        if self.write_graph:
            self._write_model_config()

    def on_train_begin(self, logs: Logs = None) -> None:
        """Count training batches from the start."""
        self._global_train_batch = 0

    def on_train_end(self, logs: Logs = None) -> None:
        """Write everything out and close the files."""
        self._close_writers()

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        """Start timing the epoch, for `steps_per_second`."""
        if self.write_steps_per_second:
            self._epoch_start = (time.monotonic(), self._iterations())

    def on_train_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Count the batch."""
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.monotonic()

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Write the `batch_` scalars every `update_freq` batches."""
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        step = self._global_train_batch
        if self.write_steps_per_second:
            elapsed = max(time.monotonic() - self._batch_start_time, 1e-9)
            self._scalar("train", "batch_steps_per_second", 1.0 / elapsed, step)
        for name, value in _scalars(logs):
            self._scalar("train", f"batch_{name}", value, step)

    def on_test_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Count the evaluation batch."""
        self._global_test_batch += 1

    def on_test_end(self, logs: Logs = None) -> None:
        """Write `evaluation_<metric>_vs_iterations` at the optimizer's current iteration."""
        iterations = self._iterations()
        if iterations is None:
            return
        for name, value in _scalars(logs):
            self._scalar("validation", f"evaluation_{name}_vs_iterations", value, iterations)
        self._writer("validation").flush()

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Write the epoch's scalars (training ones to train/, `val_` ones to validation/) and histograms."""
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    # --- what is written ------------------------------------------------------------------------------

    def _log_epoch_metrics(self, epoch: int, logs: Any) -> None:
        if not logs:
            return
        train = {key: value for key, value in _scalars(logs) if not key.startswith("val_")}
        validation = {key[4:]: value for key, value in _scalars(logs) if key.startswith("val_")}
        train.update(self._learning_rates())
        if self.write_steps_per_second and self._epoch_start is not None:
            train["steps_per_second"] = self._steps_per_second()
        for name, value in train.items():
            self._scalar("train", f"epoch_{name}", value, epoch)
        for name, value in validation.items():
            self._scalar("validation", f"epoch_{name}", value, epoch)
        for writer in self._writers.values():
            writer.flush()

    def _learning_rates(self) -> dict[str, float]:
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if optimizer is None:
            return {}
        if hasattr(optimizer, "optimizers"):
            return {f"learning_rate_{inner.name}": _float(inner.learning_rate) for inner in optimizer.optimizers}
        if hasattr(optimizer, "learning_rate"):
            return {"learning_rate": _float(optimizer.learning_rate)}
        return {}

    def _iterations(self) -> int | None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not getattr(optimizer, "built", False):
            return None
        return int(_float(optimizer.iterations))

    def _steps_per_second(self) -> float:
        start, iterations = self._epoch_start
        elapsed = max(time.monotonic() - start, 1e-9)
        return ((self._iterations() or 0) - (iterations or 0)) / elapsed

    def _log_weights(self, epoch: int) -> None:
        tb = _tensorboard()
        for layer in self.model.layers:
            for weight in layer.weights:
                name = weight.path.replace(":", "_")
                values = _numpy(weight)
                self._write("train", tb.histogram_pb(f"{name}/histogram", values), epoch)
                if self.write_images:
                    images = _weight_images(values)
                    if images is not None:
                        self._write("train", _image_summary(f"{name}/image", images), epoch)
        self._writer("train").flush()

    def _write_model_config(self) -> None:
        """The model's JSON config, in the summary TensorBoard's graph tab shows for Keras models."""
        if type(self.model).__name__ not in ("Functional", "Sequential") or not hasattr(self.model, "to_json"):
            return
        try:
            config = self.model.to_json()
        except Exception as error:  # noqa: BLE001 (a model that cannot be described is still trained)
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {error}", stacklevel=3)
            return
        tb = _tensorboard()
        metadata = tb.summary_pb2.SummaryMetadata(
            plugin_data=tb.summary_pb2.SummaryMetadata.PluginData(plugin_name="graph_keras_model", content=b"1"))
        tensor = tb.tensor_util.make_tensor_proto(config.encode("utf-8"))
        summary = tb.summary_pb2.Summary(value=[tb.summary_pb2.Summary.Value(tag="keras", tensor=tensor,
                                                                             metadata=metadata)])
        self._write("train", summary, 0)
        self._writer("train").flush()

    def __del__(self) -> None:
        # The writers' background threads must not outlive an instance that was never closed by fit.
        try:
            self._close_writers()
        except Exception:  # noqa: BLE001 (interpreter shutdown)
            pass


# --- helpers ---------------------------------------------------------------------------------------------


def _scalars(logs: Any) -> list[tuple[str, float]]:
    """The scalar entries of the logs as (name, float); others (arrays, strings) are left out."""
    found = []
    for key, value in (logs or {}).items():
        try:
            found.append((key, float(value)))
        except (TypeError, ValueError):
            continue
    return found


def _float(value: Any) -> float:
    return float(np.asarray(_numpy(value)))


def _numpy(value: Any) -> np.ndarray:
    from lamina import backend

    if isinstance(value, (int, float, np.ndarray, np.generic)):
        return np.asarray(value)
    return np.asarray(backend.impl.convert_to_numpy(getattr(value, "value", value)))


def _weight_images(values: np.ndarray) -> np.ndarray | None:
    """A weight as grayscale images (count, height, width), laid out as Keras lays them out, or None."""
    values = np.squeeze(values)
    if values.ndim == 1:
        return values.reshape(1, values.shape[0], 1)
    if values.ndim == 2:
        if values.shape[0] > values.shape[1]:
            values = values.T
        return values.reshape(1, *values.shape)
    if values.ndim == 3:  # a convolution kernel, channels last: one image per output channel
        return np.transpose(values, (2, 0, 1))
    return None


def _image_summary(tag: str, images: np.ndarray) -> Any:
    """An image summary (the layout TensorBoard's image plugin reads): width, height, then PNG files."""
    tb = _tensorboard()
    images = images[:MAX_IMAGES]
    low, high = float(np.min(images)), float(np.max(images))
    scaled = np.zeros(images.shape, np.uint8) if high <= low else \
        np.round((images - low) / (high - low) * 255).astype(np.uint8)
    height, width = images.shape[1:]
    encoded = [str(width).encode(), str(height).encode(), *(_png(image) for image in scaled)]
    tensor = tb.tensor_util.make_tensor_proto(encoded, dtype="string", shape=[len(encoded)])
    metadata = tb.image_metadata.create_summary_metadata(display_name=tag, description="")
    return tb.summary_pb2.Summary(value=[tb.summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=metadata)])


def _png(image: np.ndarray) -> bytes:
    """An 8-bit grayscale PNG of a 2-D uint8 array."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    height, width = image.shape
    rows = b"".join(b"\x00" + image[row].tobytes() for row in range(height))  # filter type 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _count(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"TensorBoard {name} must be a non-negative integer, got {value!r}")
    return value


def _update_freq(value: Any) -> str | int:
    if value == "batch":
        return 1
    if value == "epoch":
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ValueError(f"TensorBoard update_freq must be 'epoch', 'batch' or a positive integer, got {value!r}")


def _profile_batch(value: Any) -> tuple[int, int]:
    """profile_batch as a (start, stop) pair of batches: an int, "start,stop" or a pair of ints."""
    error = ValueError("TensorBoard profile_batch must be a non-negative integer or a 2-tuple of positive "
                       f"integers (a range of batches to profile), got {value!r}")
    if isinstance(value, str):
        try:
            value = [int(part) for part in value.split(",")]
        except ValueError:
            raise error from None
    if isinstance(value, int) and not isinstance(value, bool):
        pair = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        pair = (value[0], value[1])
    else:
        raise error
    if pair[0] < 0 or pair[1] < pair[0]:
        raise error
    return pair
