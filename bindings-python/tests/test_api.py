"""The public surface: the native stubs match the native module, and every public
name is documented."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import corral
import corral.aio
import corral.recipes
import corral.testing
from corral import _corral

STUB = Path(corral.__file__).with_name("_corral.pyi")


def stub_names():
    tree = ast.parse(STUB.read_text())
    top, members = set(), {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            top.add(node.name)
            members[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)} | {
                n.target.id for n in node.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
            }
        elif isinstance(node, ast.FunctionDef):
            top.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            top.add(node.target.id)
        elif isinstance(node, ast.Assign):
            top.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return top, members


def test_stub_matches_native_module():
    top, members = stub_names()
    runtime = {n for n in dir(_corral) if not n.startswith("__") or n == "__version__"}
    type_aliases = {"StatTuple", "AclTuple", "EventTuple", "AnyClient", "NodeTuple", "InstanceTuple"}
    assert runtime - top == set(), f"missing from _corral.pyi: {sorted(runtime - top)}"
    assert top - type_aliases - runtime == set(), f"in _corral.pyi but not native: {sorted(top - type_aliases - runtime)}"
    for cls, names in members.items():
        obj = getattr(_corral, cls)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            continue
        for name in names - {"__init__"}:
            assert hasattr(obj, name), f"_corral.{cls}.{name} is in the stub but not native"
        native = {n for n in vars(obj) if not n.startswith("_")}
        assert native - names == set(), f"_corral.{cls} lacks stubs for {sorted(native - names)}"


def test_every_public_name_is_documented():
    for module in (corral, corral.aio, corral.testing, corral.recipes, corral.states, corral.security):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                assert obj.__doc__, f"{module.__name__}.{name} has no docstring"
            if inspect.isclass(obj) and not issubclass(obj, BaseException):
                for attr, value in vars(obj).items():
                    if attr.startswith("_") or not callable(value) and not isinstance(value, property):
                        continue
                    assert getattr(value, "__doc__", None), f"{module.__name__}.{name}.{attr} has no docstring"


def test_package_is_typed():
    assert Path(corral.__file__).with_name("py.typed").exists()
