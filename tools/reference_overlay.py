#!/usr/bin/env python3
"""The reference scripts' overlay, as DESIGN.md states it (OpenCV 4.6, numpy).

Used once, by hand, to produce the expected JPEG bytes committed under
test/fixtures/reference/; the test suite never runs it. Usage:

    python3 tools/reference_overlay.py PHOTO MASK OUT.jpg
"""
import sys

import cv2


def overlay(photo_path, mask_path, out_path):
    img = cv2.imread(photo_path)  # BGR uint8; gray photos become 3 equal channels
    mask = cv2.imread(mask_path, cv2.IMREAD_UNCHANGED)  # BGRA uint8
    h = min(img.shape[0], mask.shape[0])
    w = min(img.shape[1], mask.shape[1])
    alpha = mask[:h, :w, 3] / 255.0
    for c in range(3):
        # float64 result stored into uint8: numpy truncates toward zero
        img[:h, :w, c] = alpha * mask[:h, :w, c] + (1 - alpha) * img[:h, :w, c]
    cv2.imwrite(out_path, img)  # OpenCV default JPEG quality 95


if __name__ == "__main__":
    overlay(sys.argv[1], sys.argv[2], sys.argv[3])
