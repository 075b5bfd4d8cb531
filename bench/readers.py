"""The project's emotion readers and a peer, the OpenCV Zoo facial-expression model (MobileFaceNet, int8, aligned with its YuNet
detector exactly as its SOURCE.md says), on the same images in one run: FER2013 test, taiwan_faces valid and test,
london_faces test and cartoon_tomjerry. Accuracy, balanced accuracy, macro-F1 and per-class recall, crops/s and images/s end to
end for each, the ratio ours/peer, and the plain average of each model's and the peer's probabilities; with `--write-card` the figures go on each project model's card (`metrics.readers`).
The peer is also the teacher of chapter 02c: a row of a model that learned from it says so (`learned_from_peer`). Needs
onnxruntime (OpenCV 5's dnn misreads the int8 file).

    python bench/readers.py --models fer2013_dan_fernet_s photos_dan_fernet_s --write-card
"""
import argparse, json, sys, time
from pathlib import Path
import cv2
import numpy as np
import pandas as pd
from avatar_anomaly.data import EMOTIONS, dataset_path, data_root, read_dataset, usable_rows, load_image
from avatar_anomaly.weights import read_card, update_card, command_line
from avatar_anomaly.backbones import Evaluation
from avatar_anomaly.predict import DEFAULT_MODEL, EmotionPredictor, probs_matrix
from avatar_anomaly.targets import Teacher, TEACHER_FILE, TEACHER_DETECTOR, softmax
sys.path.insert(0, str(Path(__file__).parent))
from fer2013 import crops_per_second   # one timing of batched inference for both bench scripts

SETS = [('fer2013', 'test', True), ('taiwan_faces', 'valid', False), ('taiwan_faces', 'test', False),
        ('london_faces', 'test', False), ('cartoon_tomjerry', 'train', True)]   # (dataset, split, the images are face crops)
class Peer(Teacher):
    "The OpenCV Zoo reader as a peer row: the project's `Teacher` (chapter 02c), read exactly as its SOURCE.md says"
    def face(self, rgb:np.ndarray) -> tuple: return self.align(rgb)
    def probs(self, face:np.ndarray) -> np.ndarray: return softmax(self.logits(face))

def peer_eval(peer:Peer, t:pd.DataFrame) -> tuple:
    "`(Evaluation, figures)` of the peer on the images of `t`"
    t0, faces = time.time(), [peer.face(load_image(p)) for p in t.path]
    t1 = time.time(); probs = np.stack([peer.probs(f) for f, _ in faces]); t2 = time.time()
    return (Evaluation(probs, t.label.map(EMOTIONS.index).to_numpy(), list(t.path)),
            dict(no_face=sum(not ok for _, ok in faces), crops_per_s=round(len(t)/(t2 - t1), 1), images_per_s=round(len(t)/(t2 - t0), 1)))

def ours_eval(model:str, t:pd.DataFrame, crops:bool) -> tuple:
    "`(Evaluation, figures)` of a project model through `EmotionPredictor` (no face: counted wrong)"
    pred = EmotionPredictor(model, detect=False if crops else None, device='cpu')
    t0 = time.time(); res = pred.predict_files(list(t.path), progress=False); secs = time.time() - t0
    probs = probs_matrix(res)
    return (Evaluation(probs, t.label.map(EMOTIONS.index).to_numpy(), list(t.path)),
            dict(no_face=sum(not r.ok for r in res), images_per_s=round(len(t)/secs, 1),
                 **({'crops_per_s': round(crops_per_second(model, list(t.path)), 1)} if crops else {})))

def learned_from_teacher(model:str) -> bool:
    "Did `model` learn from the teacher (its card's soft targets give the teacher a share; an ensemble: one of its members)?"
    card = read_card(model)
    if 'members' in card: return any(learned_from_teacher(m) for m in card['members'])
    labels = card.get('training', {}).get('labels')
    return isinstance(labels, dict) and bool(labels.get('teacher'))

def figures(ev:Evaluation) -> dict:
    m = ev.metrics()
    return dict(n=m['n'], accuracy=round(m['accuracy'], 4), balanced_accuracy=round(m['balanced_accuracy'], 4), macro_f1=round(m['macro_f1'], 4),
                recall={k: round(v, 3) for k, v in m['recall'].items()})

def models_and_peer(doc:str, argv=None) -> tuple:
    "`(arguments, Peer)` of a side-by-side bench: `--models`, `--peer` (folder of the OpenCV Zoo files), `--write-card`"
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument('--models', nargs='+', default=[DEFAULT_MODEL])
    ap.add_argument('--peer', type=Path, default=None, help='folder of the OpenCV Zoo files (default: models/opencv-zoo-fer beside the data)')
    ap.add_argument('--write-card', action='store_true')
    a = ap.parse_args(argv)
    folder = a.peer or data_root().parent/'models'/'opencv-zoo-fer'
    return a, Peer(folder/TEACHER_FILE, folder/TEACHER_DETECTOR)

def main(argv=None):
    a, peer = models_and_peer(__doc__, argv)
    rows, cards = [], {m: {} for m in a.models}
    for ds, split, crops in SETS:
        t = usable_rows(read_dataset(dataset_path(ds)), [split]).reset_index(drop=True)
        pev, extra = peer_eval(peer, t)
        p = dict(figures(pev), **extra); rows.append(dict(set=f'{ds} {split}', reader='OpenCV Zoo peer (the teacher)', **p))
        n0 = len(rows)
        for m in a.models:
            ev, extra = ours_eval(m, t, crops)
            o = dict(figures(ev), **extra)
            ratio = round(o['balanced_accuracy']/p['balanced_accuracy'], 3) if p['balanced_accuracy'] else None
            both = figures(Evaluation((ev.probs + pev.probs)/2, ev.targets, ev.paths))   # the plain average with the peer
            rows.append(dict(set=f'{ds} {split}', reader=m, **o, balanced_ratio_to_peer=ratio, learned_from_peer=learned_from_teacher(m)))
            rows.append(dict(set=f'{ds} {split}', reader=f'{m} + peer (average)', **both))
            cards[m][f'{ds}_{split}'] = dict(o, peer=p, balanced_ratio_to_peer=ratio, average_with_peer=both)
        for r in rows[n0 - 1:]:
            print(json.dumps({k: v for k, v in r.items() if k != 'recall'}), flush=True)
    table = pd.DataFrame(rows)
    print(table.drop(columns='recall').to_string(index=False))
    if a.write_card:
        for m, res in cards.items():
            update_card(m, metrics={**read_card(m).get('metrics', {}), 'readers': dict(res, command=command_line('bench/readers.py', argv))})
    return table

if __name__ == '__main__': main()
