"""Camera timing end to end (issue 16): the real app (``streamlit run app.py``) serves the
camera page and its offline pose model; headless Chromium plays a clip as its camera
(``--use-file-for-fake-video-capture``). Clips are made at test time with ffmpeg from
``shared/media/walk-side-view.mp4`` (tools/camera_clips.py) in a temporary directory.

- the synthetic walk (a figure moved at exactly 1 m/s), Start tapped after the figure has
  crossed the start tape: through the wizard, the camera time saved beside the stopwatch time
  is within 0.1 s of the true 3.00 s, and the clinician can score it instead (audited);
- the same walk with a standing start: Start tapped while the figure stands still, the
  camera time from its feet's first movement to the finish within 0.1 s of the truth;
- the person stopping before the finish line: through the wizard, the message is shown
  and no camera time is saved;
- the real footage reversed (a woman walking backwards, two other people in the scene):
  both crossings found, and the person tracked is the one on the walkway;
- the empty scene: "no person found", no time.

The truth is the clip's own time (its frames are numbered, tools/camera_clips.py) on the
camera's clock: 3.000 s of the clip from the camera's start crossing. That is 3.000 s when
Chromium's fake camera keeps pace with the file; starved of CPU it delivers the file's frames
late and the clip plays slower than the timestamps it puts on them (a real camera's
timestamps are the moments it saw): the camera rightly measures the slower walk, and the
test compares it with the truth as the camera's clock saw it, and prints both.

Every request Chromium makes goes to the app (127.0.0.1): the pose model sends nothing out.
No screenshot shows a person: the camera image is hidden before screenshots are taken.
The pose model runs in a worker that looks at every kept frame of a walk (every 2nd of the
camera's 30 a second), however slowly this machine runs it; a busy machine gives the time later,
not with wider gaps. The frames are taken on the page's main thread, which it shares with the
app; on this loaded 2-core machine that thread misses up to about 0.25 s of frames a few times a
minute, and when that falls on a crossing the camera rightly refuses ("frame rate too low":
frames more than 0.14 s apart, ``MAX_GAP_S`` in timing.mjs). Such a walk is walked once more,
with the refusal and the longest wait printed; the second walk must be timed. Start is tapped as a clinician taps it: as the
walker reaches the start tape (seen by the camera's own live view, so a little after), except in
the real-walk test, which taps it before she reaches the tape.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from records import services
from records.db import open_database
from tools import camera_clips as clips

from conftest import (ARTIFACTS, BROWSER_ARGS, CHROMIUM, CLINICIAN, PASSWORD, _require_browser,
                      begin_wizard_for_new_patient, start_app, stop_app, wait_idle)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: Acceptance (issue 16): the synthetic walk's camera time within this of the truth, seconds.
TRUTH_TOLERANCE_S = 0.1
CAMERA_PAGE = "/app/static/camera/camera.html"
#: Posts to an outside host from the page or a worker (``self``): [what fetch did, the CSP directives violated].
OUTSIDE_FETCH = """async () => {
    const seen = [];
    self.addEventListener('securitypolicyviolation', (e) => seen.push(e.effectiveDirective));
    const r = await fetch('https://example.com/collect', { method: 'POST', body: 'x' }).then(() => 'sent', () => 'refused');
    await new Promise((ok) => setTimeout(ok, 200));
    return [r, seen]; }"""


def _need_tools() -> None:
    _require_browser()
    missing = [what for what, ok in (("ffmpeg", clips.ffmpeg()), ("the test footage", clips.FOOTAGE.exists())) if not ok]
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{' and '.join(missing)} missing and CI=true: the camera e2e must run in CI")
        pytest.skip(f"{' and '.join(missing)} missing")


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    _need_tools()
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _need_tools()
    tmp = tmp_path_factory.mktemp("camera-app")
    db_url = f"sqlite:///{tmp / 'e2e.sqlite3'}"
    proc, url, log = start_app(db_url, tmp / "server.log")
    try:
        yield {"url": url, "db_url": db_url}
    finally:
        stop_app(proc, log)


@pytest.fixture
def camera_browser(server, clip_dir):
    """``open(clip_name, viewport=...)`` -> a page in a Chromium whose camera plays the clip;
    every request URL any page makes is appended to ``requests``."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browsers = []

        def open_page(name: str, viewport=(1024, 768)):
            clip = clips.make(name, clip_dir)
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                *BROWSER_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={clip}"])
            browsers.append(browser)
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            context.on("request", lambda r: requests.append(r.url))
            page = context.new_page()
            page.set_default_timeout(60_000)
            return page

        yield open_page, requests
        for b in browsers:
            b.close()
    hosts = {urlparse(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts <= {"127.0.0.1"}, hosts


# ---------------------------------------------------------------- helpers


def _poll(fn, timeout_s: float, what: str, every_s: float = 0.03):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"timed out waiting for {what}")


def _camera(frame) -> dict:
    """The camera page's state that the tests read (coordinates and times only)."""
    return frame.evaluate("""() => { const s = window.stepbackCamera; if (!s) return null;
        return {ready: s.ready, error: s.error, results: s.results, processed: s.processed, kept: s.kept,
                dropped: s.dropped, longestGapS: s.longestGapS,
                clock: s.captureClock, lines: s.lines,
                live: s.live ? { ...s.live, age: performance.now() / 1000 - s.live.t } : null}; }""")


def _wait_ready(frame) -> None:
    state = _poll(lambda: (lambda s: s if s and (s["ready"] or s["error"]) else None)(_camera(frame)), 90, "the camera")
    assert state["error"] is None, state["error"]


def _tap_tapes(frame) -> None:
    """Tap the start and the finish tape on the live image, as a clinician does."""
    canvas = frame.get_by_test_id("cam-overlay")
    for which, (x, y) in (("start", clips.START), ("finish", clips.FINISH)):
        frame.get_by_test_id(f"cam-set-{which}").click()
        box = canvas.bounding_box()
        canvas.click(position={"x": x / clips.WIDTH * box["width"], "y": y / clips.HEIGHT * box["height"]})
    lines = _camera(frame)["lines"]
    for which, (x, y) in (("start", clips.START), ("finish", clips.FINISH)):
        assert abs(lines[which]["x"] * clips.WIDTH - x) < 3 and abs(lines[which]["y"] * clips.HEIGHT - y) < 3, lines


def _lead(frame):
    """The walker's leading foot point from the start tape (px), from a fresh look of the camera
    (during a walk's catch-up the pose worker looks at the walk's frames first; its newest look can
    then be seconds old)."""
    live = _camera(frame)["live"]
    return live["lead"] if live and live["count"] == 1 and live["age"] <= 0.5 else None


def _before_start(frame) -> bool:
    """The walker is in the walkway, 0.4-1.5 m before the start tape (time to tap Start)."""
    lead = _lead(frame)
    return lead is not None and -1.5 * clips.PX_PER_M <= lead <= -0.4 * clips.PX_PER_M


def _at_start(frame) -> bool:
    """The walker's leading foot has just reached the start tape (a clinician taps Start as the
    patient crosses: after the crossing, by the camera's own lag and the tap's). Within 0.4 m of
    it in a look at most 0.3 s old: at the walkers' 1-1.3 m/s the tap comes well within
    ROLLING_LOOKBACK_S (1 s) of the crossing."""
    live = _camera(frame)["live"]
    return (live is not None and live["count"] == 1 and live["age"] <= 0.3
            and 0 <= live["lead"] <= 0.4 * clips.PX_PER_M)


def _past_finish(frame) -> bool:
    lead = _lead(frame)
    return lead is not None and lead >= (clips.FINISH[0] - clips.START[0]) + 0.25 * clips.PX_PER_M


def _open_camera_page(open_page, url: str, clip: str):
    page = open_page(clip)
    page.add_init_script(f"localStorage.setItem('stepback.camera.lines.v1', {json.dumps(json.dumps(clips.lines_fraction()))});")
    page.goto(url + CAMERA_PAGE + "?model=lite")
    _wait_ready(page.main_frame)
    return page


def _time_on_page(page, start_when, stop_when, stop_after_s: float) -> dict:
    """Go when ``start_when`` holds; Stop when ``stop_when`` holds or after ``stop_after_s``; the result."""
    frame = page.main_frame
    _poll(lambda: start_when(frame), 30, "the moment to tap Start")
    frame.evaluate("() => window.stepbackCamera.go(performance.timeOrigin + performance.now(), 'rolling')")
    deadline = time.monotonic() + stop_after_s
    while time.monotonic() < deadline and not stop_when(frame):
        time.sleep(0.03)
    return frame.evaluate("() => window.stepbackCamera.stop(performance.timeOrigin + performance.now(), 'e2e')")


def _camera_on(page):
    """Turn the camera view on in the stopwatch; return the camera iframe, ready."""
    page.locator(".sw-camera[data-ready='true']").wait_for()  # the component's script has run
    wait_idle(page)  # no rerun under way to replace the component after the tick
    page.get_by_test_id("sw-cam-on").check()

    def find():
        # A Playwright call, so that it takes in the browser's frame events: ``page.frames`` alone
        # is not updated between calls (polling it with sleeps never saw the new iframe).
        page.wait_for_timeout(50)
        return next((f for f in page.frames if CAMERA_PAGE in f.url), None)

    frame = _poll(find, 30, "the camera iframe")
    _wait_ready(frame)
    assert "no video or image leaves it" in frame.get_by_test_id("cam-privacy").inner_text()
    return frame


#: The fixed patient header covers the top of the page (pixels).
HEADER_PX = 130


def _centre(button) -> None:
    button.evaluate("(el) => el.scrollIntoView({ block: 'center' })")


def _tap(page, name: str) -> None:
    """Tap the button straight at its place on the screen now (no actionability checks: they take
    a second on a busy machine, and the walker does not wait), scrolled to the middle of the
    screen first if it is off it or under the fixed patient header."""
    button = page.get_by_role("button", name=name, exact=True)
    box = button.bounding_box()
    if box is None or box["y"] < HEADER_PX or box["y"] + box["height"] > page.viewport_size["height"]:
        _centre(button)
        box = button.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def _walk_in_wizard(page, frame, start_when, stop_when, stop_after_s: float) -> None:
    _centre(page.get_by_role("button", name="Start", exact=True))
    _poll(lambda: start_when(frame), 30, "the moment to tap Start")
    _tap(page, "Start")
    deadline = time.monotonic() + stop_after_s
    while time.monotonic() < deadline and not stop_when(frame):
        time.sleep(0.03)
    _tap(page, "Stop")


def _watch_clip_clock(frame, scale: int = 1) -> None:
    """Log each camera frame's timestamp with the clip's own frame number (the synthetic clip's
    marker, tools/camera_clips.py; ``scale`` times its size) in the camera page, as
    ``window.clipClock``: [[t, n], ...]."""
    frame.evaluate("""([bits, px]) => { const v = document.querySelector('.cam-video');
        const c = document.createElement('canvas'); c.width = bits * px; c.height = px;
        const g = c.getContext('2d', { willReadFrequently: true }); window.clipClock = [];
        const on = (now, m) => {
          g.drawImage(v, 0, 0, bits * px, px, 0, 0, bits * px, px);
          const d = g.getImageData(0, 0, bits * px, px).data;
          let n = 0;
          for (let b = 0; b < bits; b += 1) if (d[((px >> 1) * bits * px + b * px + (px >> 1)) * 4] > 128) n += 1 << b;
          window.clipClock.push([m.captureTime / 1000, n]);
          v.requestVideoFrameCallback(on); };
        v.requestVideoFrameCallback(on); }""", [clips.MARKER_BITS, clips.MARKER_PX * scale])


def _truth_on_camera_clock(frame, start_t: float, clip_seconds: float) -> float:
    """The camera-clock time the clip took to play ``clip_seconds`` of its own time from the
    camera's ``start_t``: the synthetic walk's truth as the camera's timestamps should measure it
    (``clip_seconds`` when the fake camera kept pace with the file, more when it fell behind).
    The rate is a least-squares line through the frames of that stretch (each fake frame's
    timestamp is its delivery, a few tens of milliseconds either way)."""
    log: list[tuple[float, int]] = []
    for t, n in frame.evaluate("() => window.clipClock"):
        if t < start_t - 0.3:
            continue
        if log and n < log[-1][1] - clips.FPS:  # the file starts again (the fake camera loops it)
            if t > start_t:
                break
            log.clear()  # start_t is in this pass through the file
        elif log and n <= log[-1][1]:
            continue  # a marker misread (or a frame delivered twice): not the clip's clock
        log.append((t, n))
    log = [(t, n / clips.FPS) for t, n in log if t <= start_t + clip_seconds + 0.3]
    assert len(log) > 10 and log[-1][0] - log[0][0] > clip_seconds * 0.9, f"clip clock unreadable: {log}"
    mean_t = sum(t for t, _ in log) / len(log)
    mean_c = sum(c for _, c in log) / len(log)
    slope = sum((t - mean_t) * (c - mean_c) for t, c in log) / sum((c - mean_c) ** 2 for _, c in log)
    return slope * clip_seconds


def _timed_every_kept_frame(result: dict) -> None:
    """The pose worker looks at every kept frame of a walk (about 15 a second), however slowly this
    machine runs the model: "frame rate too low" would mean frames were lost, which is a failure."""
    assert result.get("code") != "low-fps", (
        f"the camera refused to time: frames more than 0.14 s apart at a crossing (gaps {result.get('gaps')} s, "
        f"{result.get('fps')} frames/s timed, {result.get('dropped')} dropped by the worker)")


def _once_more_if_held_up(result: dict, frame) -> bool:
    """True (and says why) when the camera refused a walk for frame gaps: the page's main thread,
    which it shares with the app, was held up for longer than MAX_GAP_S at a crossing (on this
    loaded 2-core machine it misses up to about 0.25 s of frames a few times a minute: the longest
    wait is printed). The walk is then done once more, and that one must be timed."""
    if result.get("code") != "low-fps":
        return False
    longest = _camera(frame)["longestGapS"]
    print(f"the camera refused a walk for frame gaps {result.get('gaps')} s (the longest wait between two "
          f"frames this page saw: {longest:.3f} s): walking once more")
    return True


def _wizard_walk(page, frame, start_when, stop_when, stop_after_s: float) -> tuple[int, dict]:
    """Walk 1 through the wizard, and walk 2 if the camera refused walk 1 for frame gaps
    (:func:`_once_more_if_held_up`): (the walk's number, the camera's result for it)."""
    for number in (1, 2):
        before = len(_camera(frame)["results"])
        _walk_in_wizard(page, frame, start_when, stop_when, stop_after_s)
        page.get_by_text(f"Walk {number} saved").first.wait_for()
        result = _poll(lambda: (lambda r: r[before] if len(r) > before else None)(_camera(frame)["results"]),
                       90, "the camera's time")
        if number == 2 or not _once_more_if_held_up(result, frame):
            return number, result
    raise AssertionError("unreachable")


def _page_walk(page, start_when, stop_when, stop_after_s: float) -> dict:
    """:func:`_time_on_page`, once more if the camera refused for frame gaps (:func:`_once_more_if_held_up`)."""
    result = _time_on_page(page, start_when, stop_when, stop_after_s)
    if _once_more_if_held_up(result, page.main_frame):
        result = _time_on_page(page, start_when, stop_when, stop_after_s)
    return result


def _draft(db_url: str, mrn: str):
    db = open_database(db_url)
    try:
        drafts = services.open_drafts(db, mrn)
        return drafts[0] if drafts else None
    finally:
        db.dispose()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _synthetic_walk_ready(camera_browser, server, *, mrn: str, start: str):
    """The synthetic clip as the camera, the wizard at the timed walks of a new patient ``mrn``
    with ``start``, the camera on, the tapes tapped and the clip's clock watched: (page, frame)."""
    page = camera_browser[0]("synthetic")
    begin_wizard_for_new_patient(page, server, {"clinician": CLINICIAN}, mrn=mrn, given="Cam", family="Era",
                                 start=start)
    frame = _camera_on(page)
    _tap_tapes(frame)
    _watch_clip_clock(frame)
    return page, frame


# ---------------------------------------------------------------- tests


def test_synthetic_walk_is_timed_within_a_tenth_of_the_truth_and_saved_beside_the_stopwatch(camera_browser, server, accounts_db):
    requests = camera_browser[1]
    page, frame = _synthetic_walk_ready(camera_browser, server, mrn="CAM-1", start="rolling")
    number, result = _wizard_walk(page, frame, _at_start, _past_finish, 6.0)
    page.get_by_text("Camera beside the stopwatch").wait_for()
    wait_idle(page)
    _timed_every_kept_frame(result)
    assert result["ok"], result
    truth = _truth_on_camera_clock(frame, result["startT"], clips.TRUE_SECONDS)
    print(f"camera (rolling start, synthetic): {result}; truth on the camera's clock {truth:.3f} s")
    trial = _draft(server["db_url"], "CAM-1").trials[number - 1]
    assert trial.timing_source == "stopwatch" and trial.camera_note is None
    assert abs(trial.camera_seconds - truth) <= TRUTH_TOLERANCE_S, (trial.camera_seconds, truth)
    page.get_by_text(f"camera {trial.camera_seconds:.2f} s").wait_for()
    page.get_by_role("button", name="Score the camera time").click()
    page.get_by_text("scored: camera").wait_for()
    trial = _draft(server["db_url"], "CAM-1").trials[number - 1]
    assert (trial.timing_source, trial.seconds) == ("camera", trial.camera_seconds)
    assert trial.stopwatch_seconds is not None
    assert any("camera.html" in u for u in requests) and any(u.endswith(".task") for u in requests)


def test_standing_start_camera_time_is_saved_and_shown_but_never_scored(camera_browser, server, accounts_db):
    """Standing start (the other convention): Start tapped while the figure stands still; the camera
    times from its feet's first movement (MOVE_THRESHOLD_M along the walkway, at 1 m/s that many
    seconds after it sets off) to its leading foot reaching the finish tape.

    Before the rule was made steadier one run measured 4.68 s for a 3.56 s walk (the first
    movement found early); since, runs have come within 0.04 s, but only on this synthetic figure,
    never on a real patient's standing start. So the product shows the time beside the stopwatch
    and never scores it (``assessment.protocol.camera_time_can_be_scored``); this test checks that,
    and prints the error against the truth rather than asserting it. Start is tapped only on a
    fresh look of the camera showing the figure still (a Start tapped while it already moved is
    refused by the rule: "the feet were already moving at Start")."""
    page, frame = _synthetic_walk_ready(camera_browser, server, mrn="CAM-3", start="standing")
    threshold_m = frame.evaluate("async () => (await import('./timing.mjs')).MOVE_THRESHOLD_M")
    seen: list[tuple[float, float]] = []

    def standing_still(f) -> bool:
        """The figure stands before the start tape: its leading foot has not moved 3 px in 0.3 s."""
        live = _camera(f)["live"]
        if not live or live["count"] != 1 or live["lead"] >= 0 or live["age"] > 0.3:
            seen.clear()
            return False
        seen.append((live["t"], live["lead"]))
        recent = [lead for t, lead in seen if t >= live["t"] - 0.3]
        return seen[0][0] <= live["t"] - 0.3 and max(recent) - min(recent) <= 3

    number, result = _wizard_walk(page, frame, standing_still, _past_finish, 7.0)
    rest = [lead for t, lead in seen if t >= seen[-1][0] - 0.3]
    rest_px = sum(rest) / len(rest)
    page.get_by_text("Camera beside the stopwatch").wait_for()
    page.get_by_text("Standing start: from the first movement of the feet").wait_for()
    wait_idle(page)
    _timed_every_kept_frame(result)
    assert result["ok"] and result["mode"] == "standing", result
    # the figure sets off from rest at exactly 1 m/s: from the first movement to the finish tape
    clip_s = ((clips.FINISH[0] - clips.START[0]) - rest_px) / clips.SPEED_PX_S - threshold_m / (clips.SPEED_PX_S / clips.PX_PER_M)
    truth = _truth_on_camera_clock(frame, result["startT"], clip_s)
    print(f"camera (standing start): {result}; truth {clip_s:.3f} s of the clip, {truth:.3f} s on the camera's clock")
    trial = _draft(server["db_url"], "CAM-3").trials[number - 1]
    assert trial.timing_source == "stopwatch" and trial.camera_note is None and trial.camera_seconds is not None
    print(f"standing start: camera {trial.camera_seconds:.2f} s, truth {truth:.3f} s, "
          f"error {trial.camera_seconds - truth:+.3f} s (not asserted: see the docstring)")
    page.get_by_text(f"camera {trial.camera_seconds:.2f} s").first.wait_for()  # shown beside the stopwatch
    assert page.get_by_role("button", name="Score the camera time").count() == 0


def test_person_stopping_before_the_line_gets_the_message_and_no_camera_time(camera_browser, server, accounts_db):
    open_page, _ = camera_browser
    page = open_page("stop_short")
    begin_wizard_for_new_patient(page, server, {"clinician": CLINICIAN}, mrn="CAM-2", given="Cam", family="Era",
                                 start="rolling")
    frame = _camera_on(page)
    _tap_tapes(frame)
    _walk_in_wizard(page, frame, _at_start, lambda f: False, 4.5)
    page.get_by_text("Walk 1 saved").first.wait_for()
    page.get_by_text("Camera beside the stopwatch").wait_for()
    trial = _draft(server["db_url"], "CAM-2").trials[0]
    assert (trial.camera_seconds, trial.camera_note, trial.timing_source) == (None, "not-crossed-finish", "stopwatch")
    page.get_by_text("Walk 1: stopwatch").filter(has_text="camera: The finish line was not crossed").wait_for()
    assert frame.get_by_test_id("cam-result").inner_text() == "Camera: the finish line was not crossed."
    # Screenshots for review, with the camera image itself hidden (the footage shows real people).
    frame.evaluate("() => { document.querySelector('.cam-video').style.visibility = 'hidden'; }")
    for size in ((1024, 768), (820, 1180)):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.get_by_test_id("sw-cam-frame").scroll_into_view_if_needed()
        _shot(page, f"camera-stopwatch-{size[0]}x{size[1]}")
    # Walk 2, and Continue tapped at once after Stop, before the camera's time can have come
    # (it comes once the pose worker has looked at the frames to 0.8 s after Stop): the step waits
    # for it and then goes on by itself; the camera's message is saved with walk 2.
    frame.evaluate("() => { document.querySelector('.cam-video').style.visibility = 'visible'; }")
    page.set_viewport_size({"width": 1024, "height": 768})
    wait_idle(page)
    _walk_in_wizard(page, frame, _at_start, lambda f: False, 4.5)
    page.get_by_text("Walk 2 saved").first.wait_for()
    timed = len(_camera(frame)["results"])  # 1: walk 2 is still being timed
    page.get_by_role("button", name="Continue to the observations").click()
    waiting = page.get_by_text("The camera is still timing walk 2")
    waiting.or_(page.get_by_text("Step 7 of 9: Observations")).first.wait_for()
    shown = waiting.count() > 0
    if shown:
        waiting.screenshot(path=str(ARTIFACTS / "camera-continue-waiting.png"))  # the message only (no camera image)
    print(f"Continue tapped with {2 - timed} camera time(s) still coming; the waiting message shown: {shown}")
    page.get_by_text("Step 7 of 9: Observations").wait_for(timeout=60_000)
    trial = _draft(server["db_url"], "CAM-2").trials[1]
    assert (trial.camera_seconds, trial.camera_note) == (None, "not-crossed-finish"), trial


def test_reversed_real_walk_crossings_found_and_the_walker_is_tracked(camera_browser, server):
    open_page, _ = camera_browser
    page = _open_camera_page(open_page, server["url"], "reversed")
    seen_feet_y: list[float] = []
    last_lead: list[float | None] = [None]

    def before(frame):
        """Nobody on the walkway yet (the clip's first 1.5 s, a held frame in which the model
        finds nobody) or the walker still before the start tape."""
        live = _camera(frame)["live"]
        if live and live["count"] == 1:
            seen_feet_y.append(live["feetY"])
            last_lead[0] = live["lead"]
        fresh = live is not None and live["age"] <= 0.5  # (the camera's newest look, not one seconds old)
        # nobody there, unless the last person seen was past the start tape (she is leaving, or
        # the model missed her for a frame)
        empty = fresh and live["count"] == 0 and (last_lead[0] is None or last_lead[0] < 0)
        return empty or _before_start(frame)

    def past(frame):
        live = _camera(frame)["live"]
        if live and live["count"] == 1:
            seen_feet_y.append(live["feetY"])
        return _past_finish(frame)

    result = _page_walk(page, before, past, 12.0)
    print(f"camera (reversed real walk): {result}")
    _timed_every_kept_frame(result)
    assert result["ok"], result
    # README: she walks at about 1.28 m/s, so 3 m take about 2.3 s; the camera's time is hers.
    assert 1.9 <= result["seconds"] <= 2.9, result
    # the one person on the walkway is her (feet on the floor line), not the man on the box
    assert seen_feet_y and all(abs(y - clips.START[1]) <= 0.35 * clips.PX_PER_M for y in seen_feet_y), seen_feet_y


def test_a_tablet_sized_camera_is_timed_from_frames_scaled_down_to_640_px(camera_browser, server):
    """A 1280x720 camera (a tablet's): the walkway's part of each kept frame is scaled down to at
    most 640 px wide before it waits for the pose model, and the walk is still timed within 0.1 s
    of the truth on the camera's clock."""
    open_page, _ = camera_browser
    page = _open_camera_page(open_page, server["url"], "synthetic_hd")
    _watch_clip_clock(page.main_frame, scale=clips.HD_SCALE)
    result = _page_walk(page, _at_start, _past_finish, 8.0)
    sizes = page.evaluate("() => [window.stepbackCamera.videoSize, window.stepbackCamera.keptSize]")
    print(f"camera (synthetic, 1280x720): {result}; video {sizes[0]}, kept frames {sizes[1]}")
    _timed_every_kept_frame(result)
    assert result["ok"], result
    truth = _truth_on_camera_clock(page.main_frame, result["startT"], clips.TRUE_SECONDS)
    assert sizes[0] == [clips.WIDTH * clips.HD_SCALE, clips.HEIGHT * clips.HD_SCALE] and sizes[1][0] == 640, sizes
    assert abs(result["seconds"] - truth) <= TRUTH_TOLERANCE_S, (result, truth)


def test_empty_scene_says_no_person_and_gives_no_time(camera_browser, server):
    open_page, _ = camera_browser
    page = _open_camera_page(open_page, server["url"], "empty")
    result = _time_on_page(page, lambda f: True, lambda f: False, 2.0)
    assert (result["ok"], result["code"]) == (False, "no-person"), result
    assert "seconds" not in result
    assert page.get_by_test_id("cam-result").inner_text() == "Camera: no person found in the walkway."
    # The page's Content-Security-Policy refuses any connection but the app's own, and so does the
    # pose worker's (started from a blob: URL, it runs under the page's policy).
    workers = [w for w in page.workers if w.url.startswith("blob:")]
    assert len(workers) == 1, [w.url for w in page.workers]
    for context in (page, workers[0]):
        outcome = context.evaluate(OUTSIDE_FETCH)
        assert outcome == ["refused", ["connect-src"]], (context, outcome)


@pytest.fixture(scope="module")
def accounts_db(server):
    """The clinician account in the module's app database."""
    db = open_database(server["db_url"])
    try:
        services.add_user(db, username="boss", password=PASSWORD, role="admin", display_name="Bo Boss", actor="system")
        services.add_user(db, username=CLINICIAN, password=PASSWORD, display_name="Jo Doe", actor="boss")
    finally:
        db.dispose()
