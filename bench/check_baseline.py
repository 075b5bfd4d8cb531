"""The label-compare baseline on FER2013 (real face, toon avatar) pairs: threshold chosen on valid, reported once on test.

    python bench/check_baseline.py               # writes bench/results/check_baseline.json
    python bench/check_baseline.py --generator whitebox --checkpoint whitebox_cartoon_gan_fp16.tflite \
        --out bench/results/check_baseline_whitebox.json   # the same on white-box cartoon avatars
"""
import argparse, json, time
from pathlib import Path
from avatar_anomaly.data import dataset_path, read_dataset
from avatar_anomaly.backbones import DEFAULT_MODEL
from avatar_anomaly.toon import TOON_DEFAULT, make_stylizer
from avatar_anomaly.avatars import dataset_avatars, anomaly_pairs
from avatar_anomaly.check import AnomalyChecker, pair_scores, choose_threshold, pair_metrics

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', default=None, help='real-face (and avatar) model; default: the shipped one')
    ap.add_argument('--tta', action='store_true')
    ap.add_argument('--generator', default='toon', help='avatar generator (toon at TOON_DEFAULT, whitebox, dualstylegan)')
    ap.add_argument('--checkpoint', default=None, help='whitebox/dualstylegan checkpoint')
    ap.add_argument('--out', type=Path, default=Path(__file__).parent/'results'/'check_baseline.json')
    a = ap.parse_args(argv)
    t0 = time.time()
    st = make_stylizer(a.generator, **(TOON_DEFAULT if a.generator == 'toon' else {}), checkpoint=a.checkpoint)
    av = dataset_avatars(read_dataset(dataset_path('fer2013')), st, splits=['valid', 'test'])
    pairs = anomaly_pairs(av)
    checker = AnomalyChecker(**({'real_model': a.model} if a.model else {}), tta=a.tta, detect=False)
    scored = pair_scores(checker, pairs)
    v, t = scored[scored.split == 'valid'], scored[scored.split == 'test']
    thr = round(choose_threshold(v.score, v.anomaly), 4)
    res = dict(model=a.model or DEFAULT_MODEL, tta=a.tta, avatars=dict(generator=st.name, **st.settings),
               pairs={s: int((scored.split == s).sum()) for s in ('valid', 'test')},
               valid=pair_metrics(v, thr), test=pair_metrics(t, thr), seconds=round(time.time() - t0))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))

if __name__ == '__main__': main()
