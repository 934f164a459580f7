"""Keras 2's spelling of data parallelism: `with MirroredStrategy().scope(): model = ...; model.compile(...)`."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

from lamina.distribution import set_distribution
from lamina.distribution.parallel import DataParallel


class MirroredStrategy:
    """Data parallelism over the local devices (or `devices`, "platform:id" strings): a copy of the model on
    each, every global batch split between them, the gradients averaged. Entering `scope()` sets it for
    the models built and compiled there; it stays in effect for their fit/evaluate/predict after the block
    (until `lamina.distribution.set_distribution(None)` or another distribution is set)."""

    def __init__(self, devices: Sequence[Any] | None = None, cross_device_ops: Any = None) -> None:
        if devices is not None and (isinstance(devices, str) or len(devices) == 0):
            raise ValueError(f"devices must be a non-empty list of device names such as ['gpu:0', 'gpu:1'], "
                             f"got {devices!r}.")
        self._distribution = DataParallel(devices=None if devices is None else list(devices))

    @property
    def distribution(self) -> DataParallel:
        """The DataParallel distribution this strategy sets."""
        return self._distribution

    @property
    def num_replicas_in_sync(self) -> int:
        """How many copies of the model train together (devices, or torch processes)."""
        return self._distribution.num_replicas

    @property
    def extended(self) -> "MirroredStrategy":
        return self

    @contextlib.contextmanager
    def scope(self) -> Iterator["MirroredStrategy"]:
        """Sets data parallelism for the models made in the block; it stays in effect after it."""
        set_distribution(self._distribution)
        yield self

    def __repr__(self) -> str:
        return f"<MirroredStrategy num_replicas_in_sync={self.num_replicas_in_sync}>"
