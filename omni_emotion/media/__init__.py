"""Media in: files decoded into a Clip (``decode``), after the checks a hostile file must pass (``files``: also
the one list of media suffixes and ``MediaConfig``), and in-memory live buffers (``buffers``)."""

from omni_emotion.media.buffers import clip_from_arrays, pcm_to_float, resample_audio
from omni_emotion.media.decode import (
    check_media,
    check_refused_picture,
    fit_size,
    iter_frames,
    load_audio,
    load_clip,
    packet_head,
    shrink_frame,
)
from omni_emotion.media.files import (
    AUDIO_SUFFIXES,
    IMAGE_SUFFIXES,
    MEDIA_SUFFIXES,
    VIDEO_SUFFIXES,
    MediaConfig,
)

__all__ = [
    "AUDIO_SUFFIXES",
    "IMAGE_SUFFIXES",
    "MEDIA_SUFFIXES",
    "VIDEO_SUFFIXES",
    "MediaConfig",
    "check_media",
    "check_refused_picture",
    "clip_from_arrays",
    "fit_size",
    "iter_frames",
    "load_audio",
    "load_clip",
    "packet_head",
    "pcm_to_float",
    "resample_audio",
    "shrink_frame",
]
