#!/usr/bin/env python3
"""The versions of the Python peers `tether bench all` compares against, as one JSON object
({"python": "3.11.7", "numpy": "...", ...}; a package that is not installed is left out)."""
import importlib.metadata
import json
import platform

PACKAGES = ["numpy", "mujoco", "onnxruntime", "pycocotools", "faster-coco-eval", "cyclonedds", "rosbags", "mcap", "scipy", "opencv-python-headless"]


def main():
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    print(json.dumps(out))


if __name__ == "__main__":
    main()
