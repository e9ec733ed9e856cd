"""Camera timing over ``stepback serve``'s HTTPS (issue 16): a tablet's camera needs a secure
page, and the camera page, the pose runtime and the model come from the app through Caddy
(with the content types a browser needs: a module script, ``application/wasm``)."""

from __future__ import annotations

import hashlib
import http.client
import ssl
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static" / "camera"


def _get(served, path: str):
    conn = http.client.HTTPSConnection("localhost", served.port, timeout=60,
                                       context=ssl.create_default_context(cafile=str(served.ca_root)))
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, response.headers, body


def test_the_camera_page_its_runtime_and_model_are_served_over_https(served):
    status, headers, body = _get(served, "/app/static/camera/camera.html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"Content-Security-Policy" in body and b"connect-src 'self'" in body
    assert b"no video or image leaves it" in body
    js = ("text/javascript", "application/javascript")  # either is a JavaScript MIME type for a module
    for path, kind in (("camera.mjs", js), ("timing.mjs", js), ("pose-worker.js", js), ("vendor/tasks-vision/vision_bundle.mjs", js),
                       ("vendor/tasks-vision/wasm/vision_wasm_internal.js", js),
                       ("vendor/tasks-vision/wasm/vision_wasm_internal.wasm", ("application/wasm",)),
                       ("models/pose_landmarker_lite.task", ("application/octet-stream",))):
        status, headers, body = _get(served, f"/app/static/camera/{path}")
        assert status == 200, path
        assert headers["Content-Type"].startswith(kind), (path, headers["Content-Type"])
        assert hashlib.sha256(body).digest() == hashlib.sha256((STATIC / path).read_bytes()).digest(), path
