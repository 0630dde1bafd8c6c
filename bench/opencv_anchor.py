"""The far anchor: the ceiling's codec work (decode photo and mask, encode the photo as a q95
JPEG) with OpenCV's C++ codecs (libjpeg-turbo, libpng), on pairs read into memory first.
Run by bench/run.ts when python3 has cv2:
  python3 bench/opencv_anchor.py <photos.zip|tar> <masks.zip> <K> <I> <START_EPOCH_MS>
One of K processes side by side: takes every K-th pair from the I-th, starts at START.
Prints one JSON line: images, seconds, cpuSeconds, peakRssBytes, window.
"""
import json, os, resource, sys, tarfile, time, zipfile
import cv2
import numpy as np

cv2.setNumThreads(1)
photos_path, masks_path, k, i, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

def members(path):
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if not info.is_dir():
                    yield info.filename, z.read(info)
    else:
        with tarfile.open(path) as t:
            for info in t:
                if info.isfile():
                    yield info.name, t.extractfile(info).read()

def key(name):
    stem = name.rsplit(".", 1)[0]
    parts = stem.split("/")
    leaf = parts[-1].removesuffix("_mask")
    return "/".join(parts[1:-1] + [leaf]) if len(parts) > 2 else leaf

masks = {key(n): d for n, d in members(masks_path) if n.endswith(".png")}
pairs = []
position = 0
for name, data in members(photos_path):
    if not name.endswith(".jpg"):
        continue
    mask = masks.get(key(name))
    if mask is None:
        continue
    if position % k == i:
        pairs.append((data, mask))
    position += 1

time.sleep(max(0.0, start / 1000 - time.time()))
cpu0 = time.process_time()
t0 = time.time()
for photo, mask in pairs:
    image = cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR)
    cv2.imdecode(np.frombuffer(mask, np.uint8), cv2.IMREAD_UNCHANGED)
    cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
t1 = time.time()
print(json.dumps({
    "what": "opencv",
    "images": len(pairs),
    "seconds": t1 - t0,
    "cpuSeconds": time.process_time() - cpu0,
    "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "window": {"start": int(t0 * 1000), "end": int(t1 * 1000)},
}))
