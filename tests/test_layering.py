"""No module imports from a layer above its own: the layering is read from docs/architecture.md, so the
document and the code cannot drift apart. Every import counts, lazy and type-only ones too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("omni_emotion",)


def read_layers(doc: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(layer name, module patterns) from the ```layers block, top layer first."""
    block = re.search(r"```layers\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    assert block, f"{doc} has no ```layers block"
    layers = []
    for line in block.group(1).splitlines():
        if line.strip():
            name, _, patterns = line.partition(":")
            layers.append((name.strip(), tuple(patterns.split())))
    return layers


def module_names() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _matches(name: str, pattern: str) -> bool:
    """fnmatch where ``*`` stays within one dotted part."""
    regex = "".join("[^.]*" if c == "*" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name) is not None


def layer_of(module: str, layers: list[tuple[str, tuple[str, ...]]]) -> int | None:
    """Index (0 = top) of the layer whose pattern matches ``module`` itself, else its nearest package;
    among patterns matching at the same depth, the one with the most literal characters."""
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        name = ".".join(parts[:depth])
        hits = [
            (len(p.replace("*", "")), i)
            for i, (_, patterns) in enumerate(layers)
            for p in patterns
            if _matches(name, p)
        ]
        if hits:
            return max(hits)[1]
    return None


def imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """Project modules imported anywhere in ``path`` (``from pkg import sub`` counts as ``pkg.sub``)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def violations(layers: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    modules = module_names()
    out = []
    for module, path in sorted(modules.items()):
        mine = layer_of(module, layers)
        if mine is None:
            out.append(f"{module} is in no layer of docs/architecture.md")
            continue
        for target in sorted(imports_of(path, module, set(modules))):
            theirs = layer_of(target, layers)
            if theirs is not None and theirs < mine:
                out.append(f"{module} ({layers[mine][0]}) imports {target} ({layers[theirs][0]})")
    return out


def test_no_module_imports_from_a_layer_above_it():
    layers = read_layers(ROOT / "docs" / "architecture.md")
    assert violations(layers) == []


def test_the_checker_sees_an_upward_import():
    """The check can fail: a made-up layering with the engines at the bottom finds their real imports."""
    layers = [("top", ("omni_emotion", "omni_emotion.*")), ("bottom", ("omni_emotion.engines",))]
    found = violations(layers)
    assert any(v.startswith("omni_emotion.engines.") and "(top)" in v for v in found), found[:5]


@pytest.mark.parametrize(
    "module, layer",
    [
        ("omni_emotion.cli.analyze", "apps"),
        ("omni_emotion.cli", "apps"),
        ("omni_emotion.evaluation.runner", "evaluation"),
        ("omni_emotion", "core"),
        ("omni_emotion.faces.registry", "models"),
        ("omni_emotion.jobs.folder", "jobs"),
        ("omni_emotion.model.encoders.face", "models"),
        ("omni_emotion.media.files", "resources"),
        ("omni_emotion.training.run", "training"),
    ],
)
def test_layer_lookup(module, layer):
    layers = read_layers(ROOT / "docs" / "architecture.md")
    assert layers[layer_of(module, layers)][0] == layer
