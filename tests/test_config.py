"""lamina.config: Keras's settings with their defaults, validation, the config file, and lamina.version()."""

from __future__ import annotations

import json

import pytest

import lamina
from lamina import backend, config


@pytest.fixture
def fresh_settings(monkeypatch, tmp_path):
    """Settings read afresh from a config file in a temporary LAMINA_HOME."""
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path))
    saved = dict(config._settings), dict(backend._settings)
    config._settings.clear()
    backend._settings.clear()
    yield tmp_path
    for settings, before in zip((config._settings, backend._settings), saved):
        settings.clear()
        settings.update(before)


def test_defaults_are_keras_defaults(fresh_settings) -> None:
    assert config.floatx() == "float32" and config.epsilon() == 1e-7
    assert config.image_data_format() == "channels_last"
    assert config.is_interactive_logging_enabled() is True
    assert config.is_unsafe_deserialization_enabled() is False
    assert config.is_flash_attention_enabled() is None and config.is_nnx_enabled() is False
    assert config.max_epochs() is None and config.max_steps_per_epoch() is None
    assert config.is_traceback_filtering_enabled() is True


def test_settings_come_from_the_config_file(fresh_settings) -> None:
    (fresh_settings / "lamina.json").write_text(json.dumps({"floatx": "float16", "epsilon": 1e-4,
                                                             "image_data_format": "channels_first"}))
    assert config.floatx() == "float16" and config.epsilon() == 1e-4
    assert config.image_data_format() == "channels_first"


def test_setters_change_and_validate(fresh_settings) -> None:
    config.set_floatx("float64")
    config.set_epsilon(1e-5)
    config.set_image_data_format("channels_first")
    assert (config.floatx(), config.epsilon(), config.image_data_format()) == ("float64", 1e-5, "channels_first")
    assert (backend.floatx(), backend.epsilon(), backend.image_data_format()) == ("float64", 1e-5, "channels_first")
    backend.set_floatx("float32")
    assert config.floatx() == "float32"
    with pytest.raises(ValueError, match="set_floatx"):
        config.set_floatx("int32")
    with pytest.raises(ValueError, match="set_epsilon"):
        config.set_epsilon("small")
    with pytest.raises(ValueError, match="data_format"):
        config.set_image_data_format("channels_middle")
    with pytest.raises(ValueError, match="max_epochs"):
        config.set_max_epochs(0)
    config.set_max_epochs(3)
    config.set_max_steps_per_epoch(10)
    assert config.max_epochs() == 3 and config.max_steps_per_epoch() == 10


def test_switches(fresh_settings) -> None:
    config.disable_interactive_logging()
    assert config.is_interactive_logging_enabled() is False
    config.enable_interactive_logging()
    assert config.is_interactive_logging_enabled() is True
    config.enable_unsafe_deserialization()
    assert config.is_unsafe_deserialization_enabled() is True
    config.disable_flash_attention()
    assert config.is_flash_attention_enabled() is False
    config.enable_flash_attention()
    assert config.is_flash_attention_enabled() is True
    config.disable_traceback_filtering()
    assert config.is_traceback_filtering_enabled() is False


def test_backend_names_the_active_backend() -> None:
    with backend.use("jax"):
        assert config.backend() == "jax" == backend.backend()
    with backend.use("numpy"):
        config.set_backend("torch")
        assert config.backend() == "torch"
    with pytest.raises(ValueError, match="backend"):
        config.set_backend("tensorflow")


def test_version() -> None:
    assert lamina.version() == lamina.__version__
    assert all(part.isdigit() for part in lamina.__version__.split(".")[:2])


def test_keras_backend_dtype_helpers() -> None:
    assert backend.standardize_dtype(None) == config.floatx() and backend.standardize_dtype("float") == "float32"
    assert backend.is_float_dtype("bfloat16") and not backend.is_float_dtype("int32")
    assert backend.is_int_dtype("uint8") and not backend.is_int_dtype("float16")
    assert backend.result_type("int64", "float32") == "float32"  # no widening to float64, unlike NumPy
    assert backend.result_type("bfloat16", "float16") == "float32"
    assert backend.result_type("int8", "uint8") == "int16" and backend.result_type() == config.floatx()
