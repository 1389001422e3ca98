"""The CLI answers a user's mistake at once: building the parser and refusing a bad path load no ML stack."""

from __future__ import annotations

import subprocess
import sys


def test_a_user_error_is_reported_before_torch_or_transformers_load(tmp_path):
    code = (
        "import sys\n"
        "from omni_emotion.cli import main\n"
        f"status = main(['probe', {str(tmp_path / 'missing.mp4')!r}])\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'scipy', 'ctranslate2') if m in sys.modules)\n"
        "print(status, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "2 []", out.stdout + out.stderr
    assert "missing.mp4 does not exist" in out.stderr and "Traceback" not in out.stderr
