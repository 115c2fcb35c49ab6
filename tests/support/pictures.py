"""Real pictures for tests: the portrait, camera frames, and y4m files for Chromium.

The portrait is scikit-image's astronaut (public domain, bundled in its wheel), so
nothing is downloaded. Chromium's fake camera plays a y4m file given with
--use-file-for-fake-video-capture; the file is written here, never committed.
"""

from pathlib import Path

import cv2
import numpy as np
from skimage import data

GREY = (128, 128, 128)


def portrait() -> np.ndarray:
    """The astronaut as OpenCV holds images: BGR, 512 × 512."""
    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


def framed(image: np.ndarray, width: int = 1280, height: int = 720) -> np.ndarray:
    """An image centred on a grey frame of a camera's size, scaled to fit its height."""
    scale = min(width / image.shape[1], height / image.shape[0], 1.0)
    if scale != 1.0:
        size = (int(image.shape[1] * scale), int(image.shape[0] * scale))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)

    frame = np.full((height, width, 3), GREY, dtype=np.uint8)
    top = (height - image.shape[0]) // 2
    left = (width - image.shape[1]) // 2
    frame[top : top + image.shape[0], left : left + image.shape[1]] = image
    return frame


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return encoded.tobytes()


def png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


def write_y4m(path: Path, image: np.ndarray, frames: int = 3) -> Path:
    """Write a BGR image as a still y4m video (4:2:0) for Chromium's fake camera.

    Width and height must be even for 4:2:0; an odd edge is cropped.
    """
    height, width = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    image = image[:height, :width]
    yuv = cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420)
    header = f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode()
    with open(path, "wb") as out:
        out.write(header)
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(yuv.tobytes())

    return path
