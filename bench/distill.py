"""Soft-target ablation of the photo reader (chapter 02c): the same short training (`bench/train_reader.py --epochs N --fraction F`) with the
RAF-DB teacher's share 0 / 0.5 / 1, with and without taiwan_faces' observer ratings, with and without FER+ votes; each run scored on
the validation sets the shares are chosen on (FER2013 valid crops, taiwan_faces valid photos) and, for information only, on the
test sets of the targets (london_faces, taiwan_faces test). With `--write-card` the table and the chosen shares (the valid-best
row's) go on `avatar_anomaly/cards/soft_targets.json`. Runs already in OUT/ablation.jsonl are not trained again.

    python bench/distill.py --epochs 2 --fraction 0.25 --out ../runs/ablation --write-card
"""
import argparse, json, sys
from pathlib import Path
import pandas as pd
from avatar_anomaly.data import dataset_path, read_dataset, usable_rows
from avatar_anomaly.weights import CARDS_DIR, read_card, write_card, command_line
sys.path.insert(0, str(Path(__file__).parent))
import train_reader
from readers import ours_eval, figures

CONFIGS = {   # name: soft-target options of `train_reader.py`
    'labels': [],
    'ratings 0.5, votes 0.5': ['--ratings', '0.5', '--votes', '0.5'],
    'teacher 0.5': ['--teacher', '0.5'],
    'teacher 1': ['--teacher', '1'],
    'teacher 0.5, ratings 0.5': ['--teacher', '0.5', '--ratings', '0.5'],
    'teacher 0.5, ratings 0.5, votes 0.5': ['--teacher', '0.5', '--ratings', '0.5', '--votes', '0.5'],
    'teacher 0.5 on photos': ['--teacher', '0.5', '--teacher-on', 'photos'],
    'teacher 0.5 where it agrees': ['--teacher', '0.5', '--teacher-on', 'agree'],
}
SETS = [('fer2013', 'valid', True), ('taiwan_faces', 'valid', False), ('taiwan_faces', 'test', False), ('london_faces', 'test', False)]

def score_run(model:Path) -> dict:
    "Balanced accuracy (and FER2013's accuracy) of a trained run on each of `SETS`"
    out = {}
    for ds, split, crops in SETS:
        f = figures(ours_eval(str(model), usable_rows(read_dataset(dataset_path(ds)), [split]).reset_index(drop=True), crops)[0])
        out[f'{ds}_{split}'] = f['balanced_accuracy']
        if ds == 'fer2013': out[f'{ds}_{split}_accuracy'] = f['accuracy']
    out['valid_mean'] = round((out['fer2013_valid'] + out['taiwan_faces_valid'])/2, 4)
    return out

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--fraction', type=float, default=0.25, help="the share of FER2013's training faces each run uses")
    ap.add_argument('--out', type=Path, required=True)
    ap.add_argument('--configs', nargs='+', default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument('--write-card', action='store_true', help='write the table to the soft_targets card')
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    done = a.out/'ablation.jsonl'
    rows = [json.loads(l) for l in done.read_text().splitlines()] if done.exists() else []   # a killed run goes on where it stopped
    for name in a.configs:
        if any(r['config'] == name for r in rows): continue
        stem = a.out/name.replace(' ', '_').replace(',', '').replace('.', '')
        if not stem.with_name(stem.name + '.safetensors').exists():   # trained before the scoring stopped: score it
            train_reader.main(['--epochs', str(a.epochs), '--fraction', str(a.fraction), '--out', str(stem), *CONFIGS[name]])
        rows.append(dict(config=name, options=' '.join(CONFIGS[name]), minutes=read_card(stem)['training']['minutes'], **score_run(stem)))
        with open(done, 'a') as f: f.write(json.dumps(rows[-1]) + '\n')
        print(json.dumps(rows[-1]), flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    if a.write_card:
        best = table.loc[table.valid_mean.idxmax(), 'config']
        write_card(CARDS_DIR/'soft_targets.json', dict(
            description="Soft-target ablation of the photo reader (chapter 02c): short runs of bench/train_reader.py with each share",
            epochs=a.epochs, fraction=a.fraction, rows=rows, chosen=dict(config=best, options=CONFIGS[best]),
            rule='the highest mean of FER2013 valid and taiwan_faces valid balanced accuracy; the test columns are for information',
            command=command_line('bench/distill.py', argv)))
    return table

if __name__ == '__main__': main()
