"""Speech perception: voice activity (Silero VAD, ONNX), transcription (faster-whisper) and prosody.

``analyzer = load_speech_analyzer()`` loads the models once; ``analyzer.analyze(audio, sample_rate)`` then
returns ``(Transcript, Prosody)`` for mono audio at any rate (16 kHz by default).
"""

from omni_emotion.speech.analyzer import SpeechAnalyzer, SpeechConfig, load_speech_analyzer, prepare_audio
from omni_emotion.speech.asr import AsrConfig
from omni_emotion.speech.prosody import ProsodyConfig, describe, measure_prosody
from omni_emotion.speech.vad import VadConfig

__all__ = [
    "AsrConfig",
    "ProsodyConfig",
    "SpeechAnalyzer",
    "SpeechConfig",
    "VadConfig",
    "describe",
    "load_speech_analyzer",
    "measure_prosody",
    "prepare_audio",
]
