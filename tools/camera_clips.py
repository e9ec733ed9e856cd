"""Test clips for camera timing, made with ffmpeg from ``shared/media/walk-side-view.mp4``.

Used by ``tests/e2e/test_e2e_camera.py`` and ``bench/camera.py`` (played to Chromium as a
fake camera, ``--use-file-for-fake-video-capture``). Clips are written to a temporary
directory at run time and never committed (the people in the footage are identifiable).

All clips are 640x360 at 30 frames a second. Measured on the footage scaled to 640 px
(``shared/media/README.md``: about 232 px a metre at 1768 px): 84 px a metre, the floor
where the walker's feet are at y = 332 to 335.

- ``reversed``: the footage played backwards, 1.5 s to 6.5 s, its first frame held for
  1.5 s (a real woman walking backwards, left to right, from about 1.2 m before the start
  tape; a man on a box and a third person also in the scene).
- ``synthetic``: the woman cut out of the frame at 3.8 s (a rectangle) over an empty
  background of the same scene: she stands 1.5 s about 0.6 m before the start tape (a
  rolling start), then moves left to right at exactly 1 m/s (84 px/s) for 5 s. Any point
  of her crosses the two tapes (3 m apart) exactly 3.000 s apart: the truth.
  Its frames carry their number (:data:`MARKER_BITS` black or white 8 px squares along the
  top-left corner, bit 0 first, outside the walkway the pose model looks at), so a test can
  tell how far the clip's own time has moved between two camera timestamps (Chromium's fake
  camera, starved of CPU, delivers the file's frames late: the clip then plays slower than
  its timestamps say, which no real camera does).
- ``stop_short``: the same figure standing 1.5 s, walking 2.5 s, then standing still
  2 s before the finish tape.
- ``synthetic_hd``: ``synthetic`` scaled to 1280x720 (each pixel doubled: its marker squares
  are 16 px), the size of a tablet camera's frames.
- ``empty``: the empty background for 3 s.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = ROOT.parent / "shared" / "media" / "walk-side-view.mp4"

WIDTH, HEIGHT, FPS = 640, 360, 30
PX_PER_M = 84.0
#: The tapes for the clips (pixels): 3 m apart on the floor line where the walker's feet are.
START = (200.0, 332.0)
FINISH = (452.0, 332.0)
#: The synthetic walker: speed (px/s) and so the true time between the tapes.
SPEED_PX_S = 84.0
TRUE_SECONDS = (FINISH[0] - START[0]) / SPEED_PX_S
#: The cut-out: a rectangle around the woman in the frame at 3.8 s (x, y, w, h at 640 px).
FIGURE = (262, 180, 110, 165)
FIGURE_AT_S = 3.8
#: Where the synthetic figure's rectangle stands first (x) and for how long (s); she faces
#: left, so moving right she walks backwards.
FIGURE_X0 = 64
HOLD_S = 1.5

CLIPS = ("reversed", "synthetic", "synthetic_hd", "stop_short", "empty")
#: ``synthetic_hd`` is ``synthetic`` at this many times the size (1280x720, a tablet camera's size).
HD_SCALE = 2
#: The synthetic clip's frame-number marker: this many squares of MARKER_PX, from (0, 0) rightwards.
MARKER_BITS = 8
MARKER_PX = 8


def lines_fraction() -> dict:
    """The tapes as fractions of the image (how the camera page stores them)."""
    return {"start": {"x": START[0] / WIDTH, "y": START[1] / HEIGHT},
            "finish": {"x": FINISH[0] / WIDTH, "y": FINISH[1] / HEIGHT}}


def ffmpeg() -> str | None:
    """The ffmpeg executable, or None."""
    return shutil.which("ffmpeg")


def _run(args: list[str]) -> None:
    subprocess.run([ffmpeg(), "-v", "error", "-y", *args], check=True, timeout=300)


def _background(tmp: Path) -> Path:
    """An empty scene: the frame at 7.5 s (nobody left of x=500) with its right part
    (where the third person runs off) taken from the frame at 3.8 s (nobody there)."""
    out = tmp / "background.png"
    if not out.exists():
        scale = f"scale={WIDTH}:{HEIGHT}"
        _run(["-ss", "7.5", "-i", str(FOOTAGE), "-ss", "3.8", "-i", str(FOOTAGE), "-filter_complex",
              f"[0:v]{scale}[a];[1:v]{scale},crop=140:{HEIGHT}:500:0[b];[a][b]overlay=500:0",
              "-frames:v", "1", str(out)])
    return out


def _figure(tmp: Path) -> Path:
    out = tmp / "figure.png"
    if not out.exists():
        x, y, w, h = FIGURE
        _run(["-ss", str(FIGURE_AT_S), "-i", str(FOOTAGE), "-vf", f"scale={WIDTH}:{HEIGHT},crop={w}:{h}:{x}:{y}",
              "-frames:v", "1", str(out)])
    return out


def make(name: str, tmp: Path) -> Path:
    """Write clip ``name`` (one of :data:`CLIPS`) as ``tmp/name.y4m`` and return its path."""
    tmp.mkdir(parents=True, exist_ok=True)
    out = tmp / f"{name}.y4m"
    if out.exists():
        return out
    y4m = ["-pix_fmt", "yuv420p", "-r", str(FPS), str(out)]
    if name == "reversed":
        _run(["-i", str(FOOTAGE), "-vf", f"reverse,scale={WIDTH}:{HEIGHT},fps={FPS},trim=1.5:6.5,setpts=PTS-STARTPTS,"
              f"tpad=start_mode=clone:start_duration={HOLD_S}", *y4m])
        return out
    if name == "synthetic_hd":
        _run(["-i", str(make("synthetic", tmp)), "-vf", f"scale={WIDTH * HD_SCALE}:{HEIGHT * HD_SCALE}:flags=neighbor",
              *y4m])
        return out
    background, figure = _background(tmp), _figure(tmp)
    if name == "empty":
        _run(["-loop", "1", "-t", "3", "-i", str(background), "-vf", f"fps={FPS}", *y4m])
        return out
    if name == "synthetic":
        duration, moving = HOLD_S + 5.0, 5.0
    elif name == "stop_short":
        duration, moving = HOLD_S + 4.5, 2.5
    else:
        raise ValueError(f"clip: {name!r} is not one of {', '.join(CLIPS)}")
    x = f"{FIGURE_X0}+{SPEED_PX_S}*min(max(t-{HOLD_S}\\,0)\\,{moving})"
    marker = "" if name != "synthetic" else "," + ",".join(
        [f"drawbox=x=0:y=0:w={MARKER_BITS * MARKER_PX}:h={MARKER_PX}:color=black:t=fill"]
        + [f"drawbox=x={b * MARKER_PX}:y=0:w={MARKER_PX}:h={MARKER_PX}:color=white:t=fill:"
           f"enable='eq(mod(floor(n/{2 ** b})\\,2)\\,1)'" for b in range(MARKER_BITS)])
    _run(["-loop", "1", "-t", str(duration), "-framerate", str(FPS), "-i", str(background),
          "-loop", "1", "-t", str(duration), "-framerate", str(FPS), "-i", str(figure),
          "-filter_complex", f"[0:v][1:v]overlay=x='{x}':y={FIGURE[1]}:eval=frame,fps={FPS}{marker}", *y4m])
    return out
