// StepBack camera timing page (runs in an iframe beside the stopwatch, or alone for tests
// and bench/camera.py). The camera image never leaves this page: each frame goes to the
// pose model in this browser, and only foot-landmark coordinates are kept, for the last
// BUFFER_S seconds, to time the walk (static/camera/timing.mjs).
import { FilesetResolver, PoseLandmarker } from './vendor/tasks-vision/vision_bundle.mjs';
import {
  timeWalk, geometry, inWalkway, footPoints, track, cropRect, MESSAGES,
} from './timing.mjs';

const BUFFER_S = 20;      // pose frames kept (coordinates only), seconds
const PRE_GO_S = 0.6;     // frames before "go" used for a standing start's rest position
const POST_STOP_S = 1.0;  // frames after the Stop tap still used (a Stop tapped a little early)
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
  model, ready: false, error: null, frames: [], processed: 0, detectMs: 0,
  tapping: null, lines: loadLines(), walk: null, results: [], tracked: [], captureClock: null,
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

/** Who is in the walkway now (shown to the clinician; read by the tests). */
function live(t, poses) {
  const lines = pixelLines();
  const geo = lines && geometry(lines);
  if (!geo) { state.live = null; return; }
  const [now] = track(geo, [{ t, poses }]);
  state.live = { t, count: now.count, lead: now.lead, feetY: now.feet.length ? Math.max(...now.feet.map((p) => p.y)) : null };
  if (!state.tapping && !state.walk) {
    statusEl.textContent = now.count === 1 ? 'Patient in the walkway.' : now.count > 1 ? 'More than one person in the walkway.' : 'Nobody in the walkway.';
  }
}

const cropCanvas = document.createElement('canvas');

function post(msg) {
  if (window.parent !== window) window.parent.postMessage({ stepback: 'camera', ...msg }, location.origin);
}

/** Start timing: ``atMs`` is the Start tap as epoch milliseconds (performance.timeOrigin + timeStamp). */
function go(atMs, mode) {
  state.walk = { goT: (atMs - performance.timeOrigin) / 1000, mode: mode === 'standing' ? 'standing' : 'rolling' };
  resultEl.textContent = 'Camera timing…';
}

/** Stop: compute the camera time POST_STOP_S after the Stop tap, then report it. */
function stop(atMs, lapId) {
  const walk = state.walk;
  state.walk = null;
  if (!walk) return Promise.resolve(null);
  const stopT = (atMs - performance.timeOrigin) / 1000;
  state.lastWalk = { ...walk, stopT, lines: null };
  return new Promise((resolve) => {
    setTimeout(() => {
      const lines = pixelLines();
      state.lastWalk.lines = lines;
      const frames = state.frames.filter((f) => f.t >= walk.goT - PRE_GO_S && f.t <= stopT + POST_STOP_S);
      const result = lines ? timeWalk(frames, { lines, mode: walk.mode, goT: walk.goT }) : { ok: false, code: 'no-lines', message: MESSAGES['no-lines'] };
      const out = { lapId, mode: walk.mode, ...result };
      state.results.push(out);
      resultEl.textContent = out.ok ? `Camera: ${out.seconds.toFixed(2)} s (${out.fps} frames/s)` : out.message;
      post({ type: 'result', ...out });
      resolve(out);
    }, POST_STOP_S * 1000);
  });
}

function reset() {
  state.walk = null;
  resultEl.textContent = '';
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
  let landmarker;
  try {
    const fileset = await FilesetResolver.forVisionTasks(new URL('vendor/tasks-vision/wasm', location.href).href);
    landmarker = await PoseLandmarker.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: new URL(`models/pose_landmarker_${model}.task`, location.href).href, delegate: 'CPU' },
      runningMode: 'VIDEO',
      numPoses,
    });
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    await video.play();
  } catch (err) {
    state.error = String(err && err.message ? err.message : err);
    statusEl.textContent = `The camera could not start: ${state.error}`;
    return;
  }
  state.ready = true;
  statusEl.textContent = pixelLines() ? 'Camera ready.' : 'Camera ready: tap the start and the finish tape once for this room.';
  let last = -1;
  const onFrame = (now, meta) => {
    // The frame's own timestamp (capture time when the browser gives one), same clock as performance.now().
    const stamp = Number.isFinite(meta.captureTime) ? meta.captureTime : meta.expectedDisplayTime;
    state.captureClock = Number.isFinite(meta.captureTime) ? 'captureTime' : 'expectedDisplayTime';
    if (stamp > last) {
      last = stamp;
      const t0 = performance.now();
      const crop = cropRect(pixelLines(), video.videoWidth, video.videoHeight);
      if (cropCanvas.width !== crop.w || cropCanvas.height !== crop.h) { cropCanvas.width = crop.w; cropCanvas.height = crop.h; }
      cropCanvas.getContext('2d').drawImage(video, crop.x, crop.y, crop.w, crop.h, 0, 0, crop.w, crop.h);
      const res = landmarker.detectForVideo(cropCanvas, t0);
      state.detectMs += performance.now() - t0;
      state.processed += 1;
      const poses = (res.landmarks || []).map((lm) => lm.map((p) => ({
        x: crop.x + p.x * crop.w, y: crop.y + p.y * crop.h, visibility: p.visibility })));
      const t = stamp / 1000;
      state.frames.push({ t, poses });
      while (state.frames.length && state.frames[0].t < t - BUFFER_S) state.frames.shift();
      draw(poses);
      live(t, poses);
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

main();
