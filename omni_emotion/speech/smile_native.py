"""eGeMAPSv02 functionals from openSMILE's own library through its C API, without the `opensmile` Python package.

The `opensmile` wheel carries the library (``libSMILEapi``) and its configs; its Python layer adds pandas,
audinterface and audformat, which took 1.4 s to import and 0.6 s to set up on a cold start on 2 CPU cores, all
of it holding Python's interpreter lock while the recogniser and the face tracker wanted it. This module loads
the same library with ctypes and feeds it the way ``opensmile.Smile(FeatureSet.eGeMAPSv02,
FeatureLevel.Functionals).process_signal`` does: the same config file and options, the signal as 16-bit PCM
(x * 32768 cast to int16), one run per signal, the external sink's frames collected. The numbers are the same
float32 bits (tests compare them with the package's).
"""

from __future__ import annotations

import ctypes
import importlib.util
import platform
from pathlib import Path

import numpy as np

from omni_emotion.errors import ModelNotFoundError

__all__ = ["EgemapsExtractor"]

_CONFIG = "egemaps/v02/eGeMAPSv02.conf"
_SOURCE, _SINK = b"extsource", b"extsink"  # the component names of the wheel's external input/output configs
_SUCCESS = 0
_NOT_WRITTEN = 8  # the source's buffer was full: the package ignores it, and so must we for its bits
_LIBRARIES = {"Linux": "libSMILEapi.so", "Darwin": "libSMILEapi.dylib", "Windows": "SMILEapi.dll"}


class _FrameMeta(ctypes.Structure):
    _fields_ = [
        ("vIdx", ctypes.c_long),
        ("time", ctypes.c_double),
        ("period", ctypes.c_double),
        ("lengthSec", ctypes.c_double),
    ]


_SinkCallback = ctypes.CFUNCTYPE(
    ctypes.c_int,
    ctypes.POINTER(ctypes.c_float),
    ctypes.c_long,
    ctypes.c_long,
    ctypes.POINTER(_FrameMeta),
    ctypes.c_void_p,
)


def _package_root() -> Path:
    spec = importlib.util.find_spec("opensmile")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError("openSMILE is missing: install it with `pip install opensmile==2.6.0`.")
    return Path(next(iter(spec.submodule_search_locations))) / "core"


def _library_path(root: Path) -> Path:
    name = _LIBRARIES.get(platform.system())
    found = sorted((root / "bin").glob(f"*/{name}")) if name else []
    if not found:
        raise ModelNotFoundError(
            f"openSMILE's library is missing under {root / 'bin'}: reinstall `opensmile`."
        )
    machine = platform.machine().lower()
    return next((p for p in found if p.parent.name.endswith(machine)), found[0])


class EgemapsExtractor:
    """The 88 eGeMAPSv02 functionals of a mono float signal. Thread-safe: each call runs its own instance."""

    def __init__(self) -> None:
        root = _package_root()
        self._configs = root / "config"
        if not (self._configs / _CONFIG).is_file():
            raise ModelNotFoundError(
                f"openSMILE's config {self._configs / _CONFIG} is missing: reinstall `opensmile`."
            )
        self._lib = ctypes.CDLL(str(_library_path(root)))
        self._declare()
        self.feature_names = self._names()

    def _declare(self) -> None:
        lib, p, i, c = self._lib, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
        lib.smile_new.argtypes, lib.smile_new.restype = [], p
        lib.smile_initialize.argtypes = [p, c, i, p, i, i, i, p]
        lib.smile_initialize.restype = i
        lib.smile_run.argtypes, lib.smile_run.restype = [p], i
        lib.smile_free.argtypes, lib.smile_free.restype = [p], None
        lib.smile_error_msg.argtypes, lib.smile_error_msg.restype = [p], c
        lib.smile_extaudiosource_write_data.argtypes = [p, c, p, i]
        lib.smile_extaudiosource_write_data.restype = i
        (
            lib.smile_extaudiosource_set_external_eoi.argtypes,
            lib.smile_extaudiosource_set_external_eoi.restype,
        ) = [p, c], i
        lib.smile_extsink_set_data_callback_ex.argtypes = [p, c, _SinkCallback, p]
        lib.smile_extsink_set_data_callback_ex.restype = i
        lib.smile_extsink_get_num_elements.argtypes = [p, c, ctypes.POINTER(ctypes.c_long)]
        lib.smile_extsink_get_num_elements.restype = i
        lib.smile_extsink_get_element_name.argtypes = [p, c, ctypes.c_long, ctypes.POINTER(c)]
        lib.smile_extsink_get_element_name.restype = i

    def _options(self, sample_rate: int | None) -> dict[str, str]:
        """The package's options for a Functionals run, in its order (its ``Smile._options`` and ``_extract``)."""
        shared = self._configs / "shared"
        options = {
            "sink": str(shared / "standard_external_data_output_single.conf.inc"),
            "sinkLevel": "func",
            "bufferModeRbConf": str(shared / "BufferModeRb.conf.inc"),
            "frameModeFunctionalsConf": str(shared / "FrameModeFunctionals.conf.inc"),
            "source": str(shared / "standard_external_wave_input.conf.inc"),
        }
        if sample_rate is not None:
            options |= {"sampleRate": str(sample_rate), "nBits": "16"}
        return options

    def _open(self, sample_rate: int | None) -> int:
        handle = self._lib.smile_new()
        if not handle:
            raise RuntimeError("openSMILE could not create an instance")
        flat = [str(v).encode("ascii") for kv in self._options(sample_rate).items() for v in kv]
        argv = (ctypes.c_char_p * (len(flat) + 1))(*flat, None)
        self._check(
            handle,
            self._lib.smile_initialize(
                handle, str(self._configs / _CONFIG).encode("ascii"), len(flat) // 2, argv, 2, 0, 0, None
            ),
        )
        return handle

    def _check(self, handle: int, result: int) -> None:
        if result != _SUCCESS:
            message = (self._lib.smile_error_msg(handle) or b"").decode("ascii", "replace")
            self._lib.smile_free(handle)
            raise RuntimeError(f"openSMILE failed with code {result}: {message}")

    def _names(self) -> tuple[str, ...]:
        handle = self._open(None)
        try:
            count = ctypes.c_long()
            self._check(handle, self._lib.smile_extsink_get_num_elements(handle, _SINK, ctypes.byref(count)))
            names = []
            for index in range(count.value):
                name = ctypes.c_char_p()
                self._check(
                    handle, self._lib.smile_extsink_get_element_name(handle, _SINK, index, ctypes.byref(name))
                )
                names.append((name.value or b"").decode("ascii"))
        finally:
            self._lib.smile_free(handle)
        return tuple(names)

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """(F,) float32 functionals of mono ``signal`` (S,) in [-1, 1]; NaN everywhere when it is too short."""
        pcm = (np.asarray(signal, np.float32).reshape(-1) * np.float32(32768)).astype(np.int16)
        data = pcm.tobytes()
        frames: list[np.ndarray] = []

        def collect(values, rows, columns, meta, user):
            frames.append(np.ctypeslib.as_array(values, shape=(rows, columns)).copy())
            return 1

        callback = _SinkCallback(collect)  # kept alive until the run ends
        handle = self._open(sample_rate)
        self._check(handle, self._lib.smile_extsink_set_data_callback_ex(handle, _SINK, callback, None))
        written = self._lib.smile_extaudiosource_write_data(handle, _SOURCE, data, len(data))
        self._check(handle, _SUCCESS if written == _NOT_WRITTEN else written)
        self._check(handle, self._lib.smile_extaudiosource_set_external_eoi(handle, _SOURCE))
        self._check(handle, self._lib.smile_run(handle))
        self._lib.smile_free(handle)
        if not frames:
            return np.full(len(self.feature_names), np.nan, np.float32)
        return np.vstack(frames)[0]
