// StepBack camera timing: pure functions, no DOM, no network (tested with node --test).
//
// Input: the pose frames seen between "go" and shortly after Stop, each
//   { t: seconds (the frame's own capture timestamp), poses: [[{x, y, visibility}, ...33 landmarks]] }
// in PIXELS of the video frame, and the two tape lines the clinician tapped on the
// floor in the same image: { start: {x, y}, finish: {x, y} } (pixels).
//
// The crossing rule (also in README.md "Camera timing"):
//   * The walkway runs from the start tape to the finish tape; 3 m apart
//     (source: clinical-evidence.md §1, the 3-meter backward walk). Its scale
//     (pixels per metre) is the tapes' horizontal distance / 3.
//   * The patient is the one person whose feet (lowest foot landmark) are on the
//     floor line through the two tapes (within WALKWAY_BAND_M) and between
//     1.5 m before the start tape and 1 m past the finish tape. A person standing
//     beside the walkway (nearer to or farther from the camera) has feet above or
//     below that line and is ignored. A frame with more than one person in the
//     walkway is not used; if it is one of the frames around a crossing, the walk
//     is not timed ("more than one person in the walkway").
//   * Two poses in the walkway whose feet are within SAME_PERSON_M of each other (mean foot
//     position, along and across) are one person found twice by the model, not two people.
//   * The leading foot point is the foot landmark (ankle, heel or toe, either
//     foot, visibility >= MIN_VISIBILITY) furthest in the direction of travel
//     (start tape towards finish tape).
//   * A line is crossed at the first moment the leading foot point reaches the
//     tape's x, linearly interpolated between the timestamps of the last frame
//     before and the first frame at or past the line.
//   * Rolling start: time = finish crossing - start crossing; the start crossing is the
//     first move from short of the start tape to at or past it from ROLLING_LOOKBACK_S
//     before the Start tap ("go": a clinician taps as the patient crosses, a reaction
//     time late) on.
//     Standing start: time = finish crossing - first movement of the feet after
//     "go"; the movement counts once the leading foot point is CONFIRM_M along the
//     walkway from where it stood (median of the REST_S before "go") in two frames
//     running, and is timed from the last moment before that when the point was within
//     MOVE_THRESHOLD_M of where it stood (interpolated between frames in the same way).
//   * The two frames either side of each event must be at most MAX_GAP_S apart
//     (4 frames of a 30 frames/s camera, 0.133 s), else the walk is not timed ("frame
//     rate too low to time to 0.1 s").

export const WALK_M = 3.0;
export const WALKWAY_BAND_M = 0.35;
export const BEFORE_START_M = 1.5;
export const AFTER_FINISH_M = 1.0;
export const MIN_VISIBILITY = 0.5;
export const MOVE_THRESHOLD_M = 0.05;
// A standing start's movement counts once the leading foot point is this far from rest in two
// frames running (then timed from when it left MOVE_THRESHOLD_M of rest; see firstMovement).
export const CONFIRM_M = 0.15;
// The standing patient's rest position: the frames in this long up to "go".
export const REST_S = 0.5;
// A rolling start's crossing of the start tape may come up to this long before the Start tap
// (the clinician taps as the patient crosses, a reaction time later).
export const ROLLING_LOOKBACK_S = 1.0;
// Frames up to this long after the Stop tap still belong to the walk (a Stop tapped a little early).
export const POST_STOP_S = 0.8;
// The widest gap between the frames either side of a crossing that still times to 0.1 s.
// Measured by bench/camera.py's gap table (lite model; every frame of the test clips through
// the model, the foot track thinned to every k-th frame at every phase, 25 tape placements),
// |error| of the 3 m time, max / 95th percentile, seconds:
//   gap 0.067 s: synthetic walk vs its truth 0.033 / 0.026; real walk vs its own 30 frames/s time 0.087 / 0.086
//   gap 0.100 s: 0.038 / 0.030; 0.209 / 0.094
//   gap 0.133 s: 0.036 / 0.030; 0.206 / 0.092
//   gap 0.167 s: 0.040 / 0.028; 0.172 / 0.115
//   gap 0.200 s: 0.050 / 0.032; 0.204 / 0.148
// (The model fed only every k-th frame, so that its own tracking sees the wider gaps, gives the
// same picture: real walk max 0.112 s at 0.100 s, 0.050 s at 0.133 s, 0.138 s at 0.167 s.)
// The interpolation itself (synthetic: a rigid figure at a set speed) stays within 0.05 s up
// to 0.2 s; on the real walk the pose model's frame-to-frame jitter of the feet dominates,
// and its error does not grow up to 4 frames at 30 frames/s (0.133 s) but does beyond. So
// 0.133 s, plus 7 ms for the jitter of the frames' timestamps.
export const MAX_GAP_S = 0.14;
export const SAME_PERSON_M = 0.3;
// The crop given to the pose model reaches this high above the floor line.
export const HEIGHT_ROOM_M = 2.2;
// BlazePose landmark indices: ankles 27/28, heels 29/30, toes (foot index) 31/32.
export const FOOT_LANDMARKS = [27, 28, 29, 30, 31, 32];

export const MESSAGES = {
  'no-lines': 'Tap the start and the finish tape on the camera image first.',
  'no-person': 'Camera: no person found in the walkway.',
  'more-than-one': 'Camera: more than one person in the walkway; the camera cannot tell who the patient is.',
  'not-crossed-start': 'Camera: the start line was not crossed.',
  'not-crossed-finish': 'Camera: the finish line was not crossed.',
  'no-movement': 'Camera: no movement of the feet was seen after Start.',
  'moving-at-go': 'Camera: the feet were already moving at Start (a standing start begins standing still).',
  'low-fps': 'Camera: the frame rate is too low to time to 0.1 s.',
  'no-camera': 'Camera: the camera was not running.',
};

/**
 * The walkway geometry from the two tapped tape points (pixels).
 * @returns {{dir:number, pxPerM:number, start:{x:number,y:number}, finish:{x:number,y:number}}|null}
 */
export function geometry(lines) {
  if (!lines || !lines.start || !lines.finish) return null;
  const dx = lines.finish.x - lines.start.x;
  if (!Number.isFinite(dx) || Math.abs(dx) < 1) return null;
  return { dir: Math.sign(dx), pxPerM: Math.abs(dx) / WALK_M, start: lines.start, finish: lines.finish };
}

/**
 * The part of a ``w`` x ``h`` image the pose model looks at: the walkway (from 0.3 m before
 * the patient can be counted to 0.3 m after) and HEIGHT_ROOM_M above it, so people far from
 * the walkway cost no time; the whole image before the tapes are set (``lines`` null).
 * @returns {{x:number, y:number, w:number, h:number}} pixels
 */
export function cropRect(lines, w, h) {
  const geo = lines && geometry(lines);
  if (!geo) return { x: 0, y: 0, w, h };
  const m = geo.pxPerM;
  const xs = [lines.start.x - geo.dir * (BEFORE_START_M + 0.3) * m, lines.finish.x + geo.dir * (AFTER_FINISH_M + 0.3) * m];
  const floorTop = Math.min(lines.start.y, lines.finish.y);
  const floorBottom = Math.max(lines.start.y, lines.finish.y);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const x1 = Math.min(w, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(floorTop - HEIGHT_ROOM_M * m));
  const y1 = Math.min(h, Math.ceil(floorBottom + (WALKWAY_BAND_M + 0.2) * m));
  return x1 - x0 < 16 || y1 - y0 < 16 ? { x: 0, y: 0, w, h } : { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** Distance along the walkway from the start tape, in pixels (positive towards the finish). */
function along(geo, x) {
  return geo.dir * (x - geo.start.x);
}

/** The floor line's y at image x (through the two tapes). */
function floorY(geo, x) {
  const { start, finish } = geo;
  return start.y + ((x - start.x) * (finish.y - start.y)) / (finish.x - start.x);
}

/** Visible foot landmarks of one pose, as {i, x, y}. */
export function footPoints(pose) {
  const out = [];
  for (const i of FOOT_LANDMARKS) {
    const p = pose && pose[i];
    if (p && Number.isFinite(p.x) && Number.isFinite(p.y) && (p.visibility === undefined || p.visibility >= MIN_VISIBILITY)) {
      out.push({ i, x: p.x, y: p.y });
    }
  }
  return out;
}

/** True when the pose's feet are on the walkway (see the rule above). */
export function inWalkway(geo, pose) {
  const feet = footPoints(pose);
  if (feet.length === 0) return false;
  const lowest = feet.reduce((a, b) => (b.y > a.y ? b : a));
  const band = WALKWAY_BAND_M * geo.pxPerM;
  if (Math.abs(lowest.y - floorY(geo, lowest.x)) > band) return false;
  const s = along(geo, lowest.x);
  const length = WALK_M * geo.pxPerM;
  return s >= -BEFORE_START_M * geo.pxPerM && s <= length + AFTER_FINISH_M * geo.pxPerM;
}

/**
 * Follow the patient through the frames.
 * @returns {Array<{t:number, lead:number|null, feet:Array, count:number}>} one entry per frame:
 *   ``count`` people in the walkway; ``lead`` the leading foot point's distance from the
 *   start tape (pixels) when exactly one; ``feet`` that person's foot points.
 */
export function track(geo, frames) {
  return frames.map((f) => {
    const inside = distinctPeople(geo, (f.poses || []).filter((p) => inWalkway(geo, p)));
    if (inside.length !== 1) return { t: f.t, lead: null, feet: [], count: inside.length };
    const feet = footPoints(inside[0]);
    const lead = Math.max(...feet.map((p) => along(geo, p.x)));
    return { t: f.t, lead, feet, count: 1 };
  });
}

/** The poses of distinct people: a pose whose mean foot point is within SAME_PERSON_M of an
 * earlier one's (the model found the same person twice) is left out. */
export function distinctPeople(geo, poses) {
  const near = SAME_PERSON_M * geo.pxPerM;
  const kept = [];
  const centres = [];
  for (const pose of poses) {
    const feet = footPoints(pose);
    const c = { x: feet.reduce((a, p) => a + p.x, 0) / feet.length, y: feet.reduce((a, p) => a + p.y, 0) / feet.length };
    if (centres.some((o) => Math.abs(o.x - c.x) <= near && Math.abs(o.y - c.y) <= near)) continue;
    centres.push(c);
    kept.push(pose);
  }
  return kept;
}

/** Median interval between frames, seconds (Infinity with fewer than two frames). */
export function medianInterval(frames) {
  const gaps = [];
  for (let k = 1; k < frames.length; k += 1) gaps.push(frames[k].t - frames[k - 1].t);
  if (gaps.length === 0) return Infinity;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)];
}

/**
 * First time a per-frame value reaches ``level`` (from below), interpolated between frames.
 * Frames whose value is null are skipped; a skipped frame with more than one person in
 * the walkway (``blocked``) between the bracketing frames makes the crossing unusable.
 * @returns {{t:number, gap:number, blocked:boolean, seen:boolean}|null} ``seen`` is false
 *   when the first usable frame is already at or past ``level`` (the crossing itself was
 *   not seen); null when the level is never reached.
 */
export function firstReach(series, level, fromT, { margin = 0, persist = false, fromBelow = false } = {}) {
  // Usable frames from ``fromT`` on, each with the "blocked" flag of the skipped frames before it.
  const usable = [];
  let blocked = false;
  for (const e of series) {
    if (e.t < fromT) continue;
    if (e.value === null) {
      blocked = blocked || !!e.blocked;
      continue;
    }
    usable.push({ t: e.t, value: e.value, blocked });
    blocked = false;
  }
  // ``fromBelow``: frames already at or past ``level`` before the first one short of it are
  // not a crossing (the patient was past the line when the window opened).
  const k0 = fromBelow ? usable.findIndex((u) => u.value < level) : 0;
  if (k0 < 0) {
    // never short of the line: not a crossing, or one hidden by more than one person in the walkway
    const hidden = usable.find((u) => u.blocked);
    return hidden ? { t: hidden.t, gap: 0, blocked: true, seen: false } : null;
  }
  for (let k = k0; k < usable.length; k += 1) {
    if (usable[k].value < level + margin) continue;
    if (persist && !(k + 1 < usable.length && usable[k + 1].value >= level + margin)) continue;
    // Confirmed at frame k: the crossing is the last rise through ``level`` before it.
    let j = k;
    while (j > k0 && usable[j - 1].value >= level) j -= 1;
    if (j === k0) return { t: usable[k0].t, gap: 0, blocked: usable[k0].blocked, seen: false };
    const a = usable[j - 1];
    const b = usable[j];
    const frac = (level - a.value) / (b.value - a.value);
    return { t: a.t + frac * (b.t - a.t), gap: b.t - a.t, blocked: b.blocked, seen: true };
  }
  return null;
}

function fail(code, extra = {}) {
  return { ok: false, code, message: MESSAGES[code], ...extra };
}

/**
 * Time one walk from pose frames.
 * @param {Array} frames pose frames (see the top of this file), in time order.
 * @param {{lines:object, mode:'rolling'|'standing', goT?:number, maxGapS?:number}} opts
 *   ``goT``: the Start tap, same clock as the frames (needed for a standing start;
 *   for a rolling start only frames from ``goT`` on are used when it is given).
 *   ``maxGapS``: MAX_GAP_S unless given (bench/camera.py passes Infinity to see the error
 *   the frame-rate rule would have prevented).
 * @returns {{ok:true, seconds:number, startT:number, finishT:number, fps:number, frames:number}
 *          | {ok:false, code:string, message:string}} (``low-fps`` also gives ``gaps``: the start and
 *   finish crossings' gaps between the frames either side, seconds)
 */
export function timeWalk(frames, opts) {
  const geo = geometry(opts && opts.lines);
  if (!geo) return fail('no-lines');
  const goT = Number.isFinite(opts.goT) ? opts.goT : -Infinity;
  const tracked = track(geo, frames);
  const from = opts.mode === 'standing' ? goT : goT - ROLLING_LOOKBACK_S;
  const used = tracked.filter((e) => e.t >= from);
  const fps = used.length > 1 ? (used.length - 1) / (used[used.length - 1].t - used[0].t) : 0;
  const base = { fps: Math.round(fps * 10) / 10, frames: used.length };
  if (!used.some((e) => e.count === 1)) {
    return used.some((e) => e.count > 1) ? fail('more-than-one', base) : fail('no-person', base);
  }
  const length = WALK_M * geo.pxPerM;
  const leadSeries = tracked.map((e) => ({ t: e.t, value: e.lead, blocked: e.count > 1 }));
  let startEvent;
  if (opts.mode === 'standing') {
    startEvent = firstMovement(geo, tracked, goT);
    if (!startEvent) return fail('no-movement', base);
    if (startEvent.moving) return fail('moving-at-go', base);
  } else {
    startEvent = firstReach(leadSeries, 0, goT - ROLLING_LOOKBACK_S, { fromBelow: true });
    if (startEvent && startEvent.blocked) return fail('more-than-one', base);
    if (!startEvent || !startEvent.seen) return fail('not-crossed-start', base);
  }
  const finishEvent = firstReach(leadSeries, length, startEvent.t);
  if (finishEvent && finishEvent.blocked) return fail('more-than-one', base);
  if (!finishEvent || !finishEvent.seen) return fail('not-crossed-finish', base);
  if (startEvent.blocked) return fail('more-than-one', base);
  const maxGap = typeof opts.maxGapS === 'number' ? opts.maxGapS : MAX_GAP_S;
  if (startEvent.gap > maxGap || finishEvent.gap > maxGap) {
    return fail('low-fps', { ...base, gaps: [startEvent.gap, finishEvent.gap].map((g) => Math.round(g * 1000) / 1000) });
  }
  const seconds = finishEvent.t - startEvent.t;
  return { ok: true, seconds: Math.round(seconds * 100) / 100, startT: startEvent.t, finishT: finishEvent.t, ...base };
}

/**
 * Standing start: the first movement of the feet after "go". The leading foot point's rest
 * position is the median of the tracked frames in the REST_S up to go (or the first tracked
 * frame after go when there is none). The movement is confirmed once the leading foot point is
 * CONFIRM_M past its rest position in two frames running; its start is the last time before
 * that it was within MOVE_THRESHOLD_M of rest (interpolated between frames), so a pose model's
 * jitter while the patient stands still (a foot point "moving" a few centimetres for a frame,
 * left and right feet swapped) does not start the time early. Uses the leading foot point,
 * not each landmark, so a left/right swap between frames is no movement. A patient already
 * moving at "go" (CONFIRM_M within the rest frames, or MOVE_THRESHOLD_M from rest at the first
 * frame after it) is not timed: ``{moving: true}``.
 * @returns {{t:number, gap:number, blocked:boolean}|{moving:true}|null}
 */
export function firstMovement(geo, tracked, goT) {
  if (!Number.isFinite(goT)) return null;
  let ref = tracked.filter((e) => e.count === 1 && e.t <= goT && e.t >= goT - REST_S);
  if (ref.length === 0) {
    const first = tracked.find((e) => e.count === 1 && e.t >= goT);
    ref = first ? [first] : [];
  }
  if (ref.length === 0) return null;
  const leads = ref.map((e) => e.lead).sort((a, b) => a - b);
  const home = leads[Math.floor((leads.length - 1) / 2)];
  // Not standing still at "go": the leading foot point moved CONFIRM_M within the rest window.
  if (leads[leads.length - 1] - leads[0] >= CONFIRM_M * geo.pxPerM) return { moving: true };
  const series = tracked.map((e) => (e.count === 1
    ? { t: e.t, value: e.lead - home, blocked: false }
    : { t: e.t, value: null, blocked: e.count > 1 }));
  const level = MOVE_THRESHOLD_M * geo.pxPerM;
  const moved = firstReach(series, level, goT, { margin: (CONFIRM_M - MOVE_THRESHOLD_M) * geo.pxPerM, persist: true });
  // Already MOVE_THRESHOLD_M from rest at the first frame after go: the movement began before it.
  return moved && !moved.seen ? { moving: true } : moved;
}
