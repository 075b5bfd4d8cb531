"""Faces on stylised images (issue 30): which path an avatar reader should read cartoon and anime faces through. Three paths:
MTCNN with the reader's crop rule, YuNet's five-point alignment (chapter 00b's `FaceAligner`) and the whole image; where a
detector finds no face, the whole image is read. Sets: the avatars of taiwan_faces' valid photos in every style, anime_danbooru
crops (labels from search tags, many wrong) and Tom & Jerry stills (never trained on). Per set and path: the share where a face
was found, images/s, and each reader's scores (argmax over the set's classes; every image gets an answer). The path is chosen
for the last reader on the valid avatars and the anime crops (mean balanced accuracy); Tom & Jerry is reported, not chosen on.

    python bench/avatar_faces.py --write-card      # the avatar_styles card's face_detectors section
"""
import argparse, time
import numpy as np
import pandas as pd
from avatar_anomaly.data import EMOTIONS, as_pil, dataset_path, read_dataset, usable_rows
from avatar_anomaly.weights import update_card, command_line
from avatar_anomaly.avatars import avatar_styles
from avatar_anomaly.finetune import style_avatars
from avatar_anomaly.predict import EmotionPredictor, PHOTO_NETWORK

PATHS = {'mtcnn': {}, 'yunet': dict(crop={'align': 'yunet5'}, detect=False), 'whole': dict(detect=False)}   # EmotionPredictor arguments
CHOICE_SETS = ('valid avatars', 'anime_danbooru')   # what the path is chosen on (Tom & Jerry is never chosen on)

def image_sets(n_anime:int) -> dict:
    "`{name: (labels, PIL images)}`: taiwan_faces valid avatars per style, a label-stratified anime_danbooru sample, Tom & Jerry whole"
    valid = usable_rows(read_dataset(dataset_path('taiwan_faces')), ['valid'])
    sets = {f'taiwan valid {s}': style_avatars(valid, s) for s in avatar_styles()}
    anime = usable_rows(read_dataset(dataset_path('anime_danbooru')))
    sets['anime_danbooru'] = anime.groupby('label').sample(min(n_anime//7, anime.label.value_counts().min()), random_state=0)
    sets['cartoon_tomjerry'] = usable_rows(read_dataset(dataset_path('cartoon_tomjerry')))
    return {k: (list(t.label), [as_pil(p) for p in t.path]) for k, t in sets.items()}

def scores(probs:np.ndarray, labels:list) -> dict:
    "Accuracy and balanced accuracy with the argmax over the emotions that occur in `labels`"
    classes = sorted(set(labels), key=EMOTIONS.index)
    keep = np.array([EMOTIONS.index(c) for c in classes])
    pred, y = keep[probs[:, keep].argmax(1)], np.array([EMOTIONS.index(l) for l in labels])
    recall = [float((pred[y == k] == k).mean()) for k in keep]
    return dict(accuracy=round(float((pred == y).mean()), 4), balanced_accuracy=round(float(np.mean(recall)), 4))

def measure(models:list, sets:dict) -> list:
    "One row per set, path and model: n, share of faces found, images/s, scores"
    rows = []
    for path, kw in PATHS.items():
        for m in models:
            pred = EmotionPredictor(m, device='cpu', **kw)
            for name, (labels, ims) in sets.items():
                t0 = time.time(); res = pred.predict_images(ims); secs = time.time() - t0
                probs = np.stack([r.probs if r.ok else np.zeros(len(EMOTIONS)) for r in res])
                found = np.mean([r.ok and r.note is None for r in res]) if path != 'whole' else 0.
                rows.append(dict(set=name, path=path, model=str(m), n=len(ims), face_found=round(float(found), 3),
                                 images_per_s=round(len(ims)/secs, 1), **scores(probs, labels)))
                print(rows[-1], flush=True)
    return rows

def choose(rows:pd.DataFrame, model:str) -> dict:
    "The path with the best mean balanced accuracy of `model` on the valid avatars (all styles as one mean) and the anime crops"
    r = rows[rows.model == model].assign(kind=lambda d: np.where(d.set.str.startswith('taiwan valid'), 'valid avatars', d.set))
    means = r[r.kind.isin(CHOICE_SETS)].groupby(['path', 'kind']).balanced_accuracy.mean().unstack().mean(1)
    return dict(path=means.idxmax(), model=model, mean_balanced_accuracy={k: round(float(v), 4) for k, v in means.items()},
                how=f"the best mean balanced accuracy of {model} over {' and '.join(CHOICE_SETS)} (each style's valid avatars averaged first); Tom & Jerry is not chosen on")

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--models', nargs='+', default=[PHOTO_NETWORK, 'avatars_dan_fernet_s'], help='readers; the path is chosen for the last')
    ap.add_argument('--anime', type=int, default=700, help='anime_danbooru images, label-stratified (all: 2800)')
    ap.add_argument('--write-card', action='store_true')
    a = ap.parse_args(argv)
    rows = pd.DataFrame(measure(a.models, image_sets(a.anime)))
    print(rows.pivot_table(index=['set', 'path'], columns='model', values='balanced_accuracy').to_string())
    chosen = choose(rows, str(a.models[-1]))
    print(chosen)
    if a.write_card:
        update_card('avatar_styles', face_detectors=dict(rows=rows.to_dict('records'), chosen=chosen, seed=0,
                                                        command=command_line('bench/avatar_faces.py', argv)))

if __name__ == '__main__': main()
