"""Train the photo reader: the shipped FER2013 DAN refined on FER2013 train plus taiwan_faces train (12 performers, colour
photos cropped with FER2013's own framing, oversampled), class-balanced, with framing jitter; valid = FER2013 valid +
taiwan_faces valid (other performers); the test splits are left for `bench/readers.py`.

    python bench/train_reader.py --out avatar_anomaly/models/photos_dan_fernet_s
    python bench/train_reader.py --votes --out runs/photos_votes         # FER2013's training labels drawn from the FER+ votes
    python bench/train_reader.py --votes 0.5 --out runs/photos_votes05   # half the votes, half FER2013's label
    python bench/train_reader.py --epochs 1 --out /tmp/quick      # a quick look
"""
import argparse, sys
from pathlib import Path
import pandas as pd
from avatar_anomaly.weights import command_line
from avatar_anomaly.data import dataset_path, read_dataset, usable_rows, as_pil
from avatar_anomaly.faces import crop_table, cropper_for, calibrate_framing
from avatar_anomaly.train import train_dan

def photo_crop_rule(fer:pd.DataFrame, n:int=3000, seed:int=0) -> dict:
    "The crop rule that frames photos as FER2013 frames its faces, measured on `n` FER2013 training faces"
    place, found = calibrate_framing([as_pil(p) for p in usable_rows(fer, ['train']).sample(n, random_state=seed).path])
    return dict(detector='mtcnn', place=list(place),
                how=f"calibrate_framing on {n} FER2013 training faces (MTCNN found a face in {found}): where MTCNN's box sits in FER2013's crops")

def training_table(fer:pd.DataFrame, photos:pd.DataFrame, crop:dict, repeat:int) -> pd.DataFrame:
    "FER2013 train/valid plus the photos' train (repeated `repeat` times) and valid splits, cropped by `crop`"
    cropped = crop_table(usable_rows(photos, ['train', 'valid']), cropper_for(crop, 48, detect=True), progress=False)
    cropped = cropped[cropped.flag == '']
    return pd.concat([usable_rows(fer, ['train', 'valid']), *[cropped[cropped.split == 'train']]*repeat, cropped[cropped.split == 'valid']],
                     ignore_index=True)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', type=Path, required=True)
    ap.add_argument('--epochs', type=int, default=None, help="default: the recipe's")
    ap.add_argument('--repeat', type=int, default=8, help='copies of the taiwan_faces training photos in the mix')
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--votes', type=float, nargs='?', const=1., default=0.,
                    help="the FER+ votes' share of FER2013's training targets, drawn at each use (soft targets in expectation); alone: 1")
    a = ap.parse_args(argv)
    fer, photos = read_dataset(dataset_path('fer2013')), read_dataset(dataset_path('taiwan_faces'))
    crop = photo_crop_rule(fer)
    table = training_table(fer, photos, crop, a.repeat)
    print(f"crop rule {crop['place']}; training table: {table.split.value_counts().to_dict()} ({table.source.value_counts().to_dict()})", flush=True)
    train_dan(table, 'dan_fernet_s_photos', epochs=a.epochs, out=a.out, seed=a.seed, crop=crop, progress=False, votes=a.votes,
              reproduce=command_line('bench/train_reader.py', argv))

if __name__ == '__main__': main()
