// StepBack camera timing page (runs in an iframe beside the stopwatch, or alone for tests
// and bench/camera.py). The camera image never leaves this tablet: each kept frame is copied
// (the walkway crop only) to the pose worker (pose-worker.js) in this browser, which holds it
// until a pose model has looked at it and sends back foot-landmark coordinates and times only,
// from which the walk is timed (static/camera/timing.mjs). This page only shows the picture,
// takes the tape taps, and passes on Start and Stop: it stays free to copy every frame while
// the models run.
import {
  geometry, inWalkway, footPoints, track, cropRect, POST_STOP_S, MESSAGES,
} from './timing.mjs';

// Frames kept for timing: one at least this long after the last kept one (every 2nd frame of a
// 30 frames/s camera; bench/camera.py's gap table gives the error at each gap).
const KEEP_GAP_S = 0.06;
const MAX_KEPT_W = 640;   // kept frames are scaled down to this width (pixels) at most
const LINES_KEY = 'stepback.camera.lines.v1';
const MODELS = ['lite', 'full', 'heavy'];

const params = new URLSearchParams(location.search);
const model = MODELS.includes(params.get('model')) ? params.get('model') : 'lite';
// People the pose model looks for in each frame (the patient, a guard, a bystander).
const numPoses = Math.min(3, Math.max(1, parseInt(params.get('poses') || '3', 10) || 3));

const root = document.querySelector('.cam');
const video = root.querySelector('.cam-video');
const overlay = root.querySelector('.cam-overlay');
const statusEl = root.querySelector('.cam-status');
const resultEl = root.querySelector('.cam-result');
const setStart = root.querySelector('.cam-set-start');
const setFinish = root.querySelector('.cam-set-finish');

const state = {
  model, ready: false, error: null, processed: 0, kept: 0, dropped: 0,
  // the last timed walk's pose frames (coordinates and times only)
  frames: [],
  tapping: null, lines: loadLines(), walk: null, results: [], captureClock: null,
  backlog: 0, // kept frames of a walk the pose worker has still to look at
};
window.stepbackCamera = state; // read by the tests and the benchmark (coordinates and times only)

function loadLines() {
  try {
    const v = JSON.parse(localStorage.getItem(LINES_KEY) || 'null');
    if (v && v.start && v.finish) return v;
  } catch (e) { /* unreadable: tap again */ }
  return { start: null, finish: null };
}

/** The tapped tapes (stored as fractions of the image) in video pixels. */
function pixelLines() {
  const { start, finish } = state.lines;
  if (!start || !finish || !video.videoWidth) return null;
  const w = video.videoWidth;
  const h = video.videoHeight;
  return { start: { x: start.x * w, y: start.y * h }, finish: { x: finish.x * w, y: finish.y * h } };
}

function setLine(which, fx, fy) {
  state.lines = { ...state.lines, [which]: { x: fx, y: fy } };
  localStorage.setItem(LINES_KEY, JSON.stringify(state.lines));
}

function tapMode(which) {
  state.tapping = state.tapping === which ? null : which;
  setStart.classList.toggle('active', state.tapping === 'start');
  setFinish.classList.toggle('active', state.tapping === 'finish');
  if (state.tapping) statusEl.textContent = `Tap the ${state.tapping} tape on the floor in the image.`;
}
setStart.onclick = () => tapMode('start');
setFinish.onclick = () => tapMode('finish');
overlay.addEventListener('pointerdown', (e) => {
  if (!state.tapping) return;
  const r = overlay.getBoundingClientRect();
  setLine(state.tapping, (e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
  statusEl.textContent = `${state.tapping === 'start' ? 'Start' : 'Finish'} tape saved on this tablet.`;
  tapMode(state.tapping);
});

function draw(poses) {
  const w = video.videoWidth;
  const h = video.videoHeight;
  if (!w) return;
  if (overlay.width !== w) { overlay.width = w; overlay.height = h; }
  const g = overlay.getContext('2d');
  g.clearRect(0, 0, w, h);
  const lines = pixelLines();
  const geo = lines && geometry(lines);
  for (const [which, colour] of [['start', '#1b7f3b'], ['finish', '#b00020']]) {
    const p = state.lines[which];
    if (!p) continue;
    g.strokeStyle = colour; g.lineWidth = Math.max(2, w / 320);
    g.beginPath(); g.moveTo(p.x * w, 0); g.lineTo(p.x * w, h); g.stroke();
    g.beginPath(); g.arc(p.x * w, p.y * h, w / 80, 0, 2 * Math.PI); g.stroke();
  }
  for (const pose of poses) {
    const mine = geo && inWalkway(geo, pose);
    g.fillStyle = mine ? '#ffd400' : 'rgba(200,200,200,0.7)';
    for (const f of footPoints(pose)) { g.beginPath(); g.arc(f.x, f.y, w / 150, 0, 2 * Math.PI); g.fill(); }
  }
}

/** Who is in the walkway in the newest frame the models have seen (shown; read by the tests). */
function live(t, poses) {
  if (state.live && state.live.t >= t) return;
  draw(poses);
  const lines = pixelLines();
  const geo = lines && geometry(lines);
  if (!geo) { state.live = null; return; }
  const [now] = track(geo, [{ t, poses }]);
  state.live = { t, count: now.count, lead: now.lead, feetY: now.feet.length ? Math.max(...now.feet.map((p) => p.y)) : null };
  if (!state.tapping && !state.walk && !waiting.size) {
    statusEl.textContent = now.count === 1 ? 'Patient in the walkway.' : now.count > 1 ? 'More than one person in the walkway.' : 'Nobody in the walkway.';
  }
}

function post(msg) {
  if (window.parent !== window) window.parent.postMessage({ stepback: 'camera', ...msg }, location.origin);
}

// ------------------------------------------------------------------ the pose worker
let worker = null;
const waiting = new Map(); // lapId -> resolve, for stop()'s promise

function tell(msg) {
  if (worker) worker.postMessage({ now: performance.now() / 1000, ...msg });
}

let modelReady = false;
let videoReady = false;

/** Ready once the pose models are loaded and the camera plays. */
function whenReady() {
  if (!modelReady || !videoReady || state.ready || state.error) return;
  state.ready = true;
  statusEl.textContent = pixelLines() ? 'Camera ready.' : 'Camera ready: tap the start and the finish tape once for this room.';
}

function onWorker(e) {
  const m = e.data;
  if (m.type === 'ready') {
    modelReady = true;
    whenReady();
  } else if (m.type === 'error') {
    state.error = m.error;
    statusEl.textContent = `The camera could not start: ${state.error}`;
  } else if (m.type === 'pose') {
    state.processed = m.processed;
    state.backlog = m.backlog;
    live(m.t, m.poses);
  } else if (m.type === 'waiting') {
    resultEl.textContent = `Camera timing… (${m.left} frames still to look at)`;
  } else if (m.type === 'result') {
    state.frames = m.frames;
    state.lastWalk = m.walk;
    report(m.out);
    const resolve = waiting.get(m.out.lapId);
    waiting.delete(m.out.lapId);
    if (resolve) resolve(m.out);
  }
}

/** A walk's camera result: kept (read by the tests), shown, and sent to the stopwatch. */
function report(out) {
  state.results.push(out);
  resultEl.textContent = out.ok ? `Camera: ${out.seconds.toFixed(2)} s (${out.fps} frames/s)` : out.message;
  post({ type: 'result', ...out });
}

let lastKept = -Infinity;

/** Copy the walkway crop of the frame now shown (capture time ``t``, seconds) to the worker. */
function keepFrame(t) {
  if (t - lastKept < KEEP_GAP_S || !worker) return;
  lastKept = t;
  const lines = pixelLines();
  const crop = cropRect(lines, video.videoWidth, video.videoHeight);
  state.kept += 1;
  // At most MAX_KEPT_W pixels wide: the pose model looks at 256 x 256 anyway, and a walk's
  // frames wait in memory while a slow tablet catches up.
  const scale = Math.min(1, MAX_KEPT_W / crop.w);
  const size = scale < 1 ? { resizeWidth: Math.round(crop.w * scale), resizeHeight: Math.round(crop.h * scale), resizeQuality: 'medium' } : {};
  createImageBitmap(video, crop.x, crop.y, crop.w, crop.h, size).then(
    (bitmap) => {
      state.keptSize = [bitmap.width, bitmap.height]; // read by the tests
      state.videoSize = [video.videoWidth, video.videoHeight];
      worker.postMessage({ type: 'frame', now: performance.now() / 1000, t, crop, lines, bitmap }, [bitmap]);
    },
    () => { state.dropped += 1; });
}

/** Start timing: ``atMs`` is the Start tap as epoch milliseconds (performance.timeOrigin + timeStamp). */
function go(atMs, mode) {
  state.walk = { goT: (atMs - performance.timeOrigin) / 1000, mode: mode === 'standing' ? 'standing' : 'rolling' };
  resultEl.textContent = 'Camera timing…';
  tell({ type: 'go', ...state.walk });
}

/** Stop: resolves with the camera time once the pose worker has seen the walk's frames up to POST_STOP_S after Stop. */
function stop(atMs, lapId) {
  const walk = state.walk;
  state.walk = null;
  if (!walk) return Promise.resolve(null);
  const stopT = (atMs - performance.timeOrigin) / 1000;
  if (!state.ready) { // the camera or the pose model never started: say so now, not never
    const out = { lapId, mode: walk.mode, ok: false, code: 'no-camera', message: MESSAGES['no-camera'] };
    report(out);
    return Promise.resolve(out);
  }
  return new Promise((resolve) => {
    waiting.set(lapId, resolve);
    tell({ type: 'stop', stopT, lapId });
    setTimeout(() => tell({ type: 'tick' }), (POST_STOP_S + 0.6) * 1000);
  });
}

function reset() {
  state.walk = null;
  resultEl.textContent = '';
  tell({ type: 'reset' });
}
state.go = go;
state.stop = stop;
state.reset = reset;

window.addEventListener('message', (e) => {
  if (e.source !== window.parent || e.origin !== location.origin || !e.data || e.data.stepback !== 'camera') return;
  if (e.data.type === 'go') go(e.data.at, e.data.mode);
  else if (e.data.type === 'stop') stop(e.data.at, e.data.lapId);
  else if (e.data.type === 'reset') reset();
});

async function main() {
  try {
    // A classic worker started from a blob: URL runs under this page's Content-Security-Policy
    // (a worker loaded from its own URL would not: Streamlit sends no CSP header); classic,
    // because the pose library loads its WebAssembly with importScripts.
    const base = new URL('./', location.href).href;
    const boot = `importScripts(${JSON.stringify(new URL('pose-worker.js', base).href)});`;
    worker = new Worker(URL.createObjectURL(new Blob([boot], { type: 'text/javascript' })));
    worker.onmessage = onWorker;
    worker.onerror = (e) => { state.error = String(e.message || 'the pose worker failed'); statusEl.textContent = `The camera could not start: ${state.error}`; };
    worker.postMessage({ type: 'init', base, model, numPoses });
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    await video.play();
    videoReady = true;
    whenReady();
  } catch (err) {
    state.error = String(err && err.message ? err.message : err);
    statusEl.textContent = `The camera could not start: ${state.error}`;
    return;
  }
  let last = -1;
  const onFrame = (now, meta) => {
    // The frame's own timestamp (capture time when the browser gives one), same clock as performance.now().
    const stamp = Number.isFinite(meta.captureTime) ? meta.captureTime : meta.expectedDisplayTime;
    state.captureClock = Number.isFinite(meta.captureTime) ? 'captureTime' : 'expectedDisplayTime';
    if (stamp > last) {
      // the longest wait between two frames this page saw (a main thread held up misses frames)
      if (last > 0) state.longestGapS = Math.max(state.longestGapS || 0, (stamp - last) / 1000);
      last = stamp;
      keepFrame(stamp / 1000);
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

main();
