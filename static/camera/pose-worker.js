// StepBack camera timing: the pose models, off the page's main thread (a classic worker, started
// from a blob: URL by camera.mjs so that it runs under the camera page's Content-Security-Policy).
// The page sends each kept camera frame as an ImageBitmap of the walkway crop, with its capture
// time; this worker holds them only until a pose model has looked at them, and sends back foot
// coordinates and times only. No pixel leaves the tablet; no frame is stored.
//
// Two pose models (the same file) run here:
//   * the timing one looks at EVERY kept frame of each walk, in capture order, from LOOKBACK_S
//     before the Start tap to POST_STOP_S after Stop, so the gaps at the crossings are set by
//     the camera, not by how fast this tablet runs the model: a busy tablet gives the same time,
//     later. A walk's time is sent once that model has caught up with the walk's last frame.
//   * the live one looks at the newest frame whenever no walk frame waits, for the picture's
//     markers and the "patient in the walkway" status.
/* global importScripts */
'use strict';

let T = null;            // timing.mjs
let timingLm = null;
let liveLm = null;
let LOOKBACK_S = 1.1;
let RETAIN_S = 1.6;
let POST_STOP_S = 0.8;    // timing.mjs's (set at init)
const MAX_BACKLOG = 300;  // kept frames waiting (20 s; at most 640 px wide, about 1 MB each): beyond, the oldest go

const kept = [];          // {t, crop, bitmap, timed, seen}, in capture order
let lines = null;         // the tapes in video pixels
let walk = null;          // the open walk: {goT, mode}
const pendingWalks = [];  // stopped, not yet timed: {walk, stopT, lapId}
let frames = [];          // pose frames from the timing model (coordinates and times only)
let timingUpTo = -Infinity;
let liveUpTo = -Infinity;
let nowT = -Infinity;     // the page's clock, seconds (sent with every frame and tick)
let processed = 0;
let dropped = 0;
let pumping = false;

function send(msg) { self.postMessage(msg); }

/** Whether the frame at ``t`` belongs to the stopped walk ``p`` (LOOKBACK_S before go to POST_STOP_S after Stop). */
function inWalk(p, t) {
  return t >= p.walk.goT - LOOKBACK_S && t <= p.stopT + POST_STOP_S;
}

function wanted(t) {
  if (walk && t >= walk.goT - LOOKBACK_S) return true;
  return pendingWalks.some((p) => inWalk(p, t));
}

function release(f) {
  if (f.bitmap) f.bitmap.close();
  f.bitmap = null;
}

/** Drop frames no one will look at: timed, or older than RETAIN_S with no walk wanting them. */
function trim() {
  const newest = kept.length ? kept[kept.length - 1].t : 0;
  while (kept.length && (kept[0].timed || (!wanted(kept[0].t) && kept[0].t < newest - RETAIN_S))) release(kept.shift());
  while (kept.length > MAX_BACKLOG) { release(kept.shift()); dropped += 1; }
}

function poses(f, res) {
  return (res.landmarks || []).map((lm) => lm.map((p) => ({
    x: f.crop.x + p.x * f.crop.w, y: f.crop.y + p.y * f.crop.h, visibility: p.visibility })));
}

/** Look at one frame: the oldest one a walk wants (timing model), else the newest (live model). */
function step() {
  const next = kept.find((f) => !f.timed && f.t > timingUpTo && wanted(f.t));
  if (next) {
    const res = timingLm.detectForVideo(next.bitmap, next.t * 1000);
    processed += 1;
    next.timed = true;
    timingUpTo = next.t;
    const p = poses(next, res);
    frames.push({ t: next.t, poses: p });
    send({ type: 'pose', t: next.t, poses: p, processed, backlog: kept.filter((f) => !f.timed && wanted(f.t)).length });
    return true;
  }
  const newest = kept[kept.length - 1];
  if (newest && !newest.seen && !newest.timed && newest.t > liveUpTo) {
    const res = liveLm.detectForVideo(newest.bitmap, newest.t * 1000);
    processed += 1;
    newest.seen = true;
    liveUpTo = newest.t;
    send({ type: 'pose', t: newest.t, poses: poses(newest, res), processed, backlog: 0 });
    return true;
  }
  return false;
}

/** Time every stopped walk whose frames the timing model has all seen. */
function finishWalks() {
  while (pendingWalks.length) {
    const p = pendingWalks[0];
    const end = p.stopT + POST_STOP_S;
    const left = kept.filter((f) => !f.timed && inWalk(p, f.t)).length;
    const newest = kept.length ? kept[kept.length - 1].t : -Infinity;
    // (a camera that stops sending frames does not hold the result back)
    if (left > 0 || (Math.max(newest, timingUpTo) < end && nowT < end + 0.5)) {
      send({ type: 'waiting', lapId: p.lapId, left });
      return;
    }
    pendingWalks.shift();
    const used = frames.filter((f) => inWalk(p, f.t));
    const result = lines ? T.timeWalk(used, { lines, mode: p.walk.mode, goT: p.walk.goT })
      : { ok: false, code: 'no-lines', message: T.MESSAGES['no-lines'] };
    send({ type: 'result', out: { lapId: p.lapId, mode: p.walk.mode, dropped, ...result },
      walk: { ...p.walk, stopT: p.stopT, lines }, frames: used });
    frames = frames.filter((f) => f.t >= timingUpTo - 60); // (pose frames of the last minute only)
  }
}

function pump() {
  pumping = true;
  const did = step();
  trim();
  finishWalks();
  if (did) setTimeout(pump, 0);
  else pumping = false;
}

function wake() {
  if (!pumping && timingLm) { pumping = true; setTimeout(pump, 0); }
}

async function init(msg) {
  try {
    T = await import(msg.base + 'timing.mjs');
    const { FilesetResolver, PoseLandmarker } = await import(msg.base + 'vendor/tasks-vision/vision_bundle.mjs');
    LOOKBACK_S = Math.max(T.ROLLING_LOOKBACK_S, T.REST_S) + 0.1;
    RETAIN_S = LOOKBACK_S + 0.5;
    POST_STOP_S = T.POST_STOP_S;
    const fileset = await FilesetResolver.forVisionTasks(msg.base + 'vendor/tasks-vision/wasm');
    const options = {
      baseOptions: { modelAssetPath: `${msg.base}models/pose_landmarker_${msg.model}.task`, delegate: 'CPU' },
      runningMode: 'VIDEO',
      numPoses: msg.numPoses,
    };
    const timing = await PoseLandmarker.createFromOptions(fileset, options);
    liveLm = await PoseLandmarker.createFromOptions(fileset, options);
    timingLm = timing; // (both exist before any frame is looked at)
    send({ type: 'ready' });
  } catch (err) {
    send({ type: 'error', error: String(err && err.message ? err.message : err) });
  }
}

self.onmessage = (e) => {
  const m = e.data;
  if (m.now !== undefined) nowT = m.now;
  if (m.type === 'init') init(m);
  else if (m.type === 'frame') {
    lines = m.lines;
    kept.push({ t: m.t, crop: m.crop, bitmap: m.bitmap, timed: false, seen: false });
    trim();
    wake();
  } else if (m.type === 'lines') lines = m.lines;
  else if (m.type === 'go') { walk = { goT: m.goT, mode: m.mode }; wake(); }
  else if (m.type === 'stop') {
    if (walk) pendingWalks.push({ walk, stopT: m.stopT, lapId: m.lapId });
    walk = null;
    wake();
  } else if (m.type === 'reset') { walk = null; }
  else if (m.type === 'tick') wake();
};
