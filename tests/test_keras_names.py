"""Lamina has every public name of Keras 3 in the model-building and training namespaces.

tests/data/keras3_names.json holds those names as Keras 3 publishes them (a fact about its API, kept here
so that the suite needs nothing outside the repository). A name Lamina deliberately leaves out is listed
in NOT_PROVIDED with the reason; every other name must resolve, and a name listed there must really be
absent (so the list cannot go stale).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

NAMES = json.loads((Path(__file__).parent / "data" / "keras3_names.json").read_text())

NOT_PROVIDED: dict[str, str] = {
    "keras.layers.TFSMLayer": "loads a TensorFlow SavedModel: needs TensorFlow, which is not a Lamina backend",
    "keras.layers.FlaxLayer": "wraps a Flax module: needs flax, which Lamina does not depend on (JaxLayer wraps "
                              "plain jax functions)",
    "keras.callbacks.OrbaxCheckpoint": "writes checkpoints with the orbax library, which Lamina does not depend on "
                                       "(ModelCheckpoint and BackupAndRestore cover saving during training)",
}


def lamina_namespace(keras_namespace: str):
    return importlib.import_module("lamina" + keras_namespace[len("keras"):])


def missing_names(keras_namespace: str) -> list[str]:
    module = lamina_namespace(keras_namespace)
    return [name for name in NAMES["namespaces"][keras_namespace] if not hasattr(module, name)]


@pytest.mark.parametrize("keras_namespace", sorted(NAMES["namespaces"]))
def test_every_keras_name_of_the_namespace_exists(keras_namespace: str) -> None:
    missing = [name for name in missing_names(keras_namespace)
               if f"{keras_namespace}.{name}" not in NOT_PROVIDED]
    assert missing == [], f"{keras_namespace} lacks {len(missing)} of Keras 3's names: {missing}"


def test_the_names_left_out_are_really_absent_and_known_to_keras() -> None:
    for qualified in NOT_PROVIDED:
        namespace, _, name = qualified.rpartition(".")
        assert name in NAMES["namespaces"][namespace], f"{qualified} is not a Keras 3 name"
        assert not hasattr(lamina_namespace(namespace), name), f"{qualified} exists now: remove it from NOT_PROVIDED"
