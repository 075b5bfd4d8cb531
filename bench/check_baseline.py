"""The label-compare baseline on FER2013 (real face, toon avatar) pairs: threshold chosen on valid, reported once on test.

    python bench/check_baseline.py               # writes bench/results/check_baseline.json
    python bench/check_baseline.py --generator whitebox --checkpoint whitebox_cartoon_gan_fp16.tflite \
        --out bench/results/check_baseline_whitebox.json   # the same on white-box cartoon avatars
"""
import argparse, json, time
from pathlib import Path
from avatar_anomaly.data import dataset_path, read_dataset
from avatar_anomaly.backbones import DEFAULT_MODEL
from avatar_anomaly.toon import make_stylizer
from avatar_anomaly.check import AnomalyChecker, pairs_benchmark

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', default=None, help='real-face (and avatar) model; default: the shipped one')
    ap.add_argument('--tta', action='store_true')
    ap.add_argument('--generator', default='toon', help='avatar generator (toon at TOON_DEFAULT, whitebox, dualstylegan)')
    ap.add_argument('--checkpoint', default=None, help='whitebox/dualstylegan checkpoint')
    ap.add_argument('--out', type=Path, default=Path(__file__).parent/'results'/'check_baseline.json')
    a = ap.parse_args(argv)
    t0 = time.time()
    st = make_stylizer(a.generator, checkpoint=a.checkpoint)   # the toon at TOON_DEFAULT by default
    checker = AnomalyChecker(a.model or DEFAULT_MODEL, tta=a.tta, detect=False)
    res = pairs_benchmark(read_dataset(dataset_path('fer2013')), checker, st)
    res = dict(model=a.model or DEFAULT_MODEL, tta=a.tta, avatars=dict(generator=st.name, **st.settings), **res,
               seconds=round(time.time() - t0))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))

if __name__ == '__main__': main()
