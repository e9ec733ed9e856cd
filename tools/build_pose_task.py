"""Build MediaPipe Tasks ``.task`` pose bundles from the legacy ``@mediapipe/pose`` models.

``@mediapipe/tasks-vision`` ships no model; ``@mediapipe/pose`` (Apache-2.0) ships
the pose landmark models (lite, full, heavy) and the pose detector (packed in
``pose_solution_packed_assets.data``) without the metadata that the Tasks API
reads. This script adds the image-normalisation metadata with MediaPipe's
metadata writer and zips each pair as a ``.task`` bundle
(``pose_detector.tflite`` + ``pose_landmarks_detector.tflite``).

Usage (a build step, not a runtime dependency; needs ``pip install mediapipe==0.10.21``: the 1.x wheels lack the metadata module's native part)::

    npm pack @mediapipe/pose@0.5.1675469404 && tar xzf mediapipe-pose-0.5.1675469404.tgz
    python tools/build_pose_task.py package/ static/camera/models/ lite full

Normalisation (from the legacy graphs' image-to-tensor calculators): the
detector takes RGB scaled to [-1, 1] (mean 127.5, std 127.5); the landmark
model takes RGB scaled to [0, 1] (mean 0, std 255).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, model_asset_bundle_utils

SIZES = ("lite", "full", "heavy")


def _detector(package: Path) -> bytes:
    """Return pose_detection.tflite cut out of the legacy packed assets."""
    loader = (package / "pose_solution_packed_assets_loader.js").read_text()
    entry = re.search(r'"filename": "[^"]*pose_detection\.tflite", "start": (\d+), "end": (\d+)', loader)
    if entry is None:
        raise SystemExit("pose_detection.tflite not found in pose_solution_packed_assets_loader.js")
    start, end = int(entry.group(1)), int(entry.group(2))
    return (package / "pose_solution_packed_assets.data").read_bytes()[start:end]


def _with_image_metadata(model: bytes, name: str, mean: float, std: float) -> bytes:
    """Return ``model`` with general info and image-input normalisation metadata."""
    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name, "From @mediapipe/pose 0.5.1675469404 (Apache-2.0); metadata added by StepBack.")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    content, _ = writer.populate()
    return bytes(content)


def build(package: Path, out_dir: Path, sizes: list[str]) -> list[Path]:
    """Write ``pose_landmarker_<size>.task`` for each size into ``out_dir``.

    Parameters
    ----------
    package : Path
        The unpacked ``@mediapipe/pose`` npm package directory.
    out_dir : Path
        Where the bundles are written.
    sizes : list of str
        Any of ``lite``, ``full``, ``heavy``.

    Returns
    -------
    list of Path
        The bundles written.
    """
    detector = _with_image_metadata(_detector(package), "pose_detector", 127.5, 127.5)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size in sizes:
        if size not in SIZES:
            raise SystemExit(f"size: {size!r} is not one of {', '.join(SIZES)}")
        landmarks = _with_image_metadata((package / f"pose_landmark_{size}.tflite").read_bytes(),
                                         f"pose_landmarks_detector_{size}", 0.0, 255.0)
        target = out_dir / f"pose_landmarker_{size}.task"
        model_asset_bundle_utils.create_model_asset_bundle(
            {"pose_detector.tflite": detector, "pose_landmarks_detector.tflite": landmarks}, str(target))
        written.append(target)
    return written


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit("usage: build_pose_task.py POSE_PACKAGE_DIR OUT_DIR SIZE [SIZE...]")
    for path in build(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]):
        print(json.dumps({"bundle": str(path), "bytes": path.stat().st_size}))
