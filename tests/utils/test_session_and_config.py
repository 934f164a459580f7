"""clear_session and get_uid reset and count as Keras's do; Config is a freezable dict read as attributes;
the serialization helpers Keras keeps in keras.utils are reachable there."""

from __future__ import annotations

import json

import pytest

import lamina
from lamina import backend, layers, utils
from lamina.utils import Config


def test_clear_session_restarts_layer_names_and_uids():
    layers.Dense(2)
    assert layers.Dense(2).name != "dense"
    backend.get_uid("block")
    utils.clear_session()
    assert layers.Dense(2).name == "dense"
    assert layers.Dense(2).name == "dense_1"
    assert [backend.get_uid("block"), backend.get_uid("block"), backend.get_uid("other")] == [1, 2, 1]
    backend.clear_session(free_memory=False)
    assert backend.get_uid("block") == 1


def test_config_reads_and_writes_entries_as_attributes_until_frozen():
    config = Config(learning_rate=0.1, layers=[8, 4])
    config.epochs = 3
    config["batch_size"] = 16
    assert (config.learning_rate, config["epochs"], config.batch_size) == (0.1, 3, 16)
    assert set(config) == {"learning_rate", "layers", "epochs", "batch_size"} and len(config) == 4
    assert json.loads(config.to_json())["layers"] == [8, 4]
    with pytest.raises(AttributeError, match="learning_rate"):
        config.learning_rat  # noqa: B018 - the error suggests the close name
    config.freeze()
    for change in (lambda: setattr(config, "epochs", 4), lambda: config.update(epochs=4), lambda: config.pop("epochs")):
        with pytest.raises(ValueError, match="frozen"):
            change()
    assert config.frozen and config.epochs == 3
    config.unfreeze()
    config.epochs = 4
    assert config.as_dict()["epochs"] == 4


def test_serialization_helpers_are_in_utils_as_in_keras():
    @utils.register_keras_serializable(package="SessionTest")
    class Doubler(layers.Layer):
        def call(self, x):
            return x * 2

    assert utils.get_registered_name(Doubler) == "SessionTest>Doubler"
    assert utils.get_custom_objects()["SessionTest>Doubler"] is Doubler
    assert utils.get_registered_object("SessionTest>Doubler") is Doubler
    assert utils.custom_object_scope is lamina.saving.custom_object_scope


def test_a_plain_name_added_to_the_custom_objects_is_found_when_loading():
    class Tripler(layers.Layer):
        def call(self, x):
            return x * 3

    config = lamina.saving.serialize_keras_object(Tripler(name="t"))
    with pytest.raises(ValueError, match="Tripler"):
        lamina.saving.deserialize_keras_object(config)
    utils.get_custom_objects()["Tripler"] = Tripler
    try:
        assert isinstance(lamina.saving.deserialize_keras_object(config), Tripler)
    finally:
        del utils.get_custom_objects()["Tripler"]
