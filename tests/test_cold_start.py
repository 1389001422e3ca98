"""What a cold start must not pay for: perception imports no torch and no scipy for a short clip with one face,
a clip without speech never loads the recogniser, and the clue engine's torch models load in the background with
the thread count they were given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "media"


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.strip().splitlines()[-1]


def _media(name: str) -> Path:
    path = MEDIA / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (the shared test media sit beside the checkout)")
    return path


def test_importing_the_clue_engine_imports_no_torch():
    code = (
        "import sys\n"
        "import omni_emotion.engines.clues, omni_emotion.live, omni_emotion.ui.colours\n"
        "print(sorted(m for m in ('torch', 'transformers', 'scipy') if m in sys.modules))\n"
    )
    assert _run(code) == "[]"


def test_perceiving_a_short_clip_with_one_face_imports_no_torch_and_no_scipy():
    clip = _media("single_face.mp4")
    code = (
        "import sys\n"
        "from omni_emotion.faces import load_face_analyzer\n"
        "from omni_emotion.speech import SpeechAnalyzer\n"
        "from omni_emotion.perception import Perceiver\n"
        f"p = Perceiver(load_face_analyzer(), SpeechAnalyzer()).perceive_file({str(clip)!r})\n"
        "assert p.faces, 'the clip has a face'\n"
        "print(sorted(m for m in ('torch', 'transformers', 'scipy') if m in sys.modules))\n"
    )
    assert _run(code) == "[]"


def test_a_clip_without_speech_never_loads_the_recogniser():
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from omni_emotion.speech import SpeechAnalyzer\n"
        "transcript, prosody = SpeechAnalyzer().analyze(np.zeros(16000 * 3, np.float32))\n"
        "assert not transcript.text and prosody.voice is None\n"
        "print(sorted(m for m in ('ctranslate2', 'faster_whisper', 'pandas') if m in sys.modules))\n"
    )
    assert _run(code) == "[]"


def test_the_engine_sets_torch_threads_before_its_models_load():
    code = (
        "import torch\n"
        "torch.set_num_threads(2)\n"
        "from omni_emotion.engines.clues import ClueEngine\n"
        "engine = ClueEngine()\n"
        "engine.start_loading(torch_threads=1)\n"
        "engine.load_now()\n"
        "print(torch.get_num_threads(), type(engine.expressions).__name__, type(engine.text_models).__name__)\n"
    )
    assert _run(code) == "1 ExpressionModel TextModels"


def test_choosing_the_engine_imports_no_torch_without_the_mllms_weights(tmp_path):
    code = (
        "import sys\n"
        "from omni_emotion.pipeline import resolve_engine\n"
        f"name = resolve_engine('auto', {str(tmp_path)!r})\n"
        "print(name, 'torch' in sys.modules)\n"
    )
    assert _run(code) == "clues False"
