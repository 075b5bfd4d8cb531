"""Why the photo readers fall short of the OpenCV Zoo peer on london_faces (neutral and smiling studio photos), measured in one
run: the peer fed what our readers see (gray, 48 px), our readers fed the peer's aligned faces, our readers with per-class logit
biases fitted on taiwan_faces valid, and how well our readers rank smiles above neutral faces at all (ROC-AUC, best cut). With `--write-card` the figures go on each model's card
(`metrics.london_gap`).

    python bench/smile_gap.py --models photos_dan_fernet_s avatar_anomaly/models/photos_dan_fernet_s_votes --write-card
"""
import json, sys
from pathlib import Path
import cv2
import numpy as np
import torch
from PIL import Image
from avatar_anomaly.data import EMOTIONS, dataset_path, read_dataset, usable_rows, load_image
from avatar_anomaly.weights import read_card, update_card, command_line
from avatar_anomaly.backbones import Evaluation
from avatar_anomaly.predict import DEFAULT_MODEL, EmotionPredictor, probs_matrix
sys.path.insert(0, str(Path(__file__).parent))
from readers import figures, models_and_peer

PEER_VIEWS = {'as published (112 px colour)': (None, False), '112 px gray': (None, True), '48 px colour': (48, False),
              '48 px gray (what our readers see)': (48, True)}   # name → (side it is shrunk to and grown back from, gray)

def table_of(ds:str, split:str):
    t = usable_rows(read_dataset(dataset_path(ds)), [split]).reset_index(drop=True)
    return t, t.label.map(EMOTIONS.index).to_numpy()

def degrade(face:np.ndarray, side:int|None, gray:bool) -> np.ndarray:
    "The peer's 112×112 RGB face in gray and/or shrunk to `side` (area) and grown back (cubic)"
    if gray: face = np.repeat(cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)[..., None], 3, 2)
    if side: face = cv2.resize(cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA), (112, 112), interpolation=cv2.INTER_CUBIC)
    return face

def reader_probs(model:str, images:list, detect:bool|None) -> np.ndarray:
    "(N, 7) probabilities of a project reader on PIL images or files (no face: zeros)"
    pred = EmotionPredictor(model, detect=detect, device='cpu')
    res = pred.predict_files(images, progress=False) if isinstance(images[0], str) else pred.predict_images(images)
    return probs_matrix(res)

def fit_biases(probs:np.ndarray, y:np.ndarray) -> np.ndarray:
    "Per-class logit biases (mean 0) that minimise the class-balanced cross-entropy of `probs` on labels `y`"
    logits, target = torch.tensor(np.log(probs + 1e-7)), torch.tensor(y)
    w = torch.tensor(1/np.maximum(np.bincount(y, minlength=len(EMOTIONS)), 1), dtype=torch.float64)
    b = torch.zeros(len(EMOTIONS), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([b], max_iter=200)
    def loss():
        opt.zero_grad(); l = torch.nn.functional.cross_entropy(logits + b, target, weight=w); l.backward(); return l
    opt.step(loss)
    return (b - b.mean()).detach().numpy()

def scored(probs:np.ndarray, y:np.ndarray, bias=0.) -> dict:
    "`figures` of probabilities (their logits shifted by `bias`)"
    z = np.log(probs + 1e-7) + bias
    shifted = np.exp(z - z.max(1, keepdims=True))
    return figures(Evaluation(shifted/shifted.sum(1, keepdims=True), y, [''] * len(y)))

def smile_ranking(probs:np.ndarray, y:np.ndarray) -> dict:
    "How well log p(happiness) − log p(neutral) ranks smiles above neutral faces: ROC-AUC, and the accuracy of its best cut (chosen on these very labels: an upper bound for any threshold, not a result)"
    from sklearn.metrics import roc_auc_score
    h, n = EMOTIONS.index('happiness'), EMOTIONS.index('neutral')
    s, smiling = np.log(probs[:, h] + 1e-7) - np.log(probs[:, n] + 1e-7), y == h
    return dict(roc_auc=round(float(roc_auc_score(smiling, s)), 4),
                best_cut_accuracy=round(float(max(((s > c) == smiling).mean() for c in np.unique(s))), 4))

def main(argv=None):
    a, peer = models_and_peer(__doc__, argv)
    london, y_london = table_of('london_faces', 'test')
    tw_valid, y_valid = table_of('taiwan_faces', 'valid')
    tw_test, y_test = table_of('taiwan_faces', 'test')
    aligned = {n: [peer.face(load_image(p))[0] for p in t.path] for n, t in (('london', london), ('taiwan_valid', tw_valid))}
    peer_views = {name: scored(np.stack([peer.probs(degrade(f, *view)) for f in aligned['london']]), y_london)
                  for name, view in PEER_VIEWS.items()}
    out = {}
    for m in a.models:
        own = {n: reader_probs(m, list(t.path), None) for n, t in (('london', london), ('taiwan_valid', tw_valid), ('taiwan_test', tw_test))}
        on_aligned = {n: reader_probs(m, [Image.fromarray(f) for f in faces], False) for n, faces in aligned.items()}
        pred = own['london'].argmax(1)
        happy_misses = {EMOTIONS[k]: int(v) for k, v in enumerate(np.bincount(pred[y_london == EMOTIONS.index('happiness')], minlength=7))
                        if v and k != EMOTIONS.index('happiness')}
        bias = fit_biases(own['taiwan_valid'], y_valid)
        out[m] = dict(
            smiles_read_as=happy_misses,
            smile_ranking=smile_ranking(own['london'], y_london),
            own_crop=dict(london_faces_test=scored(own['london'], y_london), taiwan_faces_valid=scored(own['taiwan_valid'], y_valid)),
            peer_aligned_crop=dict(london_faces_test=scored(on_aligned['london'], y_london),
                                   taiwan_faces_valid=scored(on_aligned['taiwan_valid'], y_valid)),
            taiwan_valid_biases=dict(biases={e: round(float(v), 3) for e, v in zip(EMOTIONS, bias)},
                                     london_faces_test=scored(own['london'], y_london, bias),
                                     taiwan_faces_test=scored(own['taiwan_test'], y_test, bias),
                                     taiwan_faces_test_without=scored(own['taiwan_test'], y_test)),
            peer_views=peer_views,
            command=command_line('bench/smile_gap.py', argv))
        print(json.dumps({m: out[m]}, indent=1), flush=True)
    if a.write_card:
        for m, res in out.items(): update_card(m, metrics={**read_card(m).get('metrics', {}), 'london_gap': res})
    return out

if __name__ == '__main__': main()
