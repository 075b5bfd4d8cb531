"""Train the photo reader: the shipped FER2013 DAN refined on FER2013 train plus taiwan_faces train (12 performers, colour
photos cropped with FER2013's own framing, oversampled), class-balanced, with framing jitter; valid = FER2013 valid +
taiwan_faces valid (other performers); the test splits are left for `bench/readers.py`. Soft targets (chapter 02c): FER+ votes,
taiwan_faces' observer ratings and the RAF-DB teacher's readings (of the whole photo, aligned; of FER2013's crops, aligned after
upscaling), each with its share.

    python bench/train_reader.py --out avatar_anomaly/models/photos_dan_fernet_s                  # FER2013's labels alone
    python bench/train_reader.py --teacher 0.5 --temperature 2 --ratings 0.5 --out runs/taught   # with the teacher and observers
    python bench/train_reader.py --votes 0.5 --out runs/photos_votes05    # half the FER+ votes, half FER2013's label
    python bench/train_reader.py --epochs 1 --fraction 0.1 --out /tmp/quick   # a quick look
"""
import argparse, sys
from pathlib import Path
import pandas as pd
from avatar_anomaly.weights import command_line
from avatar_anomaly.data import dataset_path, read_dataset, usable_rows, as_pil
from avatar_anomaly.faces import crop_table, cropper_for, calibrate_framing
from avatar_anomaly.targets import TEACHER_RULES, Teacher, teach_only, with_teacher, with_ratings
from avatar_anomaly.train import train_dan

_CROP_RULES = {}   # measured once per process (an ablation trains several readers)

def photo_crop_rule(fer:pd.DataFrame, n:int=3000, seed:int=0) -> dict:
    "The crop rule that frames photos as FER2013 frames its faces, measured on `n` FER2013 training faces"
    if (n, seed) in _CROP_RULES: return _CROP_RULES[n, seed]
    place, found = calibrate_framing([as_pil(p) for p in usable_rows(fer, ['train']).sample(n, random_state=seed).path])
    return _CROP_RULES.setdefault((n, seed), dict(detector='mtcnn', place=list(place),
                how=f"calibrate_framing on {n} FER2013 training faces (MTCNN found a face in {found}): where MTCNN's box sits in FER2013's crops"))

def training_table(fer:pd.DataFrame, photos:pd.DataFrame, crop:dict, repeat:int, fraction:float=1., seed:int=0) -> pd.DataFrame:
    "FER2013 train (a seeded `fraction` of it)/valid plus the photos' train (repeated `repeat` times) and valid splits, cropped by `crop`"
    fer = usable_rows(fer, ['train', 'valid'])
    if fraction < 1: fer = pd.concat([fer[fer.split == 'train'].sample(frac=fraction, random_state=seed), fer[fer.split == 'valid']])
    cropped = crop_table(usable_rows(photos, ['train', 'valid']), cropper_for(crop, 48, detect=True), progress=False)
    cropped = cropped[cropped.flag == '']
    return pd.concat([fer, *[cropped[cropped.split == 'train']]*repeat, cropped[cropped.split == 'valid']],
                     ignore_index=True)

def target_args(ap:argparse.ArgumentParser):
    "The soft-target options every reader-training script shares"
    ap.add_argument('--votes', type=float, default=0., help="the FER+ votes' share of a FER2013 face's people-target (soft)")
    ap.add_argument('--ratings', type=float, default=0., help="the observer ratings' share of a taiwan_faces photo's people-target")
    ap.add_argument('--teacher', type=float, default=0., help="the RAF-DB teacher's share of the loss (T²·KL at --temperature)")
    ap.add_argument('--temperature', type=float, default=2.)
    ap.add_argument('--teacher-on', choices=TEACHER_RULES, default='all', help="the rows the teacher teaches (see `teach_only`)")

def soft_targets(a, table:pd.DataFrame, ratings_folder:Path) -> tuple:
    "`(table with the columns the targets need, targets dict or None, teacher card or None)` from `target_args`' options"
    if not (a.votes or a.ratings or a.teacher): return table, None, None
    if a.ratings: table = with_ratings(table, ratings_folder)
    teacher = Teacher() if a.teacher else None
    if teacher:
        table, report = with_teacher(table, teacher, progress=False)
        table = teach_only(table, a.teacher_on)
        if len(report): print(f"the teacher could not read {len(report)} files: {report.item.tolist()[:5]}", flush=True)
    return table, dict(votes=a.votes, ratings=a.ratings, teacher=a.teacher, temperature=a.temperature), teacher and teacher.card

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', type=Path, required=True)
    ap.add_argument('--epochs', type=int, default=None, help="default: the recipe's")
    ap.add_argument('--repeat', type=int, default=8, help='copies of the taiwan_faces training photos in the mix')
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--fraction', type=float, default=1., help="the share of FER2013's training faces used (ablations: less)")
    target_args(ap)
    a = ap.parse_args(argv)
    fer, photos = read_dataset(dataset_path('fer2013')), read_dataset(dataset_path('taiwan_faces'))
    crop = photo_crop_rule(fer)
    table = training_table(fer, photos, crop, a.repeat, a.fraction)
    table, targets, teacher = soft_targets(a, table, dataset_path('taiwan_faces'))
    print(f"crop rule {crop['place']}; training table: {table.split.value_counts().to_dict()} ({table.source.value_counts().to_dict()}); targets {targets}", flush=True)
    return train_dan(table, 'dan_fernet_s_photos', epochs=a.epochs, out=a.out, seed=a.seed, crop=crop, progress=False, targets=targets,
                     teacher_file=teacher, reproduce=command_line('bench/train_reader.py', argv))

if __name__ == '__main__': main()
