"""The `lamina` command: the demo trains, evaluates, saves and reloads on both training backends."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_cli(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "lamina.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_demo_reaches_accuracy_and_reloads_identically(tmp_path, backend_name):
    result = run_cli("demo", "--backend", backend_name, "--output", str(tmp_path / "digits.keras"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"on {backend_name}" in result.stdout
    assert "Epoch 1/30" in result.stdout
    accuracy = float(result.stdout.split("test accuracy ")[1].split()[0])
    assert accuracy >= 0.95
    assert "reloaded predictions identical: True" in result.stdout
    assert (tmp_path / "digits.keras").is_file()


def test_info_names_the_backend(tmp_path):
    result = run_cli("info", cwd=tmp_path)
    assert result.returncode == 0
    assert "backend: torch" in result.stdout
