"""Benchmark: camera timing per pose model size (lite, full, heavy) in headless Chromium.

For each model the camera page (``static/camera``) watches the synthetic walk
(``tools/camera_clips.py``: a figure moved at exactly 1 m/s, 3 m between the tapes, true
time 3.000 s) played as the fake camera, times ``--walks`` rolling-start walks (Start tapped
when the camera's live view shows the figure at the start tape, Stop 3.3 s later, as a
clinician taps) and prints: frames per second the pose model processed, the ratio of that to
the camera's own frame rate measured in the same run on a page without the model (the
baseline: the most frames there are to process), the frames per second each walk was timed
from (the pose worker looks at every kept frame of a walk, about 15 a second, whatever the
model's speed), each walk's timing error (camera time - 3.000 s) or the camera's message
when it could not time the walk, the wait from Stop to the camera's time (what a slower
model costs: the same time, later), and, for the same frames, the error without the
frame-rate rule.

First, per model, the gap table (``--gaps``, :func:`gap_table`): the 3 m time's error against
the gap between the frames either side of a crossing, the figure ``MAX_GAP_S`` in
``static/camera/timing.mjs`` is set from (every frame of the synthetic and of the reversed
real clip through the model offline; the foot track thinned to every k-th frame).

The page is served by a plain local HTTP server from a temporary copy of ``static/camera``
(the heavy model, 30.7 MB, is not shipped: build it with ``tools/build_pose_task.py`` and
pass it as ``--heavy-task FILE``; otherwise it is reported as not measured).
Needs /usr/bin/chromium and ffmpeg. Target: lite with no frame gap at a crossing above
MAX_GAP_S (0.14 s), |error| <= 0.1 s, and its time a few seconds after Stop.

    python bench/camera.py [--walks 2] [--models lite,full,heavy] [--heavy-task FILE] [--gaps yes|no|only]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import camera_clips as clips  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
BASELINE_HTML = """<!doctype html><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; media-src 'self' mediastream: blob:">
<video muted playsinline autoplay></video><script type="module" src="baseline.mjs"></script>"""
BASELINE_JS = """const v = document.querySelector('video'); window.frames_seen = 0;
v.srcObject = await navigator.mediaDevices.getUserMedia({ video: true });
await v.play(); window.t0 = performance.now();
const on = () => { window.frames_seen += 1; v.requestVideoFrameCallback(on); }; v.requestVideoFrameCallback(on);"""
#: The offline pass: every frame of a clip (PNG files) through the pose model, in the page's
#: own crop, at the clip's own timestamps; then the crossing-time error of thinned tracks.
REPLAY_HTML = """<!doctype html><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; img-src 'self' blob:; worker-src 'self' blob:">
<script type="module" src="replay.mjs"></script>"""
REPLAY_JS = """import { FilesetResolver, PoseLandmarker } from './vendor/tasks-vision/vision_bundle.mjs';
import { cropRect, timeWalk } from './timing.mjs';
// Frames ``phase``, ``phase + step``, ... of the clip through a fresh pose model (VIDEO mode).
window.track = async (model, clip, count, fps, lines, w, h, step = 1, phase = 0) => {
  const fileset = await FilesetResolver.forVisionTasks(new URL('vendor/tasks-vision/wasm', location.href).href);
  const lm = await PoseLandmarker.createFromOptions(fileset, { baseOptions: {
    modelAssetPath: new URL(`models/pose_landmarker_${model}.task`, location.href).href, delegate: 'CPU' },
    runningMode: 'VIDEO', numPoses: 3 });
  const crop = cropRect(lines, w, h);
  const canvas = document.createElement('canvas'); canvas.width = crop.w; canvas.height = crop.h;
  const g = canvas.getContext('2d');
  const frames = [];
  for (let k = phase; k < count; k += step) {
    const blob = await (await fetch(`frames/${clip}/${String(k + 1).padStart(4, '0')}.png`)).blob();
    g.drawImage(await createImageBitmap(blob), crop.x, crop.y, crop.w, crop.h, 0, 0, crop.w, crop.h);
    const res = lm.detectForVideo(canvas, (k * 1000) / fps);
    frames.push({ t: k / fps, poses: (res.landmarks || []).map((pose) => pose.map((p) => ({
      x: crop.x + p.x * crop.w, y: crop.y + p.y * crop.h, visibility: p.visibility }))) });
  }
  lm.close();
  window.tracked = frames;
  return frames.length;
};
// For each tape placement (shifted along the floor) and each thinning (every k-th frame,
// each phase): the 3 m time without the frame-rate rule, and the bracketing gaps.
window.thin = (lines, shifts, ks) => {
  const frames = window.tracked;
  const out = [];
  for (const dx of shifts) {
    const l = { start: { ...lines.start, x: lines.start.x + dx }, finish: { ...lines.finish, x: lines.finish.x + dx } };
    const full = timeWalk(frames, { lines: l, mode: 'rolling', maxGapS: Infinity });
    for (const k of ks) {
      for (let phase = 0; phase < k; phase += 1) {
        const r = timeWalk(frames.filter((_, i) => i % k === phase), { lines: l, mode: 'rolling', maxGapS: Infinity });
        out.push({ dx, k, phase, full: full.ok ? full.finishT - full.startT : null,
          seconds: r.ok ? r.finishT - r.startT : null, code: r.code || null });
      }
    }
  }
  return out;
};"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: D102 - no request log on the console
        pass


def _serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _poll(fn, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.03)
    return None


def _lead(page):
    """The leading foot's distance from the start tape (px) in the camera's newest look, if that
    look is fresh (during a walk's catch-up the pose worker looks at the walk's frames first)."""
    live = page.evaluate("() => { const s = window.stepbackCamera; return s && s.live && "
                         "{ ...s.live, age: performance.now() / 1000 - s.live.t }; }")
    return live["lead"] if live and live["count"] == 1 and live["age"] <= 0.5 else None


def _walk(page) -> dict:
    """One rolling-start walk, tapped as a clinician taps: Start once the camera's live view shows
    the figure at the start tape (a reaction time after it crossed), Stop once it has crossed the
    finish (3.3 s later)."""
    before = _poll(lambda: (lambda v: v is not None and v <= -0.3 * clips.PX_PER_M)(_lead(page)), 30)
    if not before:
        return {"ok": False, "message": "the figure was never seen before the start tape"}
    _poll(lambda: (lambda v: v is not None and v >= 0)(_lead(page)), 8)
    page.evaluate("() => window.stepbackCamera.go(performance.timeOrigin + performance.now(), 'rolling')")
    # Stop as a clinician does, when the figure has fully crossed the finish (its 3 m take 3.0 s):
    # not from the camera's live view, which lags during a walk (the worker looks at the walk's
    # frames first).
    time.sleep(clips.TRUE_SECONDS + 0.3)
    t_stop = time.monotonic()
    result = page.evaluate("() => window.stepbackCamera.stop(performance.timeOrigin + performance.now(), 'bench')")
    result["wait_s"] = time.monotonic() - t_stop  # from the Stop tap to the camera's time
    # The same frames without the frame-rate rule: the error that rule guards against.
    result["unguarded"] = page.evaluate("""async () => { const s = window.stepbackCamera; const w = s.lastWalk;
        const m = await import('./timing.mjs');
        const frames = s.frames.filter((f) => f.t >= w.goT - m.ROLLING_LOOKBACK_S && f.t <= w.stopT + m.POST_STOP_S);
        return m.timeWalk(frames, { lines: w.lines, mode: w.mode, goT: w.goT, maxGapS: Infinity }); }""")
    return result


#: The thinnings measured: every k-th frame of the 30 frames/s clip, so frame gaps of k/30 s.
GAP_FRAMES = (1, 2, 3, 4, 5, 6, 7, 8)
#: Tape placements: the clips' tapes moved along the floor by these many pixels (84 px a metre),
#: so the crossings fall at many phases of the walker's steps.
SHIFTS_PX = tuple(range(-48, 49, 4))


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def gap_table(browser, url: str, site: Path, clip_dir: Path, model: str) -> dict[int, dict]:
    """Crossing-time error of the interpolation against the gap between the frames either side.

    Every frame of the synthetic and of the reversed real clip goes through the pose model
    (offline, at the clip's own 30 frames/s timestamps); the foot track is then thinned to
    every k-th frame (each phase) and timed again for each tape placement, without the
    frame-rate rule. The synthetic walk's error is against its truth (3.000 s); the real
    walk's, which has no known truth, against the same placement timed from all 30 frames/s
    (so it is the error the thinning adds). Prints the table and returns it by k.
    """
    lines = {"start": {"x": clips.START[0], "y": clips.START[1]}, "finish": {"x": clips.FINISH[0], "y": clips.FINISH[1]}}
    page = browser.new_page()
    page.goto(url + "/replay.html")
    rows: dict[str, list[dict]] = {}
    fed: dict[tuple[str, int], list[dict]] = {}
    for name in ("synthetic", "reversed"):
        out = site / "frames" / name
        out.mkdir(parents=True, exist_ok=True)
        clips._run(["-i", str(clips.make(name, clip_dir)), str(out / "%04d.png")])
        count = len(list(out.glob("*.png")))
        t0 = time.monotonic()
        page.evaluate("(a) => window.track(...a)", [model, name, count, clips.FPS, lines, clips.WIDTH, clips.HEIGHT])
        rate = count / (time.monotonic() - t0)
        rows[name] = page.evaluate("(a) => window.thin(...a)", [lines, list(SHIFTS_PX), list(GAP_FRAMES)])
        print(f"{model} gap table: {name} clip, {count} frames through the model offline at {rate:.1f} frames/s")
        # The thinned track is a stand-in for a slower camera; check it against the model itself
        # fed only every k-th frame (its tracking from frame to frame then sees the wider gaps).
        for k in GAP_FRAMES[1:]:
            page.evaluate("(a) => window.track(...a)",
                          [model, name, count, clips.FPS, lines, clips.WIDTH, clips.HEIGHT, k, 0])
            fed[(name, k)] = page.evaluate("(a) => window.thin(...a)", [lines, list(SHIFTS_PX), [1]])
    page.close()
    table: dict[int, dict] = {}
    print(f"{model}: 3 m time error against the gap between the frames either side of each crossing "
          f"({len(SHIFTS_PX)} tape placements x every phase; |error| in s; synthetic against the truth "
          f"{clips.TRUE_SECONDS:.3f} s, real walk against its own 30 frames/s time)")
    print("  gap s | synthetic n  max    p95   | real walk n  max    p95   | not timed "
          "| model fed every k-th frame: synthetic n max p95 | real n max p95")
    full_real = {r["dx"]: r["full"] for r in rows["reversed"] if r["k"] == 1}

    def fmt(v: list[float]) -> str:
        return f"{len(v):4d} {max(v):.3f}  {_p95(v):.3f}" if v else "   0   n/a    n/a "

    for k in GAP_FRAMES:
        synth = [abs(r["seconds"] - clips.TRUE_SECONDS) for r in rows["synthetic"] if r["k"] == k and r["seconds"] is not None]
        real = [abs(r["seconds"] - r["full"]) for r in rows["reversed"]
                if r["k"] == k and r["seconds"] is not None and r["full"] is not None]
        missed = sum(1 for name in rows for r in rows[name] if r["k"] == k and r["seconds"] is None
                     and (name == "synthetic" or r["full"] is not None))
        fed_synth = [abs(r["seconds"] - clips.TRUE_SECONDS) for r in fed.get(("synthetic", k), ())
                     if r["seconds"] is not None]
        fed_real = [abs(r["seconds"] - full_real[r["dx"]]) for r in fed.get(("reversed", k), ())
                    if r["seconds"] is not None and full_real.get(r["dx"]) is not None]
        table[k] = {"gap_s": k / clips.FPS, "synthetic": synth, "real": real, "not_timed": missed,
                    "fed_synthetic": fed_synth, "fed_real": fed_real}
        fed_cols = f" |     {fmt(fed_synth)}  |     {fmt(fed_real)}" if k > 1 else ""
        print(f"  {k / clips.FPS:.3f} |     {fmt(synth)}  |     {fmt(real)}  | {missed:9d}{fed_cols}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walks", type=int, default=2)
    parser.add_argument("--models", default="lite,full,heavy")
    parser.add_argument("--heavy-task", type=Path, default=None)
    parser.add_argument("--gaps", choices=("yes", "no", "only"), default="yes",
                        help="the gap-vs-error table (offline, per model): with the live walks, skip it, or only it")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists() or clips.ffmpeg() is None:
        raise SystemExit("bench/camera.py needs /usr/bin/chromium and ffmpeg")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        clip = clips.make("synthetic", tmp / "clips")
        site = tmp / "site"
        shutil.copytree(ROOT / "static" / "camera", site)
        (site / "baseline.html").write_text(BASELINE_HTML)
        (site / "baseline.mjs").write_text(BASELINE_JS)
        (site / "replay.html").write_text(REPLAY_HTML)
        (site / "replay.mjs").write_text(REPLAY_JS)
        models = [m for m in args.models.split(",") if m]
        if args.heavy_task is not None:
            shutil.copy(args.heavy_task, site / "models" / "pose_landmarker_heavy.task")
        server, url = _serve(site)
        lines = json.dumps(json.dumps(clips.lines_fraction()))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-video-capture={clip}"])
                if args.gaps != "only":
                    page = browser.new_page()
                    page.goto(url + "/baseline.html")
                    time.sleep(4)
                    n, ms = page.evaluate("() => [window.frames_seen, performance.now() - window.t0]")
                    camera_fps = n / (ms / 1000)
                    page.close()
                    print(f"baseline: the camera delivers {camera_fps:.1f} frames/s (no pose model)")
                for model in models:
                    if not (site / "models" / f"pose_landmarker_{model}.task").exists():
                        print(f"{model}: not measured (no bundle: see --heavy-task)")
                        continue
                    if args.gaps != "no":
                        gap_table(browser, url, site, tmp / "clips", model)
                    if args.gaps == "only":
                        continue
                    page = browser.new_page()
                    page.add_init_script(f"localStorage.setItem('stepback.camera.lines.v1', {lines});")
                    page.goto(f"{url}/camera.html?model={model}")
                    ready = _poll(lambda: page.evaluate(
                        "() => window.stepbackCamera && (window.stepbackCamera.ready || window.stepbackCamera.error)"), 120)
                    if not ready or page.evaluate("() => window.stepbackCamera.error"):
                        print(f"{model}: the page did not start")
                        page.close()
                        continue
                    p0, t0 = page.evaluate("() => window.stepbackCamera.processed"), time.monotonic()
                    results = [_walk(page) for _ in range(args.walks)]
                    fps = (page.evaluate("() => window.stepbackCamera.processed") - p0) / (time.monotonic() - t0)
                    errors = [r["seconds"] - clips.TRUE_SECONDS for r in results if r.get("ok")]
                    notes = [r.get("message") for r in results if not r.get("ok")]
                    loose = [round(r["unguarded"]["seconds"] - clips.TRUE_SECONDS, 3) for r in results
                             if r["unguarded"].get("ok")]
                    worst = f"{max(abs(e) for e in errors):.3f} s" if errors else "n/a"
                    mean = f"{statistics.fmean(errors):+.3f} s" if errors else "n/a"
                    timed_fps = [r.get("fps") for r in results if r.get("fps")]
                    waits = [round(r["wait_s"], 1) for r in results if "wait_s" in r]
                    print(f"{model}: the pose model ran {fps:.1f} frames/s (ratio to the camera's {camera_fps:.1f}: "
                          f"{fps / camera_fps:.2f}); frames timed per walk {timed_fps} a second; "
                          f"timing error per walk {[round(e, 3) for e in errors]} (mean {mean}, worst {worst}); "
                          f"from Stop to the camera's time {waits} s"
                          + (f"; not timed: {notes}" if notes else "")
                          + f"; error without the frame-rate rule {loose}")
                    page.close()
                browser.close()
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
