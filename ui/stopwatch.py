"""The in-browser stopwatch: a ``st.components.v2`` component.

Timing runs entirely in the browser with ``performance.now()`` between the
Start and Stop taps (``pointerdown``, the earliest event of a touch), so
network delay and server reruns never enter the measured time. On Stop the
component sends one trigger value, ``lap`` = ``{"seconds": s, "id": n}``,
to Python, where the page saves it as a trial at once. "End test…" (a stop
rule, set apart from Stop) sends ``end`` with the time being measured, so the
page can keep that walk after the clinician confirms the reason. The displayed time is
rounded to 0.01 s, like the stored trial.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from . import camera

_HTML = """
<div class="sw">
  <div class="sw-display" aria-live="polite" data-testid="sw-display">0.00 s</div>
  <div class="sw-buttons">
    <button type="button" class="sw-start" data-testid="sw-start">Start</button>
    <button type="button" class="sw-stop" data-testid="sw-stop" disabled>Stop</button>
    <button type="button" class="sw-reset" data-testid="sw-reset">Reset</button>
  </div>
  <div class="sw-note"></div>
  <div class="sw-end-row">
    <button type="button" class="sw-end" data-testid="sw-end">End test…</button>
  </div>
""" + camera.HTML + """
</div>
"""

_CSS = """
.sw { font-family: var(--st-font, sans-serif); padding: 0.5rem 0; }
.sw-display { font-size: 4rem; font-variant-numeric: tabular-nums; font-weight: 700;
  text-align: center; padding: 0.5rem; border-radius: 0.75rem;
  background: var(--st-secondary-background-color, #f0f2f6); color: var(--st-text-color, #111); }
.sw-display.running { color: #b00020; }
.sw-buttons { display: flex; gap: 1rem; margin-top: 1rem; }
.sw-buttons button { flex: 1; min-height: 6rem; font-size: 2rem; font-weight: 700;
  border-radius: 0.75rem; border: 2px solid #555; cursor: pointer; touch-action: manipulation; }
.sw-start { background: #1b7f3b; color: #fff; }
.sw-stop { background: #b00020; color: #fff; }
.sw-reset { flex: 0.5 !important; background: #fff; color: #222; font-size: 1.25rem !important; }
.sw-buttons button:disabled { opacity: 0.35; cursor: not-allowed; }
.sw-note { margin-top: 0.5rem; min-height: 1.5rem; text-align: center; font-size: 1.1rem; }
.sw-end-row { margin-top: 2.5rem; display: flex; justify-content: flex-end; }
.sw-end { min-height: 3rem; min-width: 11rem; font-size: 1.2rem; font-weight: 600; border-radius: 0.75rem;
  border: 2px dashed #555; background: #fff; color: #222; cursor: pointer; touch-action: manipulation; }
""" + camera.CSS

_JS = camera.JS + """
export default function (component) {
  const { parentElement, setTriggerValue, data } = component;
  const root = parentElement.querySelector('.sw');
  if (!root) { return; }
  const display = root.querySelector('.sw-display');
  const start = root.querySelector('.sw-start');
  const stop = root.querySelector('.sw-stop');
  const reset = root.querySelector('.sw-reset');
  const note = root.querySelector('.sw-note');
  const end = root.querySelector('.sw-end');
  // Keep the timer on the DOM node: a rerun re-invokes this function and
  // must not reset a walk that is being timed.
  const s = root.__sw || (root.__sw = { t0: null, raf: null, lap: 0 });
  const cam = stepbackCamera(root, data, setTriggerValue);
  s.enabled = !(data && data.disabled);
  const fmt = (ms) => (Math.round(ms / 10) / 100).toFixed(2) + ' s';
  const tick = () => {
    if (s.t0 === null) return;
    display.textContent = fmt(performance.now() - s.t0);
    s.raf = requestAnimationFrame(tick);
  };
  const paint = () => {
    start.disabled = !s.enabled || s.t0 !== null;
    stop.disabled = s.t0 === null;
    reset.disabled = s.t0 === null;
    display.classList.toggle('running', s.t0 !== null);
    if (!s.enabled && s.t0 === null) note.textContent = (data && data.disabled_note) || '';
  };
  start.onpointerdown = (e) => {
    if (!s.enabled || s.t0 !== null) return;
    s.t0 = e.timeStamp || performance.now();
    cam.go(e);
    note.textContent = 'Timing…';
    paint();
    s.raf = requestAnimationFrame(tick);
  };
  stop.onpointerdown = (e) => {
    if (s.t0 === null) return;
    const ms = (e.timeStamp || performance.now()) - s.t0;
    s.t0 = null;
    if (s.raf) cancelAnimationFrame(s.raf);
    const seconds = Math.round(ms / 10) / 100;
    display.textContent = seconds.toFixed(2) + ' s';
    s.lap += 1;
    note.textContent = 'Saving ' + seconds.toFixed(2) + ' s…';
    paint();
    const id = s.lap + ':' + Math.round(performance.timeOrigin + performance.now());
    const camera = cam.stop(e, id);
    setTriggerValue('lap', { seconds: seconds, id: id, camera: camera });
  };
  // "End test…" (a stop rule) keeps the time being measured: the walk is recorded, not discarded.
  end.onclick = () => {
    let seconds = null;
    if (s.t0 !== null) {
      seconds = Math.round((performance.now() - s.t0) / 10) / 100;
      s.t0 = null;
      if (s.raf) cancelAnimationFrame(s.raf);
      display.textContent = seconds.toFixed(2) + ' s';
    }
    cam.reset();
    s.lap += 1;
    note.textContent = 'Ending the test: confirm below.';
    paint();
    setTriggerValue('end', { seconds: seconds, id: s.lap + ':' + Math.round(performance.timeOrigin + performance.now()) });
  };
  reset.onclick = () => {
    cam.reset();
    s.t0 = null;
    if (s.raf) cancelAnimationFrame(s.raf);
    display.textContent = '0.00 s';
    note.textContent = 'Reset: nothing was recorded.';
    paint();
  };
  if (data && data.saved_note && s.t0 === null) note.textContent = data.saved_note;
  paint();
}
"""

_stopwatch = st.components.v2.component("stepback_stopwatch", html=_HTML, css=_CSS, js=_JS)


def stopwatch(*, key: str, disabled: bool = False, disabled_note: str = "", saved_note: str = "",
              start: str = "standing") -> dict[str, Any] | None:
    """Mount the stopwatch; return the lap just stopped, once, or None.

    Parameters
    ----------
    key : str
        Widget key; use one per draft assessment.
    disabled : bool
        When True the Start button is disabled (e.g. all trials recorded).
    disabled_note, saved_note : str
        Plain text shown under the buttons (set as ``textContent``, never HTML).
    start : str
        The start convention (``standing`` or ``rolling``), for the optional camera timing;
        its result is kept for :func:`ui.camera.save_pending`.

    Returns
    -------
    dict or None
        ``{"seconds": float, "id": str, "end": False, "camera": bool}`` in the rerun that follows a
        Stop tap (``camera``: the camera is timing that walk too; its time follows);
        ``{"seconds": float or None, "id": str, "end": True}`` after "End test…" (the
        time being measured when it was tapped, None when none was running).
    """
    result = _stopwatch(
        key=key,
        data={"disabled": disabled, "disabled_note": disabled_note, "saved_note": saved_note,
              "start": start, "camera_page": camera.CAMERA_PAGE, "camera_model": camera.MODEL},
        on_lap_change=lambda: None,
        on_end_change=lambda: None,
        on_camera_change=lambda: None,
    )
    camera.take(result)
    lap = getattr(result, "lap", None)
    if isinstance(lap, dict) and isinstance(lap.get("seconds"), (int, float)):
        return {"seconds": float(lap["seconds"]), "id": str(lap.get("id")), "end": False, "camera": lap.get("camera") is True}
    end = getattr(result, "end", None)
    if isinstance(end, dict):
        seconds = end.get("seconds")
        return {"seconds": float(seconds) if isinstance(seconds, (int, float)) else None,
                "id": "end-" + str(end.get("id")), "end": True}
    return None
