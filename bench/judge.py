"""Time images.judge() on a 1280 × 720 portrait against bare OpenCV pipelines.

Run from the repository root:  .venv/bin/python -m bench.judge [--runs 50]

The target: a median of at most 60 ms, and at most 1.3 times the bare pipeline
(decode, then the Haar cascade on the image as decoded). The matched pipeline also
scales to the judge's working size and uses its detector settings: the difference to
it is what the judge's own checks and the clean re-encoding cost. The pipelines run
in turn within each round, so load from other processes falls on all of them alike.
"""

import argparse
import statistics
import sys
import time

import cv2
import numpy as np
from skimage import data

from gatekeeper import images

TARGET_MEDIAN_MS = 60.0
TARGET_RATIO = 1.3


def portrait_jpeg() -> bytes:
    """The astronaut scaled to 720 px high, centred on grey in a 1280 × 720 frame."""
    portrait = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    square = cv2.resize(portrait, (720, 720), interpolation=cv2.INTER_AREA)
    frame = cv2.copyMakeBorder(
        square, 0, 0, 280, 280, cv2.BORDER_CONSTANT, value=(128, 128, 128)
    )
    return cv2.imencode(".jpg", frame)[1].tobytes()


def bare(upload: bytes, cascade: cv2.CascadeClassifier):
    """What a first attempt would do: decode, then detect at full resolution."""
    image = cv2.imdecode(np.frombuffer(upload, np.uint8), cv2.IMREAD_COLOR)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return cascade.detectMultiScale(grey)


def matched(upload: bytes, cascade: cv2.CascadeClassifier):
    """Decode, scale to the judge's working size, detect with the judge's settings."""
    image = cv2.imdecode(np.frombuffer(upload, np.uint8), cv2.IMREAD_COLOR)
    height, width = image.shape[:2]
    scale = images.WORK_SIDE / max(width, height)
    size = (round(width * scale), round(height * scale))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    return cascade.detectMultiScale(
        grey,
        scaleFactor=images.FACE_SCALE_FACTOR,
        minNeighbors=images.FACE_MIN_NEIGHBOURS,
        minSize=(images.FACE_MIN_SIDE, images.FACE_MIN_SIDE),
    )


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def measure(runs: int = 50) -> dict[str, list[float]]:
    """Each pipeline's milliseconds per run, the pipelines taking turns."""
    upload = portrait_jpeg()
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + images.CASCADE_FILE)
    pipelines = {
        "judge": lambda: images.judge(upload, expect_face=True),
        "bare (full size, defaults)": lambda: bare(upload, cascade),
        "matched (640 px, judge's settings)": lambda: matched(upload, cascade),
    }
    for run in pipelines.values():
        run()

    timings = {name: [] for name in pipelines}
    for _ in range(runs):
        for name, run in pipelines.items():
            started = time.perf_counter()
            run()
            timings[name].append((time.perf_counter() - started) * 1000)

    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args(argv).runs

    upload = portrait_jpeg()
    timings = measure(runs)
    judge_median = statistics.median(timings["judge"])
    print(
        f"{len(upload):,}-byte 1280 x 720 JPEG, {runs} runs, OpenCV {cv2.__version__}"
    )
    print(f"{'pipeline':<36} {'median ms':>10} {'p95 ms':>8} {'judge / it':>11}")
    for name, samples in timings.items():
        median = statistics.median(samples)
        ratio = judge_median / median
        print(f"{name:<36} {median:>10.1f} {p95(samples):>8.1f} {ratio:>10.2f}x")

    bare_ratio = judge_median / statistics.median(timings["bare (full size, defaults)"])
    met = judge_median <= TARGET_MEDIAN_MS and bare_ratio <= TARGET_RATIO
    verdict = "met" if met else "MISSED"
    print(
        f"target (median <= {TARGET_MEDIAN_MS:.0f} ms, <= {TARGET_RATIO}x bare): "
        f"{verdict}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
