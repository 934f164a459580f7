"""TorchProcesses without launching processes: torchrun's environment checked before any work, the rows each
process takes, and the process-group entries on jax."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend, layers
from lamina.distribution.processes import ENVIRONMENT, TorchProcesses, torchrun_environment
from lamina.trainers.data_adapter import ArrayData

FULL = {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}


def test_no_variable_set_is_one_process() -> None:
    assert torchrun_environment({}) is None
    assert torchrun_environment(FULL) == {**FULL, "RANK": 1, "WORLD_SIZE": 2, "LOCAL_RANK": 1, "MASTER_PORT": 29500}


@pytest.mark.parametrize("missing", [("MASTER_PORT",), ("RANK", "LOCAL_RANK")])
def test_half_set_environment_names_the_missing_variables(missing: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    for name, value in FULL.items():
        if name not in missing:
            monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"half set: {', '.join(missing)} missing"):
        TorchProcesses()  # before joining any process group


@pytest.mark.parametrize("change, message", [({"RANK": "two"}, "RANK must be an integer, got 'two'"),
                                             ({"RANK": "2"}, r"RANK must be in \[0, WORLD_SIZE\)")])
def test_bad_values_are_named(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        torchrun_environment({**FULL, **change})


def _processes(rank: int, count: int) -> TorchProcesses:
    with backend.use("torch"):
        processes = TorchProcesses()
    processes.process_index, processes.process_count = rank, count
    return processes


def test_each_global_batch_is_shared_by_the_processes() -> None:
    """The union over processes of their k-th local batch is exactly global batch k."""
    order = np.random.default_rng(0).permutation(23)
    shares = [_processes(rank, 3) for rank in range(3)]
    local = [(p.local_rows(order), p.local_batch_size(6)) for p in shares]
    for k in range(4):
        rows = np.concatenate([o[k * size:(k + 1) * size] for o, size in local])
        np.testing.assert_array_equal(np.sort(rows), np.sort(order[k * 6:(k + 1) * 6]))


def test_batches_that_cannot_be_shared_are_refused() -> None:
    processes = _processes(0, 4)
    with pytest.raises(ValueError, match="divisible by 4, got 10"):
        processes.local_batch_size(10)
    with pytest.raises(ValueError, match="holds 2 sample"):
        processes.check_batches(18, 8)  # the last batch: 2 samples for 4 processes
    processes.check_batches(21, 8)  # 5 samples: every process gets one or two


def test_a_generator_batch_is_cut_to_the_process_rows() -> None:
    x, y = np.arange(10).reshape(5, 2), np.arange(5)
    share = _processes(1, 2).local_batch(ArrayData(x, y, None, 5))
    np.testing.assert_array_equal(share.x, x[1::2])
    np.testing.assert_array_equal(share.y, y[1::2])
    assert share.count == 2 and share.sample_weight is None
    with pytest.raises(ValueError, match="A batch of 1 sample"):
        _processes(0, 2).local_batch(ArrayData(x[:1], y[:1], None, 1))


def test_sharded_weights_are_refused_with_a_warning() -> None:
    with backend.use("torch"), pytest.warns(UserWarning, match="fully_shard cannot shard"):
        assert TorchProcesses(shard_weights=True).shard_weights


def test_one_process_synchronized_batch_normalization_is_the_plain_one() -> None:
    x = np.random.default_rng(1).normal(size=(6, 3, 4)).astype("float32")
    with backend.use("torch"):
        plain, synced = layers.BatchNormalization(), layers.BatchNormalization(synchronized=True)
        expected = backend.impl.convert_to_numpy(plain(x, training=True))
        np.testing.assert_allclose(backend.impl.convert_to_numpy(synced(x, training=True)), expected, atol=1e-5)
        np.testing.assert_allclose(synced.moving_variance.numpy(), plain.moving_variance.numpy(), atol=1e-6)


def test_process_group_entries_on_jax() -> None:
    with backend.use("jax") as B:
        x = np.random.default_rng(2).normal(size=(5, 3)).astype("float32")
        mean, variance = B.processes_moments(x, (0,))
        np.testing.assert_allclose(np.asarray(mean), x.mean(0), atol=1e-6)
        np.testing.assert_allclose(np.asarray(variance), x.var(0), atol=1e-6)
        with pytest.raises(ValueError, match="torch backend only"):
            B.processes_barrier()
        with pytest.raises(ValueError, match="torch backend only"):
            B.processes_sum([x])


def test_checkpoints_by_batch_keeping_the_best_are_refused_on_several_processes(tmp_path) -> None:
    from lamina import callbacks, distribution

    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True, save_freq=2)
    distribution.set_distribution(_processes(0, 2))
    try:
        with pytest.raises(ValueError, match="save_freq='epoch'"):
            checkpoint.on_train_begin()
    finally:
        distribution.set_distribution(None)
    checkpoint.on_train_begin()  # one process: allowed
