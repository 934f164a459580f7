"""The `lamina` command: the demo on both training backends, and `--help`/`info` with missing backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lamina.cli import demo_failures


def run_cli(*args: str, cwd, missing: tuple[str, ...] = (), **environment: str) -> subprocess.CompletedProcess:
    """Run `lamina ARGS` with no backend variables but `environment`, its own (empty) config folder, and
    the packages in `missing` made impossible to import (None in sys.modules, set by a sitecustomize)."""
    site = cwd / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(f"import sys\nfor name in {missing!r}:\n    sys.modules[name] = None\n")
    env = {k: v for k, v in os.environ.items() if k not in ("LAMINA_BACKEND", "KERAS_BACKEND")}
    env.update(LAMINA_HOME=str(cwd), PYTHONPATH=os.pathsep.join([str(site), *sys.path]), **environment)
    return subprocess.run([sys.executable, "-m", "lamina.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


# `make demo` runs on torch; jax trains the same programs in tests/test_examples.py, so the 30-epoch demo runs once.
@pytest.mark.parametrize("backend_name", ["torch"])
def test_demo_reaches_accuracy_and_reloads_identically(tmp_path, backend_name):
    result = run_cli("demo", "--backend", backend_name, "--output", str(tmp_path / "digits.keras"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"on {backend_name}" in result.stdout
    assert "Epoch 1/30" in result.stdout
    accuracy = float(result.stdout.split("test accuracy ")[1].split()[0])
    assert accuracy >= 0.95
    assert "reloaded predictions identical: True" in result.stdout
    assert (tmp_path / "digits.keras").is_file()


def test_demo_reports_only_the_check_that_failed(tmp_path):
    result = run_cli("demo", "--epochs", "1", "--output", str(tmp_path / "digits.keras"), cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "reloaded predictions identical: True" in result.stdout
    accuracy = float(result.stdout.split("test accuracy ")[1].split()[0])
    assert result.stderr.strip().splitlines()[-1] == (
        f"demo FAILED: test accuracy {accuracy:.4f} is below 0.95 (more epochs may help: --epochs)")
    assert "reload" not in result.stderr


def test_demo_failures_one_message_per_failed_check():
    assert demo_failures(0.97, True, "m.keras") == []
    low, = demo_failures(0.5, True, "m.keras")
    assert "accuracy 0.5000 is below 0.95" in low and "reload" not in low
    differ, = demo_failures(0.97, False, "m.keras")
    assert "m.keras" in differ and "predicts differently" in differ and "accuracy" not in differ
    assert len(demo_failures(0.5, False, "m.keras")) == 2


def test_demo_without_a_training_backend_says_what_to_install(tmp_path):
    result = run_cli("demo", cwd=tmp_path, missing=("torch", "jax"))
    assert result.returncode == 2
    assert "lamina demo needs a training backend" in result.stderr
    assert 'pip install "lamina[torch]" or pip install "lamina[jax]"' in result.stderr
    assert "Traceback" not in result.stderr


def test_help_works_without_any_backend_and_says_how_to_install_one(tmp_path):
    result = run_cli("--help", cwd=tmp_path, missing=("torch", "jax"))
    assert result.returncode == 0, result.stderr
    assert "usage: lamina" in result.stdout
    assert 'pip install "lamina[torch]" or pip install "lamina[jax]"' in result.stdout


@pytest.mark.parametrize(("environment", "config", "source"), [
    ({}, None, "(the default)"),
    ({"LAMINA_BACKEND": "numpy", "KERAS_BACKEND": "jax"}, None, "(chosen by LAMINA_BACKEND)"),
    ({"KERAS_BACKEND": "numpy"}, "jax", "(chosen by KERAS_BACKEND)"),
    ({}, "numpy", "(chosen by {config})"),
])
def test_info_says_where_the_backend_choice_came_from(tmp_path, environment, config, source):
    if config:
        (tmp_path / "lamina.json").write_text(json.dumps({"backend": config}))
    result = run_cli("info", cwd=tmp_path, **environment)
    assert result.returncode == 0, result.stderr
    name = environment.get("LAMINA_BACKEND") or environment.get("KERAS_BACKEND") or config or "torch"
    backend_line = result.stdout.splitlines()[1]
    assert backend_line.startswith(f"backend: {name} on ")
    assert backend_line.endswith(source.format(config=tmp_path / "lamina.json"))


def test_info_with_the_backend_flag(tmp_path):
    result = run_cli("--backend", "numpy", "info", cwd=tmp_path, LAMINA_BACKEND="jax")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "backend: numpy on cpu (chosen with --backend)"
    assert run_cli("info", "--backend", "numpy", cwd=tmp_path).stdout.splitlines()[1].startswith("backend: numpy")


def test_info_without_torch_falls_back_to_jax(tmp_path):
    result = run_cli("info", cwd=tmp_path, missing=("torch",))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("backend: jax on ") and lines[1].endswith("(fallback: torch is not installed)")
    assert "torch: not installed" in lines


def test_info_without_any_backend_falls_back_to_numpy_and_says_how_to_install_one(tmp_path):
    result = run_cli("info", cwd=tmp_path, missing=("torch", "jax"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == ("backend: numpy on cpu (fallback: torch and jax are not installed; "
                        "it runs inference only)")
    assert "torch: not installed" in lines and "jax: not installed" in lines
    assert lines[-1] == 'To train models, install a backend: pip install "lamina[torch]" or pip install "lamina[jax]"'


@pytest.mark.parametrize("how", ["flag", "environment", "config"])
def test_a_chosen_backend_that_is_not_installed_names_the_extra(tmp_path, how):
    args, environment = ("info",), {}
    if how == "flag":
        args = ("--backend", "jax", "info")
    elif how == "environment":
        environment = {"LAMINA_BACKEND": "jax"}
    else:
        (tmp_path / "lamina.json").write_text(json.dumps({"backend": "jax"}))
    result = run_cli(*args, cwd=tmp_path, missing=("jax",), **environment)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert message.startswith("lamina: error: ") and "Traceback" not in message
    assert message.endswith('The jax backend is not installed. Install it with: pip install "lamina[jax]"') \
        if how == "flag" else message.endswith('Install it with: pip install "lamina[jax]"')
    expected_origin = {"flag": "--backend jax", "environment": "LAMINA_BACKEND=jax",
                       "config": str(tmp_path / "lamina.json")}[how]
    assert expected_origin in message


def test_keras_backend_tensorflow_is_a_clear_error(tmp_path):
    result = run_cli("info", cwd=tmp_path, KERAS_BACKEND="tensorflow")
    assert result.returncode == 2
    assert result.stderr.startswith("lamina: error: KERAS_BACKEND='tensorflow' is not a backend Lamina supports")
    assert "torch, jax, numpy" in result.stderr
