"""Camera timing beside the stopwatch (issue 16): the stopwatch's optional camera view.

The camera page itself (``static/camera/camera.html``, served by Streamlit's static
serving at ``/app/static/camera/``) runs in an iframe under the stopwatch buttons: the
camera image goes only to the pose model in the browser (``@mediapipe/tasks-vision``
0.10.35, vendored, no outside request, a Content-Security-Policy that forbids any); the
time comes back by ``postMessage`` and is sent to Python as the ``camera`` trigger,
``{"lapId", "ok", "seconds", "code"}``. The camera view is off until the clinician turns
it on (remembered per device). This module holds the component's camera snippets (used
by ``ui/stopwatch.py``) and the page side: saving the camera's time to the walk it
belongs to and showing both times, with the choice of the scored one.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from assessment.errors import InputError
from assessment.protocol import camera_rule, camera_time_can_be_scored
from records import services

from .common import show_error
from .resources import actor, database

#: Served by Streamlit's static file serving (``server.enableStaticServing``).
CAMERA_PAGE = "/app/static/camera/camera.html"
#: Pose model size used in the clinic (bench/camera.py measures the others).
MODEL = "lite"

#: Lap id -> walk number, per draft, so a camera time reaches the walk it timed.
_LAPS = "camera_lap_walks"
#: The camera result waiting to be saved (set by the stopwatch component's trigger).
_PENDING = "camera_pending"
#: Draft id -> the walk numbers whose camera time has not come yet.
_AWAITING = "camera_awaiting"

HTML = """
<div class="sw-camera">
  <label class="sw-cam-toggle"><input type="checkbox" class="sw-cam-on" data-testid="sw-cam-on">
    Camera timing beside the stopwatch (tablet on a tripod, side-on)</label>
  <div class="sw-cam-frame"></div>
  <div class="sw-cam-note" data-testid="sw-cam-note"></div>
</div>
"""

CSS = """
.sw-camera { margin-top: 1.5rem; }
.sw-cam-toggle { font-size: 1.1rem; display: flex; gap: 0.5rem; align-items: center; min-height: 2.75rem; cursor: pointer; }
.sw-cam-toggle input { width: 1.6rem; height: 1.6rem; }
.sw-cam-frame iframe { width: 100%; height: 31rem; border: 0; margin-top: 0.5rem; }
.sw-cam-note { margin-top: 0.25rem; min-height: 1.4rem; font-size: 1.1rem; }
"""

#: ``stepbackCamera(root, data, setTriggerValue)`` -> {go(event), stop(event, lapId), reset()}.
JS = """
function stepbackCamera(root, data, setTriggerValue) {
  const box = root.querySelector('.sw-camera');
  const on = box.querySelector('.sw-cam-on');
  const frame = box.querySelector('.sw-cam-frame');
  const note = box.querySelector('.sw-cam-note');
  const KEY = 'stepback.camera.on';
  const c = root.__cam || (root.__cam = { iframe: null, listening: false });
  c.mode = (data && data.start) || 'standing';
  c.send = setTriggerValue;
  const show = (yes) => {
    if (yes && !c.iframe) {
      c.iframe = document.createElement('iframe');
      c.iframe.src = (data && data.camera_page) + '?model=' + encodeURIComponent((data && data.camera_model) || 'lite');
      c.iframe.allow = 'camera';
      c.iframe.title = 'Camera timing';
      c.iframe.dataset.testid = 'sw-cam-frame';
      frame.appendChild(c.iframe);
    } else if (!yes && c.iframe) {
      c.iframe.remove();
      c.iframe = null;
      note.textContent = '';
    }
  };
  if (!c.listening) {
    c.listening = true;
    window.addEventListener('message', (e) => {
      if (!c.iframe || e.source !== c.iframe.contentWindow || e.origin !== location.origin) return;
      const m = e.data;
      if (!m || m.stepback !== 'camera' || m.type !== 'result') return;
      note.textContent = '';  // the camera page shows its own result
      c.send('camera', { lapId: String(m.lapId), ok: !!m.ok, seconds: m.ok ? m.seconds : null, code: m.ok ? null : m.code });
    });
  }
  on.checked = localStorage.getItem(KEY) === 'on';
  on.onchange = () => { localStorage.setItem(KEY, on.checked ? 'on' : 'off'); show(on.checked); };
  show(on.checked);
  box.dataset.ready = 'true';
  const tell = (msg) => { if (c.iframe && c.iframe.contentWindow) c.iframe.contentWindow.postMessage({ stepback: 'camera', ...msg }, location.origin); };
  const at = (e) => performance.timeOrigin + (e && e.timeStamp ? e.timeStamp : performance.now());
  return {
    go: (e) => {
      c.timing = !!c.iframe;
      if (c.iframe) { note.textContent = 'Camera timing… keep this step open until the camera time shows.'; tell({ type: 'go', at: at(e), mode: c.mode }); }
    },
    // whether the camera times the lap being stopped (its time then follows as the ``camera`` trigger)
    stop: (e, lapId) => { const timing = !!(c.timing && c.iframe); c.timing = false; tell({ type: 'stop', at: at(e), lapId }); return timing; },
    reset: () => { c.timing = false; tell({ type: 'reset' }); note.textContent = ''; },
  };
}
"""


def take(result: Any) -> None:
    """Keep the component's ``camera`` trigger value (if any) until :func:`save_pending` saves it."""
    value = getattr(result, "camera", None)
    if isinstance(value, dict) and value.get("lapId") is not None:
        st.session_state[_PENDING] = value


def remember_lap(draft_id: int, lap_id: str, number: int, *, camera: bool = False) -> None:
    """Note that the stopwatch lap ``lap_id`` was saved as walk ``number`` of the draft (and,
    with ``camera``, that the camera is timing it: its time is awaited)."""
    st.session_state.setdefault(_LAPS, {})[(draft_id, str(lap_id))] = number
    if camera:
        st.session_state.setdefault(_AWAITING, {}).setdefault(draft_id, set()).add(number)


def awaiting(draft_id: int) -> list[int]:
    """The draft's walks whose camera time has not come yet (sorted)."""
    return sorted(st.session_state.get(_AWAITING, {}).get(draft_id, ()))


def leave_without(draft_id: int) -> bool:
    """The clinician goes on before the camera's time came: each awaited walk is saved with the
    note ``left-early`` (audited), so the walk says why it has no camera time. False (with the
    error shown) when that could not be saved."""
    for number in awaiting(draft_id):
        try:
            services.record_camera_time(database(), draft_id, number, None, "left-early", actor=actor())
        except InputError as exc:
            show_error(exc)
            return False
        st.session_state[_AWAITING][draft_id].discard(number)
    return True


def save_pending(draft_id: int) -> None:
    """Save a waiting camera result to the walk its lap was saved as (once), then rerun to show it."""
    pending = st.session_state.get(_PENDING)
    if not pending:
        return
    number = st.session_state.get(_LAPS, {}).get((draft_id, str(pending["lapId"])))
    if number is None:
        return  # the lap is not saved yet (it is, in the rerun that follows) or not this draft's
    st.session_state.pop(_PENDING)
    seconds = pending.get("seconds") if pending.get("ok") else None
    code = None if seconds is not None else pending.get("code")
    try:
        services.record_camera_time(database(), draft_id, number, seconds, code, actor=actor())
    except InputError as exc:
        show_error(exc)
        return
    st.session_state.get(_AWAITING, {}).get(draft_id, set()).discard(number)
    st.rerun()


def camera_times(draft_id: int, trials: list) -> None:
    """Both times of each walk the camera timed, their difference, and the scored one (choosable)."""
    timed = [t for t in trials if t.camera_seconds is not None or t.camera_note]
    if not timed:
        return
    st.markdown("**Camera beside the stopwatch**")
    st.caption("The stopwatch time is scored unless you choose the camera time. The camera has not been "
               "checked against the stopwatch in this clinic yet: see README, Camera timing.")
    st.caption(camera_rule(timed[0].start))
    for t in timed:
        stopwatch_s = t.stopwatch_seconds if t.timing_source == "camera" else t.seconds
        c1, c2 = st.columns([3, 1])
        if t.camera_seconds is None:
            c1.write(f"Walk {t.number}: stopwatch {stopwatch_s:.2f} s; camera: "
                     f"{services.CAMERA_NOTES.get(t.camera_note, t.camera_note)}")
            continue
        diff = t.camera_seconds - stopwatch_s
        c1.write(f"Walk {t.number}: stopwatch {stopwatch_s:.2f} s, camera {t.camera_seconds:.2f} s "
                 f"(difference {diff:+.2f} s); scored: {t.timing_source}")
        if t.timing_source not in ("stopwatch", "camera") or not camera_time_can_be_scored(t.start):
            continue  # a standing start's camera time is shown, never scored (assessment.protocol)
        other = "stopwatch" if t.timing_source == "camera" else "camera"
        if c2.button(f"Score the {other} time", key=f"camera_choose_{draft_id}_{t.number}"):
            try:
                services.choose_scored_time(database(), draft_id, t.number, other, actor=actor())
            except InputError as exc:
                show_error(exc)
                return
            st.rerun()
