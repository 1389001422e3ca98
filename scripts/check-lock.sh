#!/usr/bin/env bash
# Checks that every line of requirements.lock has a wheel on PyPI for each Python and platform we name:
# for each pair it keeps the lock lines whose environment markers hold there, then dry-runs
#   pip install --dry-run --only-binary=:all: --no-deps --python-version X --platform P -r <those lines>
# and lists every line pip could not find a wheel for. pip stops at the first such line, so the lines without a
# matching wheel are first found from PyPI's JSON file lists (one fetch per package, shared by every pair) and
# left out; pip then confirms the rest, and any line it still cannot find is dropped and the dry run repeated.
# pip evaluates markers against the interpreter that runs it, not the target, which is why the markers are
# evaluated here first.
#
#   bash scripts/check-lock.sh            # exit 0: the supported matrix resolves; 1: it does not;
#                                         # 3: PyPI could not be reached, so nothing was checked
#   LOCK_CHECK_PIP=0 bash scripts/check-lock.sh   # the wheel-tag check from the file lists alone, no pip
#
# Supported (must resolve): Linux x86-64 (glibc >= 2.28) on CPython 3.11, 3.12 and 3.13.
# Reported only: Linux aarch64 (glibc >= 2.28) and macOS 14 arm64 on the same Pythons.
# The index is PyPI (LOCK_CHECK_INDEX overrides it); local pip configuration is ignored (--isolated) so that a
# machine's own wheel folders cannot make the lock look installable elsewhere. torch is checked as the plain
# `torch==2.13.0` line, which PyPI offers on every platform here; --no-deps leaves its CUDA wheels out of the
# check (scripts/install.sh takes the CPU build where one is offered).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_BIN=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || command -v python3)}
exec "$PYTHON_BIN" - requirements.lock <<'EOF'
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

import json

try:
    from packaging import tags
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name, parse_wheel_filename
except ImportError:  # pip always carries a copy
    from pip._vendor.packaging import tags
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename

INDEX = os.environ.get("LOCK_CHECK_INDEX", "https://pypi.org/simple")
PIP = os.environ.get("LOCK_CHECK_PIP", "1") != "0"  # 0: the JSON file lists only (seconds instead of minutes)
PYTHONS = ("3.11", "3.12", "3.13")


def manylinux(arch: str, glibc_minor: int = 28) -> tuple[str, ...]:
    """Every manylinux tag a glibc 2.<glibc_minor> machine takes: pip expands only the legacy names itself."""
    return tuple(f"manylinux_2_{m}_{arch}" for m in range(glibc_minor, 4, -1)) + tuple(
        f"{legacy}_{arch}" for legacy in ("manylinux2014", "manylinux2010", "manylinux1"))


# name: (pip --platform tags, sys_platform, platform_machine, platform_system, supported)
PLATFORMS = {
    "linux x86_64": (manylinux("x86_64"), "linux", "x86_64", "Linux", True),
    "linux aarch64": (manylinux("aarch64"), "linux", "aarch64", "Linux", False),
    "macOS arm64": (("macosx_14_0_arm64",), "darwin", "arm64", "Darwin", False),  # pip expands macOS itself
}
NOT_FOUND = re.compile(r"(?:Could not find a version that satisfies the requirement|No matching distribution "
                       r"found for) ([A-Za-z0-9._-]+)")

lock = sys.argv[1]
lines = [ln.strip() for ln in open(lock, encoding="utf-8") if ln.strip() and not ln.lstrip().startswith("#")]
reqs = [Requirement(ln) for ln in lines]


def reachable() -> str | None:
    try:
        with urllib.request.urlopen(f"{INDEX.rstrip('/')}/pip/", timeout=15) as reply:
            reply.read(64)
        return None
    except OSError as err:
        return str(err)


def wheel_tags(req: Requirement) -> set | None:
    """The tags of every wheel of the pinned version on the index, or None when its JSON list is unavailable."""
    (spec,) = req.specifier
    request = urllib.request.Request(f"{INDEX.rstrip('/')}/{canonicalize_name(req.name)}/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            files = json.load(reply)["files"]
    except (OSError, ValueError, KeyError):
        return None
    out = set()
    for f in files:
        if not f["filename"].endswith(".whl") or f.get("yanked"):
            continue
        try:
            _name, version, _build, wheel = parse_wheel_filename(f["filename"])
        except ValueError:
            continue
        if spec.contains(version, prereleases=True):
            out |= set(wheel)
    return out


def target_tags(python: str, platform: str) -> set:
    version = tuple(int(p) for p in python.split("."))
    platforms = list(PLATFORMS[platform][0])
    if platforms[0].startswith("macosx_"):
        platforms = list(tags.mac_platforms((14, 0), "arm64"))
    return set(tags.cpython_tags(version, platforms=platforms)) | set(
        tags.compatible_tags(version, f"cp{version[0]}{version[1]}", platforms))


def wanted(python: str, platform: str) -> list[str]:
    _tag, sys_platform, machine, system, _ = PLATFORMS[platform]
    env = {"python_version": python, "python_full_version": f"{python}.0", "sys_platform": sys_platform,
           "platform_machine": machine, "platform_system": system, "os_name": "posix",
           "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}
    return [f"{r.name}{r.specifier}" for r in reqs if r.marker is None or r.marker.evaluate(env)]


def dry_run(python: str, platform: str) -> tuple[int, list[str], str]:
    """(lines checked, the lines without a wheel there, an unexpected pip error or '')."""
    todo = wanted(python, platform)
    checked, target = len(todo), target_tags(python, platform)
    missing = [t for t in todo if WHEELS.get(t) is not None and not WHEELS[t] & target]
    todo = [t for t in todo if t not in missing and (PIP or WHEELS.get(t) is None)]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "lock.txt")
        while todo:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write("\n".join(todo) + "\n")
            cmd = [sys.executable, "-m", "pip", "install", "--isolated", "--disable-pip-version-check",
                   "--dry-run", "--ignore-installed", "--only-binary=:all:", "--no-deps", "--quiet",
                   "--retries", "1", "--timeout", "20", "--index-url", INDEX, "--python-version", python,
                   *(f"--platform={tag}" for tag in PLATFORMS[platform][0]), "-r", path]
            proc = subprocess.run(cmd, capture_output=True, text=True,
                                  env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
            if proc.returncode == 0:
                break
            match = NOT_FOUND.search(proc.stderr)
            name = match and match.group(1).lower().replace("_", "-")
            hit = [t for t in todo if name and Requirement(t).name.lower().replace("_", "-") == name]
            if not hit:
                return checked, missing, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "pip failed"
            missing.append(hit[0])
            todo.remove(hit[0])
    return checked, missing, ""


problem = reachable()
if problem is not None:
    print(f"check-lock: cannot reach {INDEX} ({problem}): the lock was NOT checked. "
          "Run it where PyPI is reachable, or set LOCK_CHECK_INDEX to a mirror.", file=sys.stderr)
    sys.exit(3)

with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
    WHEELS = dict(zip((f"{r.name}{r.specifier}" for r in reqs), pool.map(wheel_tags, reqs)))
pairs = [(py, pl) for pl in PLATFORMS for py in PYTHONS]
with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
    results = dict(zip(pairs, pool.map(lambda p: dry_run(*p), pairs)))

failed = False
how = "pip --dry-run" if PIP else "wheel tags of the file lists (LOCK_CHECK_PIP=0)"
print(f"requirements.lock ({len(lines)} lines) against {INDEX}, wheels only, by {how}:")
for (python, platform), (checked, missing, error) in results.items():
    supported = PLATFORMS[platform][4]
    state = "resolves" if not missing and not error else ("ERROR" if supported else "does not resolve")
    kind = "supported" if supported else "reported "
    detail = f" ({checked} lines)" if not missing and not error else ""
    if missing:
        detail = ": no wheel for " + ", ".join(missing)
    if error:
        detail += f"; pip: {error}"
    unlisted = [t for t in wanted(python, platform) if WHEELS.get(t) is None]
    if unlisted and not PIP:
        detail += "; not checked (no file list): " + ", ".join(unlisted)
    print(f"  {kind}  CPython {python:<5} {platform:<14} {state}{detail}")
    failed |= supported and bool(missing or error)
if failed:
    print("check-lock: the supported matrix does not resolve (see above)", file=sys.stderr)
sys.exit(1 if failed else 0)
EOF
