"""Seconds per 1024x1024 DualStyleGAN avatar (pSp encoder + generator), full-size models with random weights.

CPU (what the card holds):    python bench/dualstylegan.py --images 4 --warmup 1 --write-card
GPU, fp16 autocast:           python bench/dualstylegan.py --device cuda --images 32 --bs 8 --warmup 1
The study's thesis (section 2.3.2) reports about 9 hours for the 15k RAF-DB images, about 2.2 s per avatar (hardware not stated).
Inputs are random 256 px "aligned faces" (align='none'): this times the networks, not face detection (MTCNN adds well under 0.1 s
per image on a GPU). Random weights cost exactly what the released ones do.
"""
import argparse, json, platform, time
from pathlib import Path
import numpy as np
import torch
from PIL import Image
from avatar_anomaly.weights import update_card, command_line
from avatar_anomaly.dualstylegan import DualStyleGAN, PSPEncoder, DualStyleGANStylizer

def build(size=1024):
    "Full-size DualStyleGAN and pSp encoder (no decoder: not needed to stylise) with random weights, and one random style code"
    torch.manual_seed(0)
    G, E = DualStyleGAN(size), PSPEncoder(size, space='w+', decoder=False)
    E.latent_avg = torch.randn(G.n_latent, 512)*0.1
    return G, E, {'random.jpg': np.random.default_rng(0).standard_normal((1, G.n_latent, 512)).astype(np.float32)}

def sync(device):
    if torch.device(device).type == 'cuda': torch.cuda.synchronize()

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--images', type=int, default=1, help='avatars to time')
    ap.add_argument('--bs', type=int, default=None, help='batch size (default: the stylizer default)')
    ap.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    ap.add_argument('--precision', default='auto', help="'auto' (fp16 on CUDA), 'fp32', 'fp16', 'bf16'")
    ap.add_argument('--warmup', type=int, default=0, help='untimed warm-up batches')
    ap.add_argument('--size', type=int, default=1024, help='generator resolution')
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    ap.add_argument('--write-card', action='store_true', help="store the figures on the dualstylegan card ('benchmark')")
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    t0 = time.time()
    G, E, codes = build(a.size)
    st = DualStyleGANStylizer(G, E, codes, 'random:0', 0.225, 0.1, align='none', device=a.device, precision=a.precision, bs=a.bs)
    build_s = time.time() - t0
    rng = np.random.default_rng(0)
    imgs = [Image.fromarray(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)) for _ in range(a.images)]
    for _ in range(a.warmup): st(imgs[:st.bs], list(range(min(st.bs, len(imgs)))))
    # encode and generate timed separately on one batch, then the whole call end to end
    x = st.content(imgs[:st.bs]); sync(a.device)
    t = time.time(); codes_ = st.codes(x); sync(a.device); enc = (time.time() - t)/len(x)
    t = time.time(); st.generate(*codes_, list(range(len(x)))); sync(a.device); gen = (time.time() - t)/len(x)
    t = time.time(); out = st(imgs, list(range(len(imgs)))); sync(a.device); total = time.time() - t
    assert len(out) == len(imgs) and out[0].size == (a.size, a.size)
    res = dict(device=str(st.device), gpu=torch.cuda.get_device_name() if st.device.type == 'cuda' else None,
               cpu=platform.processor() or platform.machine(), threads=torch.get_num_threads(), precision=a.precision,
               size=a.size, images=a.images, bs=st.bs, build_s=round(build_s, 1),
               encode_s_per_image=round(enc, 3), generate_s_per_image=round(gen, 3), s_per_image=round(total/len(imgs), 3),
               hours_for_15k=round(total/len(imgs)*15000/3600, 1))
    print(json.dumps(res))
    if a.write_card: update_card('dualstylegan', benchmark=dict(res, command=command_line('bench/dualstylegan.py', argv)))
    return res

if __name__ == '__main__': main()
