"""Write a synthetic bundle of N images for the viewer's frame-time benchmark.

The images reuse a real bundle's atlases and thumbnails (cycling through its cells; each pass
through the source gets its own links to the source's atlas files, so the viewer loads as many
atlases as a real bundle of N images would have), so texture memory is real; positions are
random in a ball (a 3D layout) and in a square (a 2D layout).

    python3 bench/synthetic_bundle.py SOURCE_BUNDLE OUT_DIR N
"""

import json
import os
import random
import shutil
import struct
import sys


def main():
    source, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(os.path.join(source, "manifest.json")) as f:
        manifest = json.load(f)
    os.makedirs(os.path.join(out, "layouts"), exist_ok=True)
    thumbs = os.path.join(out, "thumbs")
    if not os.path.exists(thumbs):
        os.symlink(os.path.abspath(os.path.join(source, "thumbs")), thumbs)
    originals, source_atlases = manifest["images"], manifest["atlases"]
    passes = -(-count // len(originals))
    os.makedirs(os.path.join(out, "atlases"), exist_ok=True)
    atlases = []
    for p in range(passes):
        for atlas in source_atlases:
            path = f"atlases/pass{p}-{os.path.basename(atlas['path'])}"
            if not os.path.lexists(os.path.join(out, path)):
                os.symlink(os.path.abspath(os.path.join(source, atlas["path"])), os.path.join(out, path))
            atlases.append(dict(atlas, path=path))
    images = []
    for i in range(count):
        original = originals[i % len(originals)]
        atlas = i // len(originals) * len(source_atlases) + original["atlas"]
        images.append({
            "id": i,
            "filename": f"synthetic/{i:07d}-{original['filename'].split('/')[-1]}",
            "thumb": original["thumb"],
            "width": original["width"],
            "height": original["height"],
            "atlas": atlas,
            "rect": original["rect"],
            "hash": original["hash"],
        })
    rng = random.Random(42)
    ball, square = bytearray(), bytearray()
    for _ in range(count):
        while True:
            p = [rng.uniform(-1, 1) for _ in range(3)]
            if sum(c * c for c in p) <= 1:
                break
        ball += struct.pack("<3f", *p)
        square += struct.pack("<3f", rng.uniform(-1, 1), rng.uniform(-1, 1), 0.0)
    with open(os.path.join(out, "layouts", "ball.f32"), "wb") as f:
        f.write(ball)
    with open(os.path.join(out, "layouts", "square.f32"), "wb") as f:
        f.write(square)
    manifest.update({
        "image_count": count,
        "images": images,
        "atlases": atlases,
        "layouts": [
            {"name": "ball", "title": "Random ball", "dims": 3, "path": "layouts/ball.f32"},
            {"name": "square", "title": "Random square", "dims": 2, "path": "layouts/square.f32"},
        ],
        "clusters": [],
    })
    manifest.pop("embedding", None)
    manifest.pop("neighbours", None)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f)


if __name__ == "__main__":
    main()
