"""FER2013 figures of a real-face model, through `avatar-anomaly predict --json`: accuracy, balanced accuracy, macro-F1 and
per-class recall against the folder labels, accuracy against the FER+ majority labels, and batched inference speed.

    python bench/fer2013.py                       # the shipped model, test split, with and without flip TTA
    python bench/fer2013.py --split valid --model runs/my_model
    python bench/fer2013.py --write-card          # store the test figures in the model card
"""
import argparse, json, subprocess, time
from pathlib import Path
import numpy as np
import torch
from avatar_anomaly.data import EMOTIONS, dataset_path, read_fer2013_folders, as_pil
from avatar_anomaly.weights import read_card, update_card, command_line
from avatar_anomaly.backbones import Evaluation
from avatar_anomaly.predict import DEFAULT_MODEL, EmotionPredictor

def predict_json(folder, model, tta):
    "Results of `avatar-anomaly predict --json --crops` on `folder`, and the wall time"
    cmd = ['avatar-anomaly', 'predict', str(folder), '--json', '--crops', '--model', str(model)] + (['--tta'] if tta else [])
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode not in (0, 2): raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")   # 2: some images failed (counted)
    out = proc.stdout
    return [json.loads(l) for l in out.splitlines()], time.time() - t0

def score(results, table, label_col):
    "`Evaluation` of the predict results against `table[label_col]` (rows without that label left out)"
    labels = dict(zip(table.path, table[label_col]))
    ok = [r for r in results if r['error'] is None and labels.get(r['path']) is not None]
    probs = np.array([[r['probs'][e] for e in EMOTIONS] for r in ok])
    return Evaluation(probs, np.array([EMOTIONS.index(labels[r['path']]) for r in ok]), [r['path'] for r in ok])

def crops_per_second(model, paths, bs=256, repeats=3):
    "Batched inference speed on face crops already in memory (face detection skipped, as for crops)"
    pred = EmotionPredictor(model, detect=False, bs=bs)
    crops = [as_pil(p) for p in paths[:bs]]
    pred.predict_images(crops)  # warm-up
    t0 = time.time()
    for _ in range(repeats): pred.predict_images(crops)
    return len(crops)*repeats/(time.time() - t0)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', default=DEFAULT_MODEL); ap.add_argument('--split', default='test')
    ap.add_argument('--data', type=Path, default=None, help='FER2013 folder (default: dataset_path("fer2013"))')
    ap.add_argument('--write-card', action='store_true', help="store the figures under 'metrics' in the model card")
    a = ap.parse_args(argv)
    root = a.data or dataset_path('fer2013')
    table = read_fer2013_folders(root)
    table = table[table.split == a.split]
    figures = {}
    for tta in (False, True):
        results, secs = predict_json(root/a.split, a.model, tta)
        errors = [r for r in results if r['error']]
        folder, ferplus = score(results, table, 'label').metrics(), score(results, table, 'ferplus_label').metrics()
        key = 'flip_tta' if tta else 'plain'
        figures[key] = dict(images=len(results), errors=len(errors), accuracy=folder['accuracy'],
                            balanced_accuracy=folder['balanced_accuracy'], macro_f1=folder['macro_f1'], recall=folder['recall'],
                            ferplus_images=ferplus['n'], ferplus_accuracy=ferplus['accuracy'],
                            predict_cli_images_per_s=round(len(results)/secs, 1))
        print(f"{a.split} ({key}): accuracy {folder['accuracy']:.4f}, balanced accuracy {folder['balanced_accuracy']:.4f}, "
              f"macro-F1 {folder['macro_f1']:.4f}, FER+ majority accuracy {ferplus['accuracy']:.4f} on {ferplus['n']} images; "
              f"{len(results)} images, {len(errors)} errors, `avatar-anomaly predict` {len(results)/secs:.0f} images/s end to end")
        print('  recall: ' + ', '.join(f"{e} {r:.3f}" for e, r in folder['recall'].items()))
    figures['crops_per_s'] = round(crops_per_second(a.model, list(table.path)), 1)
    print(f"batched inference: {figures['crops_per_s']:.0f} face crops/s ({torch.get_num_threads()} threads)")
    card = read_card(a.model)
    tr = card.get('training', {})
    if tr.get('minutes'):
        figures['train_images_per_s'] = round(tr['train_images']*tr['epochs']/(tr['minutes']*60), 1)
        print(f"training: {figures['train_images_per_s']:.0f} images/s over {tr['epochs']} epochs ({tr['minutes']} min)")
    if a.write_card:
        update_card(a.model, metrics={**card.get('metrics', {}), f'fer2013_{a.split}': dict(
            figures, command=command_line('bench/fer2013.py', argv))})
    return figures

if __name__ == '__main__': main()
