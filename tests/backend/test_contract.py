"""Every backend provides its part of the written contract, and the code above the seam uses nothing else."""

from __future__ import annotations

import ast
import inspect
import re
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lamina
from lamina import backend, ops
from lamina.backend import contract

SOURCE = Path(lamina.__file__).resolve().parent
POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
BY_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def documented(entry: contract.Entry) -> ast.arguments:
    return ast.parse(f"def {entry.signature}: pass").body[0].args


def signature_problems(entry: contract.Entry, value: Any) -> list[str]:
    """How `value` departs from the documented signature, as far as Python can read its signature.

    Every backend accepts the documented positional arguments and the optional ones by their names;
    a function Lamina writes itself (rather than a library function mapped directly) also names its
    positional parameters as documented.
    """
    try:
        actual = inspect.signature(value)
    except (TypeError, ValueError):  # a compiled library function: no signature to read
        return []
    arguments = documented(entry)
    names = [a.arg for a in arguments.posonlyargs + arguments.args]
    required = names[:len(names) - len(arguments.defaults)]
    optional = names[len(required):] + [a.arg for a in arguments.kwonlyargs]
    parameters = list(actual.parameters.values())
    positional = [p for p in parameters if p.kind in POSITIONAL]
    takes_any_positional = any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in parameters)
    takes_any_keyword = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters)
    by_name = {p.name: p for p in parameters if p.kind in BY_KEYWORD}
    problems = []
    if len(positional) < len(required) and not takes_any_positional:
        problems.append(f"takes {len(positional)} positional arguments, the contract passes {len(required)}")
    needed = [p.name for p in positional if p.default is inspect.Parameter.empty]
    if len(needed) > len(required) and arguments.vararg is None:
        problems.append(f"requires {needed}, the contract only {required}")
    for name in optional:
        if name in by_name and by_name[name].default is inspect.Parameter.empty:
            problems.append(f"requires {name!r}, which the contract makes optional")
        elif name not in by_name and not takes_any_keyword:
            problems.append(f"has no parameter {name!r}")
    if getattr(value, "__module__", "").startswith("lamina."):
        for position, name in enumerate(required):
            if position < len(positional) and positional[position].kind != inspect.Parameter.POSITIONAL_ONLY \
                    and positional[position].name != name:
                problems.append(f"names parameter {position + 1} {positional[position].name!r}, not {name!r}")
    return [f"{entry.name}{str(actual)}: {problem}" for problem in problems]


def sample_instances(module: Any) -> dict[str, Any]:
    """One object of each class whose members the contract lists, built by this backend."""
    builders = {"Variable": lambda: module.Variable(np.zeros((2,), dtype=np.float32), name="v"),
                "SeedGenerator": lambda: module.SeedGenerator(1),
                "StateScope": lambda: module.StateScope([], [])}
    built = {}
    for name, build in builders.items():
        try:
            built[name] = build()
        except Exception as error:  # reported as a problem of each member
            built[name] = error
    return built


def contract_problems(module: Any, name: str, training: bool) -> list[str]:
    """What `module`, the backend `name`, lacks or gets wrong of the contract; empty when it complies."""
    instances = sample_instances(module)
    problems = []
    for entry in contract.required(training):
        owner, _, member = entry.name.rpartition(".")
        holder = instances[owner] if owner else module
        if isinstance(holder, Exception):
            problems.append(f"{name}: cannot check {entry.name}: building {owner} failed: {holder!r}")
            continue
        if not hasattr(holder, member):
            problems.append(f"{name} lacks {entry.name}{'' if entry.signature is None else ': ' + entry.signature}")
            continue
        value = getattr(holder, member)
        if entry.signature is None:
            continue
        if not callable(value):
            problems.append(f"{name}: {entry.name} is not callable")
            continue
        problems += [f"{name}: {problem}" for problem in signature_problems(entry, value)]
    return problems


@pytest.mark.parametrize("name", backend.BACKENDS)
def test_every_backend_provides_its_part_of_the_contract(name):
    """torch and jax provide every entry; numpy the entries marked for inference."""
    with backend.use(name) as module:
        assert module.NAME == name
        assert contract_problems(module, name, training=name in backend.TRAINING_BACKENDS) == []


def test_the_check_reports_what_a_backend_lacks_or_names_wrongly():
    """A backend without value_and_grad, and with a reshape whose parameter is misnamed, is caught."""
    import lamina.backend.torch as torch_backend

    def reshape(x, shape):  # the contract says reshape(x, newshape)
        return x

    def full(shape, value, dtype="float32"):
        return shape

    def sum(x, axis):  # axis should be optional; keepdims is missing
        return x

    fake = types.SimpleNamespace(**{k: getattr(torch_backend, k) for k in dir(torch_backend)
                                    if not k.startswith("__") and k != "value_and_grad"})
    fake.reshape, fake.full, fake.sum = reshape, full, sum
    for function in (reshape, full, sum):
        function.__module__ = "lamina.backend.fake"
    problems = contract_problems(fake, "fake", training=True)
    assert "fake lacks value_and_grad: value_and_grad(fn)" in problems
    assert any("reshape" in p and "names parameter 2 'shape', not 'newshape'" in p for p in problems)
    assert any("full" in p and "names parameter 2 'value', not 'fill_value'" in p for p in problems)
    assert any("sum" in p and "requires 'axis'" in p for p in problems)
    assert any("sum" in p and "has no parameter 'keepdims'" in p for p in problems)
    assert len(problems) == 6, problems  # and sum's two required parameters, where the contract has one
    assert contract_problems(fake, "fake", training=False) == [p for p in problems if "value_and_grad" not in p]


def backend_names_used_above_the_seam() -> dict[str, set[str]]:
    """name -> the files above lamina/backend that use backend.impl.<name> (directly, through an alias
    such as `B = backend.impl`, or as an op of lamina.ops)."""
    used: dict[str, set[str]] = {name: {"ops/__init__.py"} for name in ops.backend_names()}
    for path in SOURCE.rglob("*.py"):
        relative = path.relative_to(SOURCE)
        if relative.parts[0] == "backend":
            continue
        text = path.read_text()
        aliases = set(re.findall(r"^\s*(\w+) = backend\.impl\s*$", text, re.MULTILINE))
        patterns = [r"backend\.impl\.(\w+)"] + [rf"\b{re.escape(alias)}\.(\w+)" for alias in aliases]
        for pattern in patterns:
            for name in re.findall(pattern, text):
                used.setdefault(name, set()).add(str(relative))
    return used


def test_the_code_above_the_backend_uses_only_names_of_the_contract():
    names = {entry.name for entry in contract.CONTRACT}
    unlisted = {name: sorted(files) for name, files in backend_names_used_above_the_seam().items()
                if name not in names}
    assert unlisted == {}


def test_the_contract_is_well_formed():
    names = [entry.name for entry in contract.CONTRACT]
    assert len(names) == len(set(names)), "a name is listed twice"
    for entry in contract.CONTRACT:
        assert entry.meaning and not entry.meaning.endswith("."), entry.name
        if entry.signature is not None:
            assert entry.signature.split("(")[0] == entry.name.split(".")[-1], entry.name
            documented(entry)  # parses as Python
        owner = entry.name.rpartition(".")[0]
        assert not owner or owner in names, f"{entry.name} is a member of an unlisted {owner}"
    training_only = {entry.name for entry in contract.CONTRACT if not entry.inference}
    assert {"value_and_grad", "store_state", "foreach_add"} <= training_only
    assert len(contract.required(training=False)) < len(contract.required(training=True))
