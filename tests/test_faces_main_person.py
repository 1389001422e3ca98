"""The main person is the one who speaks and is seen (issue 28, point 4).

Generated clips: faces drawn with OpenCV that the real offline detector finds, one mouth opening and closing
with a speech-like envelope, encoded as H.264 and decoded as the pipeline decodes files; a drawn face turned
away in the foreground. The shared group photo (../shared/testdata/media, skipped when absent) with one
person's mouth animated. Property tests for the pure scoring functions.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import write_av
from hypothesis import given, settings
from hypothesis import strategies as st

from omni_emotion.errors import ModelNotFoundError
from omni_emotion.faces import FaceAnalyzer
from omni_emotion.faces.detectors import YuFaceDetector
from omni_emotion.faces.mouth import (
    MOUTH_OPEN_KEY,
    PATCH_SIDE,
    MouthMeter,
    face_patch,
    mouth_spread,
    spread_change,
)
from omni_emotion.faces.selection import SelectionConfig, select_main, speaking_score
from omni_emotion.media import iter_frames, load_clip
from omni_emotion.types import FaceTrack

FPS, VIDEO_FPS, SECONDS = 5.0, 25, 6.0
SIZE = (640, 360)


@pytest.fixture(scope="module")
def analyzer() -> FaceAnalyzer:
    try:
        return FaceAnalyzer(YuFaceDetector())
    except ModelNotFoundError as err:
        pytest.skip(str(err))


# ---------------------------------------------------------------- a speech-like envelope

SPEECH = [(0.4, 1.8), (2.6, 3.6), (4.4, 5.6)]  # seconds: three phrases with pauses, as a VAD gives them


def _syllables(seed: int = 11) -> list[tuple[float, float, float]]:
    """(start, end, peak opening) of each syllable: 0.12-0.3 s long, opening 0.3-1, inside SPEECH only."""
    rng = np.random.default_rng(seed)
    out = []
    for start, end in SPEECH:
        t = start
        while t < end - 0.1:
            length = min(float(rng.uniform(0.12, 0.3)), end - t)
            out.append((t, t + length, float(rng.uniform(0.3, 1.0))))
            t += length
    return out


SYLLABLES = _syllables()


def envelope(t: float) -> float:
    """Mouth opening in [0, 1] at time t: each syllable opens and closes the mouth; 0 in the pauses."""
    for start, end, peak in SYLLABLES:
        if start <= t < end:
            return peak * float(np.sin(np.pi * (t - start) / (end - start))) ** 0.5
    return 0.0


def off_beat(t: float) -> float:
    """A mouth that moves only in the pauses (chewing, a listener's murmur): a new opening every 0.2 s."""
    if any(start - 0.1 <= t <= end + 0.1 for start, end in SPEECH):
        return 0.0
    return 0.2 + 0.8 * ((int(t / 0.2) * 37) % 7) / 6


# ---------------------------------------------------------------- drawn faces


def _shade(c, k):
    return tuple(int(v * k) for v in c)


def draw_face(img: np.ndarray, cx: int, cy: int, s: int, skin=(200, 160, 130), yaw: float = 0.0) -> None:
    """A shaded cartoon head with hair, shoulders, eyes, brows and nose that the CNN detector accepts (score
    ~0.9); ``yaw`` in [0, 1] slides the features sideways and narrows the far eye (0.8: frontality ~0.1)."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cv2.rectangle(
        img,
        (cx - int(0.2 * s), cy + int(0.4 * s)),
        (cx + int(0.2 * s), cy + int(0.8 * s)),
        _shade(skin, 0.8),
        -1,
    )
    cv2.ellipse(img, (cx, cy + s), (int(0.8 * s), int(0.35 * s)), 0, 180, 360, (40, 60, 120), -1, cv2.LINE_AA)
    cv2.ellipse(
        img, (cx, cy - int(0.05 * s)), (int(0.5 * s), int(0.62 * s)), 0, 0, 360, (40, 28, 20), -1, cv2.LINE_AA
    )
    inside = ((xx - cx) / (0.4 * s)) ** 2 + ((yy - cy) / (0.52 * s)) ** 2
    shade = np.clip(1.05 - 0.35 * inside, 0.5, 1.1)
    for k in range(3):
        channel = img[..., k].astype(np.float32)
        channel[inside <= 1] = (skin[k] * shade)[inside <= 1]
        img[..., k] = np.clip(channel, 0, 255)
    cv2.ellipse(
        img,
        (cx, cy - int(0.42 * s)),
        (int(0.44 * s), int(0.18 * s)),
        0,
        180,
        360,
        (40, 28, 20),
        -1,
        cv2.LINE_AA,
    )
    sh = int(yaw * 0.3 * s)
    for side in (-1, 1):
        narrow = 1 - 0.8 * yaw if side == -1 else 1.0
        ex, ey = cx + sh + int(side * 0.16 * s * (1 - 0.5 * yaw * (side == -1))), cy - int(0.1 * s)
        socket = (int(0.11 * s * narrow), int(0.07 * s))
        cv2.ellipse(img, (ex, ey + 2), socket, 0, 0, 360, _shade(skin, 0.7), -1, cv2.LINE_AA)
        white = (max(1, int(0.08 * s * narrow)), int(0.04 * s))
        cv2.ellipse(img, (ex, ey), white, 0, 0, 360, (235, 230, 225), -1, cv2.LINE_AA)
        cv2.circle(img, (ex, ey), max(1, int(0.033 * s * narrow)), (40, 25, 15), -1, cv2.LINE_AA)
        cv2.line(
            img,
            (ex - int(0.1 * s * narrow), ey - int(0.09 * s)),
            (ex + int(0.09 * s * narrow), ey - int(0.1 * s)),
            (50, 35, 25),
            max(2, int(0.03 * s)),
            cv2.LINE_AA,
        )
    nx = cx + int(sh * 1.8)
    nose = (int(0.07 * s), int(0.035 * s))
    cv2.ellipse(img, (nx, cy + int(0.1 * s)), nose, 0, 0, 360, _shade(skin, 0.7), -1, cv2.LINE_AA)
    for side in (-1, 1):
        nostril = (nx + side * int(0.03 * s), cy + int(0.11 * s))
        cv2.circle(img, nostril, max(1, int(0.015 * s)), (70, 40, 30), -1)
    draw_mouth(img, cx + sh, cy + int(0.26 * s), int(0.13 * s), 0.0)


def draw_mouth(img: np.ndarray, mx: int, my: int, half_width: int, opening: float) -> None:
    """Lips centred at (mx, my), ``opening`` in [0, 1]: 0 a closed line, 1 a wide-open dark mouth."""
    h = max(2, int(half_width * (0.25 + 0.8 * opening)))
    cv2.ellipse(img, (mx, my), (half_width, h), 0, 0, 360, (150, 70, 70), -1, cv2.LINE_AA)
    if opening > 0:
        cv2.ellipse(
            img,
            (mx, my),
            (int(0.85 * half_width), max(1, int(0.65 * h * opening))),
            0,
            0,
            360,
            (40, 10, 15),
            -1,
            cv2.LINE_AA,
        )


def _noise(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sensor noise, so that no two frames are identical (a still mouth must not read as exactly 0)."""
    noisy = img.astype(np.int16) + rng.normal(0, 3, img.shape).astype(np.int16)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def two_faces(path, right_mouth=None, right_yaw: float = 0.0, right_bob_px: int = 0):
    """6 s, 640x360: a speaker on the left (head 150 px, mouth follows ``envelope``) and a larger person on
    the right (head 190 px), whose mouth follows ``right_mouth`` (None: still), turned by ``right_yaw`` and
    bobbing by ``right_bob_px``. Returns the file and the speaker's (left) x centre."""
    width, height = SIZE
    left = np.full((height, width, 3), (120, 130, 140), np.uint8)
    draw_face(left, 170, 160, 150)
    right_sprite = np.full((height, width, 3), (120, 130, 140), np.uint8)
    draw_face(right_sprite, 460, 150, 190, (190, 140, 110), yaw=right_yaw)
    rng = np.random.default_rng(7)

    def frame(i: int, t: float) -> np.ndarray:
        img = left.copy()
        dy = int(round(right_bob_px * np.sin(2 * np.pi * 0.9 * t)))
        dx = int(round(right_bob_px * 0.6 * np.sin(2 * np.pi * 1.3 * t + 1.0)))
        img[:, 320:] = np.roll(right_sprite, (dy, dx), axis=(0, 1))[:, 320:]
        draw_mouth(img, 170, 160 + int(0.26 * 150), int(0.13 * 150), envelope(t))
        if right_mouth is not None:
            sh = int(right_yaw * 0.3 * 190)
            draw_mouth(img, 460 + sh + dx, 150 + int(0.26 * 190) + dy, int(0.13 * 190), right_mouth(t))
        return _noise(img, rng)

    write_av(path, seconds=SECONDS, fps=VIDEO_FPS, size=SIZE, tone_hz=None, frame_fn=frame)
    return path, 170


def _main_x(tracks: list[FaceTrack]) -> float:
    (main,) = [tr for tr in tracks if tr.main]
    return float((main.boxes[:, 0] + main.boxes[:, 2]).mean() / 2)


def _track_clip(analyzer, path, regions):
    return analyzer.track(iter_frames(path, fps=FPS), speech_regions=regions)


@pytest.mark.parametrize(
    "listener", [None, off_beat], ids=["listener nods", "listener nods, murmurs in pauses"]
)
def test_generated_clip_the_face_whose_mouth_moves_with_the_speech_is_main(analyzer, tmp_path, listener):
    # the listener nods: its landmarks jitter as much as a talking mouth's corners
    path, speaker_x = two_faces(tmp_path / "two.mp4", right_mouth=listener, right_bob_px=6)
    tracks = _track_clip(analyzer, path, SPEECH)
    assert len(tracks) == 2 and all(len(tr.timestamps) >= 25 for tr in tracks)
    assert abs(_main_x(tracks) - speaker_x) < 60, [tr.attributes for tr in tracks]
    speaker = min(tracks, key=lambda tr: tr.boxes[:, 0].mean())
    other = max(tracks, key=lambda tr: tr.boxes[:, 0].mean())
    assert speaker.attributes["speaking"] > max(other.attributes["speaking"], 0.0)
    # without speech the larger face is the natural choice: the speaking term is what moved the choice
    assert abs(_main_x(_track_clip(analyzer, path, None)) - speaker_x) > 200


def test_generated_clip_a_large_turned_away_head_loses_to_the_frontal_speaker(analyzer, tmp_path):
    """The drama two-shot: the listener's head, turned away and bigger, bobs in the foreground while the
    frontal person speaks through the whole clip (no pause to compare against)."""
    path, speaker_x = two_faces(tmp_path / "turned.mp4", right_yaw=0.8, right_bob_px=6)
    tracks = _track_clip(analyzer, path, [(0.0, SECONDS)])
    assert len(tracks) == 2
    assert abs(_main_x(tracks) - speaker_x) < 60, [tr.attributes for tr in tracks]
    turned = max(tracks, key=lambda tr: tr.boxes[:, 0].mean())
    assert turned.attributes["facing"] < SelectionConfig().turned_below


def test_generated_clip_without_speech_the_frontal_face_beats_a_larger_turned_one(analyzer, tmp_path):
    path, speaker_x = two_faces(tmp_path / "quiet.mp4", right_yaw=0.8)
    tracks = _track_clip(analyzer, path, None)
    assert len(tracks) == 2
    assert abs(_main_x(tracks) - speaker_x) < 60, [tr.attributes for tr in tracks]


def test_group_photo_with_one_mouth_moving_with_the_speech(analyzer, media_dir, tmp_path):
    """The shared group photo as a 6 s clip: the smallest face (the boy at the back) talks without a pause
    while the largest face nods; nobody else moves."""
    photo = load_clip(media_dir / "multi_face.jpg", num_frames=1).frames[0][:666]
    faces = analyzer.detect(photo)
    assert len(faces) >= 3
    speaker = min(faces, key=lambda d: d.width)
    (lx, ly), (rx, ry) = speaker.landmarks[3], speaker.landmarks[4]
    mouth = (int((lx + rx) / 2), int((ly + ry) / 2) + 2)
    half = int((rx - lx) / 2)
    nodder = max(faces, key=lambda d: d.width)
    x1, y1, x2, y2 = (int(v) for v in nodder.box)
    pad = (x2 - x1) // 3
    window = (slice(max(0, y1 - pad), y2 + pad), slice(max(0, x1 - pad), x2 + pad))
    rng = np.random.default_rng(3)

    def frame(i, t):
        img = photo.copy()
        img[window] = np.roll(photo[window], int(round(6 * np.sin(2 * np.pi * 0.9 * t))), axis=0)
        if envelope(t) > 0:
            draw_mouth(img, *mouth, half, envelope(t))
        return _noise(img, rng)

    size = (photo.shape[1], photo.shape[0])
    path = write_av(
        tmp_path / "group.mp4", seconds=SECONDS, fps=VIDEO_FPS, size=size, tone_hz=None, frame_fn=frame
    )
    scale = min(1.0, 640 / photo.shape[1])  # iter_frames' max_side
    talking = _track_clip(analyzer, path, [(0.0, SECONDS)])
    assert sum(tr.main for tr in talking) == 1
    speaker_x = (speaker.box[0] + speaker.box[2]) / 2 * scale
    assert abs(_main_x(talking) - speaker_x) < 0.5 * speaker.width * scale, [tr.attributes for tr in talking]
    quiet = _track_clip(analyzer, path, None)
    assert abs(_main_x(quiet) - (nodder.box[0] + nodder.box[2]) / 2 * scale) < 0.5 * nodder.width * scale


# ---------------------------------------------------------------- the mouth measure


def _face_image(opening: float, brightness: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    img = np.full((360, 320, 3), (120, 130, 140), np.uint8)
    draw_face(img, 160, 160, 180)
    draw_mouth(img, 160, 160 + int(0.26 * 180), int(0.13 * 180), opening)
    img = np.clip(img.astype(np.int16) + brightness, 0, 255).astype(np.uint8)
    box = np.array([88, 66, 232, 254], np.float32)
    s = 180
    eyes_y, nose_y, mouth_y = 160 - 0.1 * s, 160 + 0.1 * s, 160 + 0.26 * s
    landmarks = np.array(
        [
            [160 - 0.16 * s, eyes_y],
            [160 + 0.16 * s, eyes_y],
            [160, nose_y],
            [160 - 0.12 * s, mouth_y],
            [160 + 0.12 * s, mouth_y],
        ],
        np.float32,
    )
    return img, box, landmarks


def _change(a, b, box, lm_a, lm_b=None, box_b=None) -> float:
    lm_b = lm_a if lm_b is None else lm_b
    box_b = box if box_b is None else box_b
    return spread_change(mouth_spread(face_patch(a, box, lm_a)), mouth_spread(face_patch(b, box_b, lm_b)))


def test_the_mouth_measure_sees_an_opening_mouth_and_not_light_or_the_moving_head():
    shut, box, lm = _face_image(0.0)
    opened, _, _ = _face_image(0.9)
    brighter, _, _ = _face_image(0.0, brightness=40)
    assert face_patch(shut, box, lm).shape == (PATCH_SIDE, PATCH_SIDE)
    assert _change(shut, opened, box, lm) > 0.3
    assert _change(shut, brighter, box, lm) < 0.03
    shifted = np.roll(shut, (5, 7), axis=(0, 1))  # the whole head moves: the alignment follows the landmarks
    assert _change(shut, shifted, box, lm, lm + [7, 5], box + [7, 5, 7, 5]) < 0.03
    # a landmark off by 2 px (detector jitter) is not a mouth movement
    assert _change(shut, shut, box, lm, lm + np.array([[2, -1], [0, 2], [-2, 1], [1, 0], [0, -2]])) < 0.05
    # without landmarks the box frames the face less tightly (the chin enters the mouth box): weaker, but seen
    assert _change(shut, opened, box, None) > 0.1 > _change(shut, brighter, box, None)


def test_mouth_meter_gaps_and_a_detector_value():
    shut, box, lm = _face_image(0.0)
    opened, _, _ = _face_image(0.9)
    meter = MouthMeter(max_step_s=0.5)
    assert np.isnan(meter.update(0.0, shut, box, lm, {}))
    assert meter.update(0.2, opened, box, lm, {}) > 0.3
    assert np.isnan(meter.update(1.5, shut, box, lm, {}))  # seen again after a gap: no motion to tell
    assert np.isnan(meter.update(1.7, shut, box, lm, {MOUTH_OPEN_KEY: 0.1}))  # the first detector value
    assert meter.update(1.9, shut, box, lm, {MOUTH_OPEN_KEY: 0.35}) == pytest.approx(0.25)


def test_the_tracker_records_mouth_motion_per_observation(analyzer, tmp_path):
    path, _ = two_faces(tmp_path / "rec.mp4")
    tracks = _track_clip(analyzer, path, None)
    for tr in tracks:
        assert tr.mouth is not None and tr.mouth.shape == tr.timestamps.shape
        assert np.isnan(tr.mouth[0]) and np.isfinite(tr.mouth[1:]).all()
    speaker = min(tracks, key=lambda tr: tr.boxes[:, 0].mean())
    other = max(tracks, key=lambda tr: tr.boxes[:, 0].mean())
    assert np.nanmean(speaker.mouth) > np.nanmean(other.mouth) + 0.03
    assert abs(np.nanmean(other.mouth)) < 0.01  # a still mouth reads as about 0 despite the sensor noise


# ---------------------------------------------------------------- scoring, on tracks


def _frontal(n: int, x0: float = 100.0, width: float = 40.0, nose_dx: float = 0.0) -> np.ndarray:
    half = width / 2
    base = np.array(
        [
            [x0 - half, 100],
            [x0 + half, 100],
            [x0 + nose_dx, 120],
            [x0 - 0.75 * half, 140],
            [x0 + 0.75 * half, 140],
        ],
        np.float64,
    )
    return np.repeat(base[None], n, axis=0)


def _track(track_id, n, width, mouth=None, turned=False, score=0.94, start=0.0, x0=100.0) -> FaceTrack:
    ts = start + np.arange(n) / FPS
    boxes = np.array([[x0 - width / 2, 0, x0 + width / 2, width]] * n, np.float32)
    lm = _frontal(n, x0, width / 3, nose_dx=0.45 * width / 3 if turned else 0.0)
    return FaceTrack(
        track_id,
        ts,
        boxes,
        np.full(n, score, np.float32),
        landmarks=lm.astype(np.float32),
        mouth=None if mouth is None else np.asarray(mouth, np.float32),
    )


def test_the_drama_case_a_turned_head_with_jittery_landmarks_loses():
    """What the team saw: the back of a head (frontality and quality 0.1), larger and as persistent, whose
    junk landmarks jitter like a talking mouth, against a frontal face (score 0.94) speaking throughout."""
    n, rng = 20, np.random.default_rng(0)
    turned = _track(1, n, 220, turned=True, score=0.62, x0=400)
    turned.landmarks = turned.landmarks + rng.normal(0, 4, turned.landmarks.shape).astype(np.float32)
    speaker = _track(2, n, 90, x0=100)
    speaker.landmarks[1::2, 3:, 1] += 3  # the mouth corners move as the speaker talks
    tracks = select_main([turned, speaker], n, [(0.0, n / FPS)])
    assert [tr.main for tr in tracks] == [False, True], [tr.attributes for tr in tracks]


def test_a_turned_track_never_beats_an_equally_persistent_frontal_one_even_silent():
    tracks = [_track(1, 30, 200, turned=True), _track(2, 30, 60, x0=300)]
    select_main(tracks, 30, None)
    assert [tr.main for tr in tracks] == [False, True]


def test_a_turned_track_is_main_when_no_frontal_face_is_seen_as_long():
    tracks = [_track(1, 30, 200, turned=True), _track(2, 3, 60, turned=True, x0=300)]
    select_main(tracks, 30, None)
    assert [tr.main for tr in tracks] == [True, False]
    assert select_main([_track(3, 5, 60, turned=True)], 30, [(0.0, 1.0)])[0].main


def test_speaking_score_weights_and_its_fallback_without_pauses():
    ts = np.arange(20) / 10
    motion = np.where(ts < 1.0, 0.3, 0.05)
    # the change from 0.9 s to 1.0 s spans the end of the speech: it counts as speech
    assert speaking_score(ts, motion, [(0.0, 0.95)]) == pytest.approx((10 * 0.3 + 0.05) / 11 - 0.05)
    assert speaking_score(ts, motion, [(0.0, 5.0)]) == pytest.approx(0.175)  # seen only in speech: the mean
    weights = np.where(np.arange(20) % 2 == 0, 1.0, 0.0)
    spiky = np.where(np.arange(20) % 2 == 0, 0.1, 9.0)
    assert speaking_score(ts, spiky, [(0.0, 5.0)], weights) == pytest.approx(0.1)  # unseen frames don't count


@settings(max_examples=80, deadline=None)
@given(
    base=st.lists(st.floats(0, 1), min_size=12, max_size=12),
    bump=st.floats(0, 2),
    index=st.integers(0, 11),
    weights=st.lists(st.floats(0.05, 1), min_size=12, max_size=12),
)
def test_speaking_score_is_monotone_in_sync(base, bump, index, weights):
    ts = np.arange(12) / 5
    regions = [(0.0, 0.5), (1.4, 1.9)]  # 3 + 3 observations of speech, 6 of silence (4 changes)
    motion = np.array(base)
    before = speaking_score(ts, motion, regions, np.array(weights), min_samples=3)
    raised = motion.copy()
    raised[index] += bump
    after = speaking_score(ts, raised, regions, np.array(weights), min_samples=3)
    heard = [(0.0 <= t <= 0.5) or (1.4 <= t <= 1.9) for t in ts]
    inside = heard[index] or (index > 0 and heard[index - 1])  # a change counts with either end in speech
    if inside:
        assert after >= before - 1e-9  # more motion with the voice: at least as much a speaker
    else:
        assert after <= before + 1e-9  # more motion in silence: not more a speaker


_track_spec = st.tuples(
    st.integers(2, 30),  # detections
    st.floats(20, 300),  # width
    st.booleans(),  # turned
    st.floats(0.6, 1.0),  # detector score
    st.floats(0, 1),  # mouth motion scale
    st.floats(0, 3),  # start
)


def _build(specs, rng_seed):
    rng = np.random.default_rng(rng_seed)
    tracks = []
    for i, (n, width, turned, score, scale, start) in enumerate(specs):
        mouth = rng.uniform(0, scale, n)
        tracks.append(_track(i + 1, n, width, mouth, turned, score, start, x0=100.0 + 300 * i))
    return tracks


@settings(max_examples=60, deadline=None)
@given(
    specs=st.lists(_track_spec, min_size=1, max_size=5),
    seed=st.integers(0, 10_000),
    speech=st.sampled_from([None, [(0.5, 2.0)], [(0.0, 10.0)]]),
    data=st.data(),
)
def test_selection_flags_one_track_whatever_the_order(specs, seed, speech, data):
    tracks = _build(specs, seed)
    frames = max(len(tr.timestamps) for tr in tracks) + 5
    chosen = [tr.track_id for tr in select_main(tracks, frames, speech) if tr.main]
    assert len(chosen) == 1
    shuffled = data.draw(st.permutations(_build(specs, seed)))
    assert [tr.track_id for tr in select_main(list(shuffled), frames, speech) if tr.main] == chosen


@settings(max_examples=60, deadline=None)
@given(
    specs=st.lists(_track_spec, min_size=2, max_size=5),
    seed=st.integers(0, 10_000),
    speech=st.sampled_from([None, [(0.5, 2.0)], [(0.0, 10.0)]]),
)
def test_a_turned_away_head_never_wins_over_a_frontal_face_seen_as_long(specs, seed, speech):
    tracks = select_main(_build(specs, seed), 40, speech)
    (main,) = [tr for tr in tracks if tr.main]
    if main.attributes["facing"] < SelectionConfig().turned_below:
        frontal = [tr for tr in tracks if tr.attributes["facing"] >= SelectionConfig().turned_below]
        assert all(len(tr.timestamps) < len(main.timestamps) for tr in frontal)
