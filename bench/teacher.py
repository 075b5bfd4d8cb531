"""The teacher (OpenCV Zoo RAF-DB model, chapter 02c) on the project's training images: which input it reads FER2013's 48-px
gray crops best through (aligned on YuNet's landmarks after upscaling, or the crop resized whole), measured on FER2013 valid;
then its readings of every training image (FER2013 train/valid, taiwan_faces train/valid, anime_danbooru) cached for training,
with how many faces it found and how fast. With `--write-card` the figures go on `avatar_anomaly/cards/teacher.json`.

    python bench/teacher.py --write-card
"""
import argparse, time
import cv2
import numpy as np
import pandas as pd
from avatar_anomaly.data import EMOTIONS, dataset_path, read_dataset, usable_rows, load_image
from avatar_anomaly.weights import CARDS_DIR, write_card, command_line
from avatar_anomaly.targets import Teacher, teacher_readings, softmax
from avatar_anomaly.dls import TEACHER_COLUMNS

TRAINING_SETS = [('fer2013', ['train', 'valid']), ('taiwan_faces', ['train', 'valid']), ('anime_danbooru', ['train'])]

def scores(probs:np.ndarray, labels:pd.Series) -> dict:
    "Accuracy and balanced accuracy of `probs` (rows in `EMOTIONS` order) against `labels`"
    y, pred = labels.map(EMOTIONS.index).to_numpy(), probs.argmax(1)
    recall = [float((pred[y == k] == k).mean()) for k in range(len(EMOTIONS)) if (y == k).any()]
    return dict(n=len(y), accuracy=round(float((pred == y).mean()), 4), balanced_accuracy=round(float(np.mean(recall)), 4))

def fer2013_inputs(teacher:Teacher) -> dict:
    "The teacher on FER2013 valid: aligned (upscaled, YuNet landmarks) against the crop resized whole to 112 px"
    t = usable_rows(read_dataset(dataset_path('fer2013')), ['valid'])
    imgs = [load_image(p) for p in t.path]
    t0 = time.time(); aligned = [teacher.align(im) for im in imgs]; secs = time.time() - t0
    res = {'aligned': np.stack([softmax(teacher.logits(f)) for f, _ in aligned]),
           'resized': np.stack([softmax(teacher.logits(cv2.resize(im, (112, 112), interpolation=cv2.INTER_CUBIC))) for im in imgs])}
    out = {k: scores(v, t.label) for k, v in res.items()}
    out['aligned'].update(faces_found=int(sum(ok for _, ok in aligned)), aligns_per_s=round(len(imgs)/secs, 1))
    return out

def cache_training_sets(teacher:Teacher) -> dict:
    "Read (or find cached) every training image; per set: images, faces found, unreadable, seconds"
    figures = {}
    for name, splits in TRAINING_SETS:
        t = usable_rows(read_dataset(dataset_path(name)), splits)
        t0 = time.time(); read, report = teacher_readings(list(t.path), teacher)
        figures[name] = dict(splits=splits, images=len(t), faces_found=int(read.teacher_face.sum()), unreadable=len(report),
                             seconds=round(time.time() - t0, 1),
                             **({'labelled': scores(softmax(read[TEACHER_COLUMNS].to_numpy()), t.label)} if name != 'anime_danbooru' else {}))
        print(name, figures[name], flush=True)
    return figures

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--write-card', action='store_true')
    a = ap.parse_args(argv)
    teacher = Teacher()
    inputs = fer2013_inputs(teacher)
    print(pd.DataFrame(inputs).T.to_string(), flush=True)
    sets = cache_training_sets(teacher)
    if a.write_card:
        write_card(CARDS_DIR/'teacher.json', dict(teacher=teacher.card, fer2013_input=inputs, training_sets=sets,
                                                  reproduce=command_line('bench/teacher.py', argv)))

if __name__ == '__main__': main()
