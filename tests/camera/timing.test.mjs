// node --test: the camera timing rule (static/camera/timing.mjs) on made-up pose frames
// with a known timeline. Run by tests/camera/test_camera_timing.py so pytest (CI) runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  timeWalk, inWalkway, geometry, cropRect, MOVE_THRESHOLD_M, MAX_GAP_S, CONFIRM_M, ROLLING_LOOKBACK_S,
} from '../../static/camera/timing.mjs';

// Tapes 300 px apart (100 px a metre) on a floor at y = 400; walking right to left.
const LINES = { start: { x: 500, y: 400 }, finish: { x: 200, y: 400 } };

/** A 33-landmark pose with both feet around ``x`` (toes pointing in the direction of travel). */
function pose(x, floor = 400, spread = 20) {
  const p = Array.from({ length: 33 }, () => ({ x, y: floor - 150, visibility: 0.9 }));
  // left foot leads by ``spread`` px towards smaller x (the direction of travel here)
  p[27] = { x: x - spread, y: floor - 8, visibility: 0.9 };
  p[29] = { x: x - spread + 4, y: floor - 2, visibility: 0.9 };
  p[31] = { x: x - spread - 10, y: floor, visibility: 0.9 };
  p[28] = { x, y: floor - 8, visibility: 0.9 };
  p[30] = { x: x + 4, y: floor - 2, visibility: 0.9 };
  p[32] = { x: x - 10, y: floor, visibility: 0.9 };
  return p;
}

/** Frames at ``fps`` of one walker: still at ``x0`` until ``t0``, then ``v`` px/s towards the finish. */
function walk({ fps = 30, x0 = 600, t0 = 0, v = 100, until = 6, extra = () => [] } = {}) {
  const frames = [];
  for (let k = 0; k * (1 / fps) <= until; k += 1) {
    const t = 10 + k / fps; // the clock does not start at zero
    const x = t - 10 < t0 ? x0 : x0 - v * (t - 10 - t0);
    frames.push({ t, poses: [pose(x), ...extra(t, x)] });
  }
  return frames;
}

/** Frames at 30 a second for 6 s from t = 10 of one walker whose feet are around ``x(t)``. */
function path(x) {
  return Array.from({ length: 181 }, (_, k) => 10 + k / 30).map((t) => ({ t, poses: [pose(x(t))] }));
}

test('rolling start: 3 m at 1 m/s is 3.00 s, interpolated between frames', () => {
  // leading point (toe) is at x - 30; it reaches the start tape (500) when x = 530.
  const r = timeWalk(walk({ fps: 12 }), { lines: LINES, mode: 'rolling' });
  assert.equal(r.ok, true, r.message);
  assert.ok(Math.abs(r.seconds - 3.0) < 0.011, String(r.seconds));
  assert.ok(Math.abs(r.startT - (10 + 0.7)) < 1e-6, String(r.startT));
});

test('standing start: from the first movement of the feet to the finish crossing', () => {
  // Still at x0 = 520 (toe at 490, past the start tape) until 1.0 s; then 1 m/s.
  const frames = walk({ fps: 30, x0: 520, t0: 1.0, v: 100 });
  const r = timeWalk(frames, { lines: LINES, mode: 'standing', goT: 10.5 });
  assert.equal(r.ok, true, r.message);
  // movement is seen after MOVE_THRESHOLD_M (5 px here, 0.05 s at 1 m/s); finish when toe at 200: x = 230, 2.9 s after onset.
  const truth = 2.9 - MOVE_THRESHOLD_M;
  assert.ok(Math.abs(r.seconds - truth) < 0.011, `${r.seconds} vs ${truth}`);
});

test('standing start with no movement after go: no time', () => {
  const frames = walk({ fps: 30, x0: 520, t0: 99 });
  const r = timeWalk(frames, { lines: LINES, mode: 'standing', goT: 10.5 });
  assert.deepEqual([r.ok, r.code], [false, 'no-movement']);
});

test('empty scene: person not found', () => {
  const frames = walk().map((f) => ({ t: f.t, poses: [] }));
  const r = timeWalk(frames, { lines: LINES, mode: 'rolling' });
  assert.deepEqual([r.ok, r.code], [false, 'no-person']);
  assert.match(r.message, /no person/);
});

test('stopping before the finish line: line not crossed', () => {
  const frames = walk({ until: 6 }).map((f) => {
    const x = Math.max(f.poses[0][28].x, 300); // stops 1 m short of the finish
    return { t: f.t, poses: [pose(x)] };
  });
  const r = timeWalk(frames, { lines: LINES, mode: 'rolling' });
  assert.deepEqual([r.ok, r.code], [false, 'not-crossed-finish']);
});

test('a guard walking beside the walkway (feet off the floor line) is ignored', () => {
  const guard = (t, x) => [pose(x - 40, 470)]; // 0.7 m nearer the camera, ahead of the patient
  const r = timeWalk(walk({ extra: guard }), { lines: LINES, mode: 'rolling' });
  assert.equal(r.ok, true, r.message);
  assert.ok(Math.abs(r.seconds - 3.0) < 0.011);
  const geo = geometry(LINES);
  assert.equal(inWalkway(geo, pose(400, 470)), false);
  assert.equal(inWalkway(geo, pose(400, 400)), true);
  assert.equal(inWalkway(geo, pose(900, 400)), false); // 4 m before the start tape
});

test('two people in the walkway at a crossing: not timed', () => {
  const other = (t, x) => [pose(x + 60, 405)];
  const r = timeWalk(walk({ extra: other }), { lines: LINES, mode: 'rolling' });
  assert.deepEqual([r.ok, r.code], [false, 'more-than-one']);
});

test('frame gaps beyond MAX_GAP_S (6 frames a second): too low to time to 0.1 s', () => {
  const r = timeWalk(walk({ fps: 6 }), { lines: LINES, mode: 'rolling' });
  assert.deepEqual([r.ok, r.code], [false, 'low-fps']);
  assert.equal(r.fps, 6);
  assert.match(r.message, /too low to time to 0\.1 s/);
});

test('every 4th frame of a 30 frames/s camera, timestamps jittered by 3 ms: timed (bench/camera.py gap table)', () => {
  // 0.133 s between frames: the widest gap the bench measured to time the 3 m to 0.1 s.
  const frames = walk({ fps: 30 }).filter((_, i) => i % 4 === 1).map((f, i) => ({ ...f, t: f.t + (i % 2 ? 0.003 : -0.003) }));
  const r = timeWalk(frames, { lines: LINES, mode: 'rolling' });
  assert.equal(r.ok, true, r.message);
  assert.ok(Math.abs(r.seconds - 3.0) < 0.011, String(r.seconds));
  assert.ok(MAX_GAP_S >= 4 / 30 + 0.006 && MAX_GAP_S < 5 / 30, String(MAX_GAP_S));
});

test('the crop given to the pose model covers the walkway, 1.8 m before to 1.3 m past, and 2.2 m above the floor', () => {
  // 100 px a metre, walking right to left: x from 200 - 130 to 500 + 180; y from 400 - 220 to 400 + 55.
  const c = cropRect(LINES, 1000, 600); // whole pixels around it (floor and ceiling)
  for (const [got, want] of [[c.x, 70], [c.y, 180], [c.x + c.w, 680], [c.y + c.h, 455]]) {
    assert.ok(Math.abs(got - want) <= 1, JSON.stringify(c));
  }
  assert.deepEqual(cropRect(null, 640, 360), { x: 0, y: 0, w: 640, h: 360 });
});

test('invisible feet do not count: a low-visibility pose is not a person', () => {
  const frames = walk().map((f) => ({ t: f.t, poses: [f.poses[0].map((p) => ({ ...p, visibility: 0.1 }))] }));
  assert.equal(timeWalk(frames, { lines: LINES, mode: 'rolling' }).code, 'no-person');
});

test('no tapped lines: asks for them', () => {
  assert.equal(timeWalk(walk(), { lines: null, mode: 'rolling' }).code, 'no-lines');
  assert.equal(timeWalk(walk(), { lines: { start: { x: 5, y: 1 }, finish: { x: 5.5, y: 1 } }, mode: 'rolling' }).code, 'no-lines');
});

test('the same person found twice by the model is one person', () => {
  const twice = (t, x) => [pose(x + 6, 402)]; // 6 px (6 cm) away: a duplicate detection
  const r = timeWalk(walk({ extra: twice }), { lines: LINES, mode: 'rolling' });
  assert.equal(r.ok, true, r.message);
  assert.ok(Math.abs(r.seconds - 3.0) < 0.011);
});

test('rolling start tapped as the patient crosses, a reaction time late: the crossing before the tap counts', () => {
  // walk() starts at x0 = 600 (toe 570) and reaches the start tape (toe 500) 0.7 s in (t = 10.7).
  for (const late of [0.0, 0.25, 0.6, ROLLING_LOOKBACK_S - 0.05]) {
    const r = timeWalk(walk({ fps: 30 }), { lines: LINES, mode: 'rolling', goT: 10.7 + late });
    assert.equal(r.ok, true, `${late}: ${r.message}`);
    assert.ok(Math.abs(r.seconds - 3.0) < 0.011, `${late}: ${r.seconds}`);
  }
  // Tapped more than ROLLING_LOOKBACK_S after the crossing: the camera did not see it in its window.
  const r = timeWalk(walk({ fps: 30 }), { lines: LINES, mode: 'rolling', goT: 10.7 + ROLLING_LOOKBACK_S + 0.1 });
  assert.deepEqual([r.ok, r.code], [false, 'not-crossed-start']);
});

test('standing start: pose jitter while standing still does not start the time early', () => {
  // Still at 520 until 1.0 s after go (t = 11.0), then 1 m/s; while still, every 5th frame one
  // foot point jumps 8 px (8 cm) towards the finish for one frame, and the feet swap (left/right)
  // every 7th frame: neither is a movement.
  const frames = walk({ fps: 30, x0: 520, t0: 1.5 }).map((f, k) => {
    if (f.t >= 11.5) return f;
    const p = f.poses[0].map((q) => ({ ...q }));
    if (k % 5 === 0) p[31] = { ...p[31], x: p[31].x - 8 };
    if (k % 7 === 0) for (const [a, b] of [[27, 28], [29, 30], [31, 32]]) [p[a], p[b]] = [p[b], p[a]];
    return { t: f.t, poses: [p] };
  });
  const r = timeWalk(frames, { lines: LINES, mode: 'standing', goT: 10.5 });
  assert.equal(r.ok, true, r.message);
  const truth = 2.9 - MOVE_THRESHOLD_M; // from 11.5 + 0.05 to the finish (toe at 200: x = 230, 2.9 s after onset)
  assert.ok(Math.abs(r.seconds - truth) < 0.011, `${r.seconds} vs ${truth}`);
  assert.ok(CONFIRM_M > MOVE_THRESHOLD_M);
});

test('standing start: a shuffle back that stops short of CONFIRM_M is the first movement when the walk follows', () => {
  // Go at 10.5; the patient shuffles 0.1 m back 0.3 s later (10.8), stands, then walks off at 1 m/s at 12.0.
  const frames = path((t) => (t < 10.8 ? 520 : t < 12.0 ? 510 : 510 - 100 * (t - 12.0)));
  const r = timeWalk(frames, { lines: LINES, mode: 'standing', goT: 10.5 });
  assert.equal(r.ok, true, r.message);
  // Confirmed when 15 px from rest (12.05); the feet had left MOVE_THRESHOLD_M (5 px) of rest at the
  // shuffle, between the frames at 10.767 and 10.8, and never came back: the time starts there.
  assert.ok(r.startT > 10.766 && r.startT <= 10.8 + 1e-9, String(r.startT));
  // finish: toe (x - 30) at 200, so x = 230, 2.8 s after 12.0
  assert.ok(Math.abs(r.finishT - 14.8) < 0.011, String(r.finishT));
});

test('standing start: a shuffle of less than CONFIRM_M with no walk after it is no movement', () => {
  const frames = walk({ fps: 30, x0: 520, t0: 99 }).map((f) => (f.t >= 10.8 ? { t: f.t, poses: [pose(510)] } : f));
  const r = timeWalk(frames, { lines: LINES, mode: 'standing', goT: 10.5 });
  assert.deepEqual([r.ok, r.code], [false, 'no-movement']);
});

test('rolling start: a patient still past the start tape when the window opens, who steps back before it and then walks, is timed from that crossing', () => {
  // Past the start tape (toe at 480) until 10.3, back at the start position (toe 540) from 10.4,
  // walks off at 1 m/s at 11.0: the toe reaches the start tape at 11.4.
  const frames = path((t) => (t < 10.3 ? 510 : t < 11.0 ? 570 : 570 - 100 * (t - 11.0)));
  const r = timeWalk(frames, { lines: LINES, mode: 'rolling', goT: 11.2 });
  assert.equal(r.ok, true, r.message);
  assert.ok(Math.abs(r.startT - 11.4) < 0.011, String(r.startT));
  assert.ok(Math.abs(r.seconds - 3.0) < 0.011, String(r.seconds));
});

test('standing start: a patient already walking at go is not timed (a standing start begins still)', () => {
  // walks off at 11.0; go tapped at 11.3 (0.3 m moved) and at 11.08 (8 cm: past MOVE_THRESHOLD_M at the first frame after go)
  for (const goT of [11.3, 11.08]) {
    const r = timeWalk(walk({ fps: 30, x0: 520, t0: 1.0 }), { lines: LINES, mode: 'standing', goT });
    assert.deepEqual([r.ok, r.code], [false, 'moving-at-go'], String(goT));
    assert.match(r.message, /already moving at Start/);
  }
  // still at go, off 0.5 s later: timed
  const r = timeWalk(walk({ fps: 30, x0: 520, t0: 1.0 }), { lines: LINES, mode: 'standing', goT: 10.5 });
  assert.equal(r.ok, true, r.message);
});
