"""The same sample read by two checkouts of the package: do a refactor's readings, scores and verdicts stay the same?

    python bench/compare_versions.py pairs /tmp/cmp                       # toon avatars of a FER2013/taiwan_faces sample, and their pairs
    PYTHONPATH=OLD_CHECKOUT python bench/compare_versions.py dump /tmp/cmp/old.npz /tmp/cmp/pairs.tsv
    PYTHONPATH=NEW_CHECKOUT python bench/compare_versions.py dump /tmp/cmp/new.npz /tmp/cmp/pairs.tsv
    python bench/compare_versions.py compare /tmp/cmp/old.npz /tmp/cmp/new.npz

`dump` runs from whichever package `PYTHONPATH` puts first (run it outside the checkout, or the working folder wins): the photo
and avatar readers on taiwan_faces valid, london_faces test and 60 FER2013 test crops per emotion, and each shipped detector on
the pairs. Versions before stage three returned dicts of rounded probabilities; `dump` reads both forms.
"""
import argparse
from pathlib import Path
import numpy as np

def make_pairs(out:Path):
    "Toon avatars (the toon card's settings) of 30 FER2013 test photos per emotion and 40 taiwan_faces test photos, and a pairs file"
    from avatar_anomaly.data import read_dataset, dataset_path, usable_rows
    from avatar_anomaly.avatars import dataset_avatars, make_stylizer, anomaly_pairs
    fer = usable_rows(read_dataset(dataset_path('fer2013')), ['test']).groupby('label').head(30)
    av = dataset_avatars(fer, make_stylizer('toon'), splits=['test'], out_dir=out/'toon', progress=False)
    tw = usable_rows(read_dataset(dataset_path('taiwan_faces')), ['test']).head(40)
    av2 = dataset_avatars(tw, make_stylizer('toon'), splits=['test'], out_dir=out/'toon_tw', progress=False)
    p = anomaly_pairs(av)
    rows = ([f"{r}\t{a}" for r, a in zip(p.real, p.avatar)] + [f"{r}\t{a}" for r, a in zip(av2.photo, av2.path)]
            + [f"{r}\t{a}" for r, a in zip(av2.photo, np.roll(av2.path.to_numpy(), 7))])   # own avatars, then another photo's
    (out/'pairs.tsv').write_text('\n'.join(rows))
    print(f"{len(rows)} pairs in {out/'pairs.tsv'}")

def probs_of(results) -> np.ndarray:
    "(N, 7) probabilities of reader results, NaN rows where there is no reading (a `Reading`, or an older version's dict)"
    from avatar_anomaly.data import EMOTIONS
    def one(r):
        if isinstance(r, dict): return np.array([r['probs'][e] for e in EMOTIONS]) if r['probs'] else None
        return r.probs if r.error is None else None
    return np.stack([p if (p := one(r)) is not None else np.full(len(EMOTIONS), np.nan) for r in results])

def dump(out:Path, pairs_file:Path):
    "Readings and detector scores of the sample, by the package on `PYTHONPATH`"
    from avatar_anomaly.data import read_dataset, dataset_path, usable_rows
    from avatar_anomaly.predict import EmotionPredictor
    from avatar_anomaly.check import AnomalyChecker
    sets = {s: usable_rows(read_dataset(dataset_path(d)), [split]).path.tolist()
            for s, d, split in (('taiwan_valid', 'taiwan_faces', 'valid'), ('london_test', 'london_faces', 'test'))}
    crops = usable_rows(read_dataset(dataset_path('fer2013')), ['test']).groupby('label').head(60).path.tolist()
    res = {}
    for model in ('photos_dan_fernet_s', 'avatars_dan_fernet_s'):
        pred = EmotionPredictor(model, device='cpu')
        for k, files in sets.items(): res[f'{model}/{k}'] = probs_of(pred.predict_files(files, progress=False))
        res[f'{model}/fer2013_test_crops'] = probs_of(EmotionPredictor(model, detect=False, device='cpu').predict_files(crops, progress=False))
    pairs = [tuple(l.split('\t')) for l in pairs_file.read_text().splitlines()]
    for det in ('label-compare', 'siamese-v1', 'siamese-v2'):
        rs = AnomalyChecker(detector=det, device='cpu').check_files(pairs, progress=False)
        res[f'{det}/score'] = np.array([np.nan if r.score is None else r.score for r in rs])
        res[f'{det}/anomaly'] = np.array([bool(r.anomaly) for r in rs])
    np.savez(out, **res)
    print('wrote', out)

def compare(a:Path, b:Path):
    "Per array: the largest difference, and how many top emotions or verdicts differ"
    x, y = np.load(a), np.load(b)
    for k in x.files:
        if x[k].dtype == bool: print(f"{k}: {int((x[k] != y[k]).sum())} of {len(x[k])} verdicts differ"); continue
        same_rows = bool((np.isnan(x[k]) == np.isnan(y[k])).all())
        line = f"{k}: same unread rows {same_rows}, max |diff| {np.nanmax(np.abs(x[k] - y[k])):.2e}"
        if x[k].ndim == 2:
            ok = ~np.isnan(x[k][:, 0])
            line += f", top emotion differs on {int((x[k][ok].argmax(1) != y[k][ok].argmax(1)).sum())} of {int(ok.sum())}"
        print(line)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    sub.add_parser('pairs').add_argument('out', type=Path)
    d = sub.add_parser('dump'); d.add_argument('out', type=Path); d.add_argument('pairs', type=Path)
    c = sub.add_parser('compare'); c.add_argument('a', type=Path); c.add_argument('b', type=Path)
    a = ap.parse_args(argv)
    if a.cmd == 'pairs': a.out.mkdir(parents=True, exist_ok=True); make_pairs(a.out)
    elif a.cmd == 'dump': dump(a.out, a.pairs)
    else: compare(a.a, a.b)

if __name__ == '__main__': main()
