"""PyTorch side of `pnpm bench:embed` (and `bench:speed`): the official MobileSAM code on the same
seeded checkpoint and photos, timed the way samtune is timed. Bench-only; nothing in samtune imports it.

    python3 bench/pytorch/sam_speed.py --sam-src DIR --checkpoint tinyvit.pth --images DIR [--threads 2]

--sam-src is a checkout of https://github.com/ChaoningZhang/MobileSAM (the folder that holds
`mobile_sam/`); its sources are imported from there, never copied into this repository. MobileSAM's
TinyViT imports three helpers from `timm` (not packaged by Debian); when timm is missing, the
inference-time equivalents below stand in (DropPath with rate 0 is the identity; `trunc_normal_`
only initialises weights that the checkpoint then overwrites).

Prints one JSON object: the model load, then for every photo (sorted by name) the seconds of the
decode (PIL) and of `SamPredictor.set_image` (resize, normalise, pad, encoder; wall and process CPU
seconds: on a loaded machine OpenMP's barriers wait for descheduled threads, so the CPU time is the
steadier figure), and one box -> mask
(`SamPredictor.predict`, single output) on the last photo's embedding, median of --clicks.
"""
import argparse
import json
import os
import statistics
import sys
import time
import types


def timm_stand_in() -> None:
    """Registers a minimal `timm` with what MobileSAM's tiny_vit_sam.py imports, for inference."""
    import torch.nn as nn
    from torch.nn.init import trunc_normal_

    class DropPath(nn.Module):
        def __init__(self, drop_prob=0.0):
            super().__init__()
            self.drop_prob = drop_prob

        def forward(self, x):
            return x  # eval mode: the identity, as in timm

    def to_2tuple(x):
        return tuple(x) if isinstance(x, (tuple, list)) else (x, x)

    timm = types.ModuleType("timm")
    models = types.ModuleType("timm.models")
    layers = types.ModuleType("timm.models.layers")
    registry = types.ModuleType("timm.models.registry")
    layers.DropPath, layers.to_2tuple, layers.trunc_normal_ = DropPath, to_2tuple, trunc_normal_
    registry.register_model = lambda fn: fn
    timm.models, models.layers, models.registry = models, layers, registry
    sys.modules.update({"timm": timm, "timm.models": models, "timm.models.layers": layers, "timm.models.registry": registry})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sam-src", required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--clicks", type=int, default=10)
    a = ap.parse_args()

    import numpy as np
    import torch
    from PIL import Image

    torch.set_num_threads(a.threads)
    try:
        import timm  # noqa: F401
    except ImportError:
        timm_stand_in()
    sys.path.insert(0, os.path.abspath(a.sam_src))
    from mobile_sam import SamPredictor, sam_model_registry

    t0 = time.perf_counter()
    sam = sam_model_registry["vit_t"](checkpoint=a.checkpoint)
    sam.eval()
    predictor = SamPredictor(sam)
    load_s = time.perf_counter() - t0

    names = sorted(n for n in os.listdir(a.images) if n.lower().endswith((".jpg", ".jpeg", ".png")))[: a.limit]
    photos = []
    with torch.inference_mode():
        for name in names:
            t0 = time.perf_counter()
            img = np.array(Image.open(os.path.join(a.images, name)).convert("RGB"))
            t1, c1 = time.perf_counter(), time.process_time()
            predictor.set_image(img)
            t2, c2 = time.perf_counter(), time.process_time()
            photos.append(
                {"name": name, "decodeSeconds": t1 - t0, "setImageSeconds": t2 - t1, "setImageCpuSeconds": c2 - c1}
            )
        h, w = img.shape[:2]
        box = np.array([w * 0.25, h * 0.25, w * 0.75, h * 0.75])
        clicks = []
        for _ in range(a.clicks):
            t0 = time.perf_counter()
            predictor.predict(box=box, multimask_output=False)
            clicks.append((time.perf_counter() - t0) * 1000)

    set_image = [p["setImageSeconds"] for p in photos]
    set_image_cpu = [p["setImageCpuSeconds"] for p in photos]
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "loadSeconds": load_s,
                "photos": photos,
                "firstSetImageSeconds": set_image[0],
                "steadySetImageSeconds": statistics.median(set_image[1:]) if len(set_image) > 1 else None,
                "firstSetImageCpuSeconds": set_image_cpu[0],
                "steadySetImageCpuSeconds": statistics.median(set_image_cpu[1:]) if len(set_image) > 1 else None,
                "totalSeconds": sum(p["decodeSeconds"] + p["setImageSeconds"] for p in photos),
                "clickMsMedian": statistics.median(clicks),
            }
        )
    )


if __name__ == "__main__":
    main()
