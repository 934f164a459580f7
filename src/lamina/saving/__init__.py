"""Saving and loading: the .keras file, weights files, configs, and the registry of custom objects."""

from lamina.saving.file_editor import KerasFileEditor
from lamina.saving.registry import (
    custom_object_scope,
    deserialize_function,
    deserialize_layer,
    deserialize_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    register_lamina_serializable,
    serialize_function,
    serialize_layer,
    serialize_object,
)
from lamina.saving.saving_api import load_model, load_weights, save_model, save_weights

# Keras's spellings of the generic object (de)serializers
serialize_lamina_object = serialize_keras_object = serialize_object
deserialize_lamina_object = deserialize_keras_object = deserialize_object
CustomObjectScope = custom_object_scope

__all__ = ["CustomObjectScope", "KerasFileEditor",
           "custom_object_scope", "deserialize_function", "deserialize_keras_object",
           "deserialize_lamina_object", "deserialize_layer", "deserialize_object", "get_custom_objects",
           "get_registered_name",
           "get_registered_object", "load_model", "load_weights", "register_keras_serializable",
           "register_lamina_serializable", "save_model", "save_weights", "serialize_function",
           "serialize_keras_object", "serialize_lamina_object", "serialize_layer", "serialize_object"]
