"""The live fast path detects less and tracks more: detector schedule, optical flow between detections, ids
that survive short misses, duplicate boxes on one head merged, new faces found when something moves."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni_emotion.faces.flow import BoxFlow, duplicate_groups, motion_outside, to_gray
from omni_emotion.faces.tracker import FaceTracker, iou_matrix
from omni_emotion.live import LiveConfig, LiveModels, LiveSession

W, H = 640, 480
SIZE = 120  # face side in full-frame pixels


@dataclass
class Det:
    box: np.ndarray
    score: float = 0.9
    landmarks: np.ndarray | None = None
    embedding: np.ndarray | None = None
    appearance: np.ndarray | None = None


def texture(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (5, 5), 1.5)


class Scene:
    """Textured squares ("faces") on a flat background; ``render`` draws them at their positions."""

    def __init__(self) -> None:
        self.faces: dict[str, tuple[np.ndarray, list[float]]] = {}

    def add(self, name: str, x: float, y: float, seed: int = 1) -> None:
        self.faces[name] = (texture(seed), [x, y])

    def box(self, name: str) -> np.ndarray:
        x, y = self.faces[name][1]
        return np.array([x, y, x + SIZE, y + SIZE], np.float64)

    def render(self) -> np.ndarray:
        img = np.full((H, W, 3), 70, np.uint8)
        for tex, (x, y) in self.faces.values():
            xi, yi = int(round(x)), int(round(y))
            img[yi : yi + SIZE, xi : xi + SIZE] = tex
        return img


class SceneDetector:
    """Finds the scene's faces in whatever frame size it is given; ``miss`` hides names; ``extra`` adds
    boxes (full-frame pixels) such as a second box on the same head."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.calls = 0
        self.sizes: list[tuple[int, int]] = []
        self.miss: set[str] = set()
        self.extra: list[np.ndarray] = []

    def detect(self, frame):
        self.calls += 1
        self.sizes.append(frame.shape[:2])
        k = frame.shape[1] / W
        boxes = [self.scene.box(n) for n in self.scene.faces if n not in self.miss] + list(self.extra)
        return [Det(np.asarray(b, np.float32) * np.float32(k)) for b in boxes]


class NewIdEveryTime:
    """A tracker that never recognises anyone: each detection gets a new id."""

    def __init__(self) -> None:
        self.next = 1

    def update(self, t, detections):
        out = []
        for det in detections:
            out.append((self.next, det))
            self.next += 1
        return out


class Clock:
    def __init__(self) -> None:
        self.t = 50.0

    def __call__(self) -> float:
        return self.t


def session_for(detector, tracker=FaceTracker, **config) -> tuple[LiveSession, Clock]:
    clock = Clock()
    models = LiveModels(
        detector=detector, new_tracker=tracker, expressions=None, analyze_clip=lambda *a, **k: None
    )
    return LiveSession(models, LiveConfig(**config), clock=clock, background=False), clock


def iou(a, b) -> float:
    return float(iou_matrix(np.asarray(a), np.asarray(b))[0, 0])


def test_detector_sees_small_frames_every_n_frames_and_flow_carries_the_box_between():
    scene = Scene()
    scene.add("a", 100, 150)
    detector = SceneDetector(scene)
    session, clock = session_for(detector, detect_every=5, detect_side=320)
    for i in range(30):
        out = session.process_frame(scene.render())
        assert len(out.faces) == 1
        assert iou(out.faces[0].box, scene.box("a")) > 0.8, i
        scene.faces["a"][1][0] += 4  # 100 px/s at 25 frames/s
        scene.faces["a"][1][1] += 1.5
        clock.t += 0.04
    assert detector.calls == 6
    assert detector.sizes[0] == (H, W)  # nothing shown yet: the whole frame, where small faces are found
    assert set(detector.sizes[1:]) == {(240, 320)}


def test_a_small_face_keeps_the_detector_on_the_whole_frame():
    scene = Scene()
    scene.add("a", 100, 150)
    detector = SceneDetector(scene)
    detector.extra = []
    small = np.array([400, 300, 440, 340], np.float32)  # 40 px wide: 20 px in the 320 px copy
    scene.faces.clear()
    detector.extra = [small]
    session, clock = session_for(detector, detect_every=2, detect_side=320, small_face_px=32)
    for _ in range(10):
        assert len(session.process_frame(scene.render()).faces) == 1
        clock.t += 0.04
    assert set(detector.sizes) == {(H, W)}


def test_a_track_keeps_its_id_and_box_through_a_short_miss():
    scene = Scene()
    scene.add("a", 200, 100)
    detector = SceneDetector(scene)
    session, clock = session_for(detector, detect_every=3, hold_s=0.5)
    ids = []
    for i in range(40):
        detector.miss = {"a"} if 10 <= i < 18 else set()  # about 0.3 s of misses
        out = session.process_frame(scene.render())
        ids.append([f.track_id for f in out.faces])
        scene.faces["a"][1][0] += 2
        clock.t += 0.04
    assert all(row == ids[0] for row in ids) and len(ids[0]) == 1


def test_a_face_the_detector_no_longer_finds_goes_after_hold_s():
    scene = Scene()
    scene.add("a", 200, 100)
    detector = SceneDetector(scene)
    session, clock = session_for(detector, detect_every=3, hold_s=0.5)
    for _ in range(5):
        session.process_frame(scene.render())
        clock.t += 0.04
    detector.miss = {"a"}
    counts = []
    for _ in range(25):  # 1 s
        counts.append(len(session.process_frame(scene.render()).faces))
        clock.t += 0.04
    assert counts[0] == 1 and counts[-1] == 0


def test_two_boxes_on_one_head_are_one_face():
    scene = Scene()
    scene.add("a", 200, 100)
    detector = SceneDetector(scene)
    detector.extra = [scene.box("a") + np.array([12, 8, 20, 14])]  # a second, shifted box on the same head
    session, clock = session_for(detector, detect_every=1)
    for _ in range(10):
        out = session.process_frame(scene.render())
        clock.t += 0.04
        assert len(out.faces) == 1


def test_a_new_track_id_on_a_shown_face_is_merged_into_the_older_id():
    scene = Scene()
    scene.add("a", 200, 100)
    scene.add("b", 420, 260, seed=2)
    session, clock = session_for(SceneDetector(scene), tracker=NewIdEveryTime, detect_every=2)
    shown = []
    for _ in range(20):
        shown.append(sorted(f.track_id for f in session.process_frame(scene.render()).faces))
        scene.faces["a"][1][0] += 3
        clock.t += 0.04
    assert all(ids == [1, 2] for ids in shown), shown


def test_lost_flow_makes_the_detector_run_at_once():
    scene = Scene()
    scene.add("a", 200, 100)
    detector = SceneDetector(scene)
    session, _clock = session_for(detector, detect_every=50)
    session.process_frame(scene.render())
    calls = detector.calls
    scene.faces["a"] = (np.full((SIZE, SIZE, 3), 70, np.uint8), scene.faces["a"][1])  # the texture vanishes
    detector.miss = {"a"}
    session.process_frame(scene.render())
    assert detector.calls == calls + 1


def test_someone_coming_into_view_is_detected_within_a_few_frames():
    scene = Scene()
    scene.add("a", 60, 60)
    detector = SceneDetector(scene)
    session, clock = session_for(detector, detect_every=100)
    for _ in range(5):
        session.process_frame(scene.render())
        clock.t += 0.04
    scene.add("b", 400, 250, seed=3)
    counts = []
    for _ in range(4):
        counts.append(len(session.process_frame(scene.render()).faces))
        clock.t += 0.04
    assert counts[-1] == 2


def test_flow_follows_a_moving_texture_and_reports_a_lost_one():
    scene = Scene()
    scene.add("a", 100, 100)
    flow = BoxFlow()
    gray, scale = to_gray(scene.render(), 320)
    flow.seed(gray, {7: scene.box("a") * scale})
    scene.faces["a"][1][0] += 10
    box, confidence = flow.advance(to_gray(scene.render(), 320)[0])[7]
    assert confidence > 0.5 and iou(box / scale, scene.box("a")) > 0.9
    gray, _ = to_gray(np.full((H, W, 3), 70, np.uint8), 320)
    assert flow.advance(gray)[7][1] < 0.3


def test_motion_outside_ignores_motion_inside_tracked_boxes():
    a = np.full((120, 160), 50, np.uint8)
    b = a.copy()
    b[40:60, 40:60] = 200
    assert motion_outside(a, b, [])
    assert not motion_outside(a, b, [np.array([35.0, 35.0, 65.0, 65.0])])


def test_duplicate_groups_examples():
    boxes = np.array([[0, 0, 100, 100], [10, 5, 108, 104], [300, 300, 360, 360], [0, 0, 30, 30]], float)
    assert duplicate_groups(boxes) == [[0, 1], [2], [3]]  # a small face inside a big one is not a duplicate
    assert duplicate_groups(np.zeros((0, 4))) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 500), st.floats(0, 500), st.floats(5, 200)), min_size=0, max_size=8))
def test_duplicate_groups_partition_the_boxes_and_keep_identical_boxes_together(raw):
    boxes = np.array([[x, y, x + s, y + s] for x, y, s in raw], float).reshape(-1, 4)
    groups = duplicate_groups(np.concatenate([boxes, boxes]))
    flat = sorted(i for g in groups for i in g)
    assert flat == list(range(2 * len(boxes)))
    for i in range(len(boxes)):
        assert any(i in g and i + len(boxes) in g for g in groups)
    for g in groups:
        assert g == sorted(g)


@pytest.mark.parametrize(
    "bad", [{"detect_every": 0}, {"detect_side": 16}, {"hold_s": -1}, {"min_flow": 2}, {"expression_hz": 0}]
)
def test_fast_path_settings_are_checked(bad):
    from omni_emotion.errors import ConfigError

    with pytest.raises(ConfigError):
        LiveConfig(**bad)


def test_frames_from_two_threads_never_reach_the_tracker_out_of_order():
    """A frame that arrived first but waited for another thread's frame is timed after it (the tracker
    refuses time going backwards)."""
    import threading

    a_read, b_detecting = threading.Event(), threading.Event()

    class TwoThreadClock:
        t = 10.0

        def __call__(self):
            self.t += 0.01
            now = self.t
            if threading.current_thread().name == "frame-a" and not a_read.is_set():
                a_read.set()
                b_detecting.wait(5)  # frame B overtakes frame A here
            return now

    class MarkingDetector(SceneDetector):
        def detect(self, frame):
            if threading.current_thread().name == "frame-b":
                b_detecting.set()
            return super().detect(frame)

    scene = Scene()
    scene.add("a", 100, 100)
    models = LiveModels(
        detector=MarkingDetector(scene),
        new_tracker=FaceTracker,
        expressions=None,
        analyze_clip=lambda *a, **k: None,
    )
    session = LiveSession(models, LiveConfig(detect_every=1), clock=TwoThreadClock(), background=False)
    errors = []

    def run():
        try:
            session.process_frame(scene.render())
        except Exception as err:
            errors.append(err)

    a = threading.Thread(target=run, name="frame-a")
    a.start()
    assert a_read.wait(5)
    b = threading.Thread(target=run, name="frame-b")
    b.start()
    a.join(10)
    b.join(10)
    assert not errors, errors
