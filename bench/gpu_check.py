"""GPU check: mixed-precision training steps of each study preset (Table 2 at 384 px, the Table 3 DANs at --dan-size), with images/s and peak GPU memory.

On a CUDA machine:  python bench/gpu_check.py --out bench/results/gpu_check.json
Tiny CPU setting (what the tests run):  python bench/gpu_check.py --steps 3 --warmup 1 --size 32 --bs 2 --presets fernet_s
Synthetic inputs: this measures the Learner (model, loss, optimiser, precision), not image decoding.
"""
import argparse, json, platform, time
from pathlib import Path
import torch
from fastai.data.core import DataLoaders
from fastai.callback.core import Callback, CancelFitException
from avatar_anomaly.backbones import PRESETS, create_model
from avatar_anomaly.train import RECIPES, STUDY_TABLE2, emotion_learner
from avatar_anomaly.data import EMOTIONS
from avatar_anomaly.dan import create_dan
from avatar_anomaly.train import DAN_PRESETS, STUDY_TABLE3, DAN_RECIPES, dan_learner

class StepTimer(Callback):
    "Times training steps after `warmup` steps and stops after `steps`"
    def __init__(self, steps, warmup): self.steps, self.warmup = steps, warmup
    def _sync(self):
        if torch.cuda.is_available(): torch.cuda.synchronize()
    def after_batch(self):
        if self.iter + 1 == self.warmup: self._sync(); self.t0 = time.time()
        if self.iter + 1 == self.warmup + self.steps:
            self._sync(); self.seconds = time.time() - self.t0
            raise CancelFitException

def synthetic_dls(n, size, channels, bs, device):
    "DataLoaders of random normalised images and labels"
    ds = list(zip(torch.randn(n, channels, size, size), torch.randint(0, len(EMOTIONS), (n,))))
    dls = DataLoaders.from_dsets(ds, ds[:bs], bs=bs, device=device, drop_last=True)
    dls.vocab = list(EMOTIONS)
    return dls

def learner(preset, size, bs, steps, warmup, device):
    "`(Learner, arch, lr)` of an emotion-classifier preset or a DAN preset on synthetic data"
    if preset in DAN_PRESETS:
        p = DAN_PRESETS[preset]
        dls = synthetic_dls(bs*(steps + warmup), size, p.in_chans, bs, device)
        return dan_learner(dls, create_dan(p.backbone, num_head=p.num_head, in_chans=p.in_chans), p.recipe), p.backbone, DAN_RECIPES[p.recipe].lr
    p = PRESETS[preset]
    dls = synthetic_dls(bs*(steps + warmup), size, p.channels, bs, device)
    return emotion_learner(dls, create_model(preset, pretrained=False), p.recipe), p.arch, RECIPES[p.recipe].lr

def check(preset, size, bs, steps, warmup, device):
    "images/s and peak memory of `steps` training steps of `preset`"
    learn, arch, lr = learner(preset, size, bs, steps, warmup, device)
    timer = StepTimer(steps, warmup)
    if torch.cuda.is_available(): torch.cuda.reset_peak_memory_stats()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, lr, cbs=timer)
    precision = next((type(cb).__name__ for cb in learn.cbs if type(cb).__name__ in ('MixedPrecision', 'CPUAutocast')), 'fp32')
    if precision == 'MixedPrecision': precision = 'bf16' if learn.mixed_precision.amp_mode.name == 'BF16' else 'fp16'
    return dict(preset=preset, arch=arch, size=size, bs=bs, steps=steps, precision=precision,
                images_per_s=round(bs*steps/timer.seconds, 1),
                peak_gib=round(torch.cuda.max_memory_allocated()/2**30, 2) if torch.cuda.is_available() else None)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--presets', nargs='+', default=sorted(set(STUDY_TABLE2.preset)) + list(STUDY_TABLE3.preset),
                    help='PRESETS or DAN_PRESETS names')
    ap.add_argument('--dan-size', type=int, default=224, help='input size of the DAN presets')
    ap.add_argument('--size', type=int, default=384); ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--steps', type=int, default=200); ap.add_argument('--warmup', type=int, default=20)
    ap.add_argument('--out', type=Path, default=None, help='write the results as JSON here')
    a = ap.parse_args(argv)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    rows = [check(p, a.dan_size if p in DAN_PRESETS else a.size, a.bs, a.steps, a.warmup, device) for p in a.presets]
    res = dict(device=torch.cuda.get_device_name() if device == 'cuda' else platform.processor() or 'cpu',
               torch=torch.__version__, results=rows)
    for r in rows: print(json.dumps(r))
    if a.out: a.out.parent.mkdir(parents=True, exist_ok=True); a.out.write_text(json.dumps(res, indent=2))
    return res

if __name__ == '__main__': main()
