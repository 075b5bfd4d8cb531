"""The avatar reader (nbs/05_finetune): face paths on avatars, training, and the per-style evaluation.

    python bench/avatar_reader.py build                      # every style's avatars (cached, resumable)
    python bench/avatar_reader.py paths                      # MTCNN thresholds on avatars → the avatar_styles card
    python bench/avatar_reader.py train --out avatar_anomaly/models/avatars_dan_fernet_s
    python bench/avatar_reader.py train --leave-out animegan --out /tmp/loso_animegan
    python bench/avatar_reader.py train --weak anime_danbooru --out /tmp/avatars_weak   # + anime faces labelled by search tags
    python bench/avatar_reader.py weak /tmp/avatars_weak --write-card                   # does it help? (shipped card: weak_data)
    python bench/avatar_reader.py wholes --models photos_dan_fernet_s avatar_anomaly/models/avatars_dan_fernet_s --write-card
    python bench/avatar_reader.py evaluate --models photos_dan_fernet_s avatar_anomaly/models/avatars_dan_fernet_s --write-card
    python bench/avatar_reader.py loso /tmp/loso_toon /tmp/loso_whitebox /tmp/loso_animegan --write-card
"""
import argparse, glob, json, sys, time
from pathlib import Path
import numpy as np
import pandas as pd
from avatar_anomaly.data import dataset_path, read_dataset, usable_rows, as_pil
from avatar_anomaly.weights import read_card, update_card, command_line
from avatar_anomaly.avatars import sample_split, avatar_styles, style_family
from avatar_anomaly.finetune import (MTCNN_THRESHOLDS, choose_face_thresholds, face_paths, style_avatars, fer2013_photos, training_mix, train_avatar_reader,
                                      style_table, reader_scores, avatar_crops, avatar_crop_rule, non_faces, whole_image_answers)
from avatar_anomaly.predict import PHOTO_NETWORK

def command(argv) -> str: return command_line('bench/avatar_reader.py', argv)

def paths(a, argv):
    "Face-path shares on avatar sets for each MTCNN setting; the strictest setting within 1 point of the best on the generated avatars"
    rng = np.random.default_rng(0)
    taiwan = read_dataset(dataset_path('taiwan_faces'))
    sets = {f'taiwan_{s}': list(style_avatars(taiwan, s).path) for s in avatar_styles()}
    sets['anime_danbooru'] = list(usable_rows(read_dataset(dataset_path('anime_danbooru'))).path)
    sets['cartoon_tomjerry'] = list(usable_rows(read_dataset(dataset_path('cartoon_tomjerry'))).path)
    res = {}
    for name, files in sets.items():
        pick = [files[i] for i in sorted(rng.choice(len(files), min(a.n, len(files)), replace=False))]
        ims = [as_pil(f) for f in pick]
        res[name] = [face_paths(ims, t) for t in MTCNN_THRESHOLDS]
        print(name, [round(r['detected'], 3) for r in res[name]], flush=True)
    chosen = choose_face_thresholds(res)
    update_card('avatar_styles', face_paths=dict(n=a.n, seed=0, thresholds=[list(t) for t in MTCNN_THRESHOLDS], sets=res, command=command(argv)),
                detector=dict(thresholds=list(chosen), min_face_size=20,
                              how=(f"choose_face_thresholds: the strictest MTCNN thresholds whose detection rate on the generated avatars of "
                                   f"taiwan_faces (every style, {a.n} each) is within 1 point of the best; lower ones find more 'faces' on "
                                   "anime crops, where a wrong box is worse than the whole crop")))
    print('chosen', chosen)

def build(a, argv):
    "Every style's avatars: the FER2013 training samples first, then taiwan_faces and london_faces whole, then FER2013 test"
    sets = [fer2013_photos(['train', 'valid']), read_dataset(dataset_path('taiwan_faces')), read_dataset(dataset_path('london_faces')),
            fer2013_photos(['test'])]
    for photos in sets:
        for style in avatar_styles():
            t0 = time.time(); n = len(style_avatars(photos, style, progress=True))
            print(f"{photos.source.iloc[0]} {style}: {n} avatars ({time.time() - t0:.0f} s)", flush=True)

def wholes(a, argv):
    "How often each reader answers confidently on images read whole: pictures with no face, anime crops, Tom & Jerry"
    sets = {'non_faces': non_faces(),
            'anime_danbooru': [as_pil(f) for f in usable_rows(read_dataset(dataset_path('anime_danbooru'))).sample(400, random_state=0).path],
            'cartoon_tomjerry': [as_pil(f) for f in usable_rows(read_dataset(dataset_path('cartoon_tomjerry'))).path]}
    res = {str(m): {name: whole_image_answers(m, ims) for name, ims in sets.items()} for m in a.models}
    print(json.dumps(res, indent=1))
    if a.write_card:
        update_card(a.models[-1], whole_images=dict(shares=res, confident=0.9, command=command(argv)))

def photo_sets(splits):
    return [fer2013_photos(splits), usable_rows(read_dataset(dataset_path('taiwan_faces')), list(splits))]

def train(a, argv):
    t0 = time.time()
    table = training_mix(photo_sets(['train', 'valid']), leave_out=a.leave_out, weak=a.weak)
    print(f"mix built in {time.time() - t0:.0f} s:", table.groupby(['split', 'style']).size().unstack(0).to_string(), flush=True)
    train_avatar_reader(table, a.out, epochs=a.epochs, leave_out=a.leave_out, weak=a.weak, reproduce=command(argv))

def tomjerry(models):
    t = usable_rows(read_dataset(dataset_path('cartoon_tomjerry')))
    crops = avatar_crops(t, avatar_crop_rule())
    classes = sorted(set(t.label))
    return {str(m): {**reader_scores(m, crops, classes), 'whole': round(float((crops.face == 'whole').mean()), 3)} for m in models}

def held_out_tables(models) -> tuple:
    "`(per-style table on the FER2013 and taiwan_faces test photos and their avatars, Tom & Jerry scores)` of `models`, printed"
    tables = [style_table(models, p) for p in
              (usable_rows(fer2013_photos(['test'])), usable_rows(read_dataset(dataset_path('taiwan_faces')), ['test']))]
    res = pd.concat(tables, ignore_index=True)
    print(res.to_string())
    tj = tomjerry(models)
    print('Tom & Jerry (4 classes):', json.dumps(tj))
    return res, tj

def evaluate_cmd(a, argv):
    res, tj = held_out_tables(a.models)
    if a.write_card:
        for m in a.models[1:]:
            rows = res[res.model.isin([a.models[0], m])].to_dict('records')
            update_card(m, metrics={**read_card(m).get('metrics', {}),
                        'styles': dict(rows=rows, reference=a.models[0], command=command(argv)), 'tomjerry': {**tj, 'command': command(argv)}})

def loso(a, argv):
    rows, minutes = [], {}
    taiwan_test = usable_rows(read_dataset(dataset_path('taiwan_faces')), ['test'])
    fer_test = usable_rows(fer2013_photos(['test']))
    for stem in a.models:
        card = read_card(f'{stem}.json')
        left = card['leave_out']
        minutes[left] = card['training']['minutes']
        styles = [s for s in avatar_styles() if style_family(s) == left]
        for photos in (fer_test, taiwan_test):
            t = style_table([PHOTO_NETWORK, stem], photos, styles)
            rows += t.assign(left_out=left).to_dict('records')
    res = pd.DataFrame(rows)
    print(res.to_string())
    if a.write_card: update_card(a.card, loso=dict(rows=rows, training_minutes=minutes, command=command(argv)))

def weak(a, argv):
    "The reader trained with weakly labelled sets against the shipped avatar reader (trained without): every style's test, Tom & Jerry"
    shipped = 'avatar_anomaly/models/avatars_dan_fernet_s'
    res, tj = held_out_tables([shipped, a.model])
    if a.write_card:
        update_card(shipped, weak_data=dict(rows=res.to_dict('records'), tomjerry=tj, weak=read_card(a.model).get('weak'),
                                                       command=command(argv)))

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    sub.add_parser('build')
    p = sub.add_parser('wholes'); p.add_argument('--models', nargs='+', default=[PHOTO_NETWORK]); p.add_argument('--write-card', action='store_true')
    p = sub.add_parser('paths'); p.add_argument('--n', type=int, default=80)
    p = sub.add_parser('train'); p.add_argument('--out', required=True); p.add_argument('--leave-out', default=None)
    p.add_argument('--epochs', type=int, default=None)
    p.add_argument('--weak', nargs='+', default=None, help='weakly labelled avatar sets added to train, e.g. anime_danbooru')
    p = sub.add_parser('weak'); p.add_argument('model'); p.add_argument('--write-card', action='store_true')
    p = sub.add_parser('evaluate'); p.add_argument('--models', nargs='+', default=[PHOTO_NETWORK]); p.add_argument('--write-card', action='store_true')
    p = sub.add_parser('loso'); p.add_argument('models', nargs='+'); p.add_argument('--write-card', action='store_true')
    p.add_argument('--card', default='avatar_anomaly/models/avatars_dan_fernet_s.json')
    a = ap.parse_args(argv)
    dict(build=build, wholes=wholes, paths=paths, train=train, evaluate=evaluate_cmd, loso=loso, weak=weak)[a.cmd](a, argv)

if __name__ == '__main__': main()
