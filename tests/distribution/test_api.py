"""Keras's keras.distribution API on both backends, in one process: devices, meshes, layouts, the layout map's
matching, the distribution in effect, and the errors of bad set-ups."""

from __future__ import annotations

import pytest

import lamina
from lamina import distribution as D


@pytest.fixture(autouse=True)
def single_process():
    yield
    D.set_distribution(None)


def test_devices_are_listed_as_platform_and_id(training_backend):
    devices = D.list_devices()
    assert devices and all(":" in device for device in devices)
    assert D.get_device_count() == len(devices)
    assert D.get_device_count("gpu") == len(D.list_devices("gpu"))
    with pytest.raises(ValueError, match="device_type"):
        D.list_devices("quantum")


def test_a_mesh_checks_its_shape_names_and_devices(training_backend):
    devices = D.list_devices()
    mesh = D.DeviceMesh((len(devices),), ("batch",), devices)
    assert mesh.shape == (len(devices),) and mesh.axis_names == ("batch",) and mesh.devices == devices
    with pytest.raises(ValueError, match=r"shape \(3,\) holds 3 devices, but 1 devices were given"):
        D.DeviceMesh((3,), ("batch",), devices[:1])
    with pytest.raises(ValueError, match="axis_names must name each of the 2 axes"):
        D.DeviceMesh((1, 1), ("batch",), devices[:1])
    with pytest.raises(ValueError, match=r"\['cpu:9'\] do not exist here"):
        D.DeviceMesh((2,), ("batch",), [devices[0], "cpu:9"])


def test_a_layout_names_axes_of_its_mesh():
    mesh = D.DeviceMesh((1,), ("model",), D.list_devices()[:1])
    assert D.TensorLayout((None, "model"), mesh).axes == (None, "model")
    with pytest.raises(ValueError, match=r"name \['batch'\], which the mesh's axis_names \('model',\) lack"):
        D.TensorLayout(("batch", None), mesh)


def test_the_layout_map_matches_paths_by_regular_expression():
    mesh = D.DeviceMesh((1, 1), ("batch", "model"), D.list_devices()[:1])
    layout_map = D.LayoutMap(mesh)
    layout_map["dense.*kernel"] = (None, "model")
    layout_map["dense_1/bias"] = D.TensorLayout(("model",))
    assert layout_map["sequential/dense_3/kernel"].axes == (None, "model")
    assert layout_map["dense_1/bias"].axes == ("model",) and layout_map["dense_1/bias"].device_mesh is mesh
    assert layout_map["conv/kernel"] is None
    assert len(layout_map) == 2 and list(layout_map) == ["dense.*kernel", "dense_1/bias"]
    layout_map["_1/b"] = ("model",)
    with pytest.raises(ValueError, match="matches several LayoutMap keys"):
        layout_map["dense_1/bias_extra"]
    with pytest.raises(TypeError, match="TensorLayout or a tuple"):
        layout_map["x"] = "model"
    del layout_map["_1/b"]
    assert "_1/b" not in layout_map


def test_the_distribution_in_effect(training_backend):
    assert D.distribution() is None and type(D.current()) is D.Distribution
    with pytest.raises(TypeError, match="set_distribution's value"):
        D.set_distribution("data parallel")
    parallel = D.DataParallel(devices=D.list_devices()[:1])
    with parallel.scope():
        assert D.distribution() is parallel
    assert D.distribution() is None
    D.set_distribution(parallel)
    assert D.distribution() is parallel and parallel.process_count == 1 and parallel.is_chief
    if training_backend == "torch":  # torch trains through the process group, one process here
        assert type(parallel._delegate).__name__ == "TorchProcesses"
    else:
        assert parallel.batch_dim_name == "batch" and parallel.num_replicas == 1


def test_mirrored_strategy_sets_data_parallelism_for_what_follows(training_backend):
    strategy = D.MirroredStrategy()
    with strategy.scope():
        pass
    assert isinstance(D.distribution(), D.DataParallel) and strategy.num_replicas_in_sync == 1


def test_bad_arguments_are_refused_before_any_work(training_backend):
    with pytest.raises(ValueError, match="process_id must be below num_processes"):
        D.initialize("127.0.0.1:1234", 2, 2)
    with pytest.raises(ValueError, match="host:port"):
        D.initialize("127.0.0.1", 2, 0)
    with pytest.raises(ValueError, match="gpus >= 2"):
        lamina.utils.multi_gpu_model(lamina.Sequential([lamina.Input((2,))]), gpus=1)
    with pytest.raises(ValueError, match="asked for 64 devices"):
        lamina.utils.multi_gpu_model(lamina.Sequential([lamina.Input((2,))]), gpus=64)
    with pytest.raises(ValueError, match="layout_map"):
        D.ModelParallel()
    with pytest.raises(ValueError, match="either device_mesh or devices"):
        D.DataParallel(device_mesh=D.DeviceMesh((1,), ("batch",), D.list_devices()[:1]), devices=["cpu:0"])


def test_jax_meshes_are_refused_on_torch_with_a_clear_error():
    from lamina import backend

    with backend.use("torch"), pytest.raises(ValueError, match="jax backend only"):
        backend.impl.make_mesh((1,), ("batch",), ["cpu:0"])
