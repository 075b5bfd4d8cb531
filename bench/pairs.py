"""The detectors of issue 16 on every pair set and avatar style: label-compare, Siamese v1 (normalised and the study's raw
variant) and the v2 variants, trained on the training pairs of every style (FER2013 + taiwan_faces same-person), thresholds
chosen on the validation pairs, every test set scored once; a leave-one-style-out run; checking speed. Prints the tables; with
--write-cards writes the detector cards and weights (`cards/siamese_v1.json`, `cards/siamese_v2.json`, `models/siamese_v*.safetensors`)
and the checker's card (`cards/checker.json`: the default detector = the best balanced accuracy on the validation pairs).

Avatars are read from the cache only (never generated here), and only those of the `avatar_styles` card's samples, so the pair sets
are the same on every machine: build them first (`python bench/avatar_reader.py build`; `bench/rebuild.py` does). With
--write-cards a style or dataset without avatars stops the run: no card is written without one of its pair sets.

    python bench/pairs.py                                  # every style whose avatars exist; print only
    python bench/pairs.py --write-cards                    # and write the cards
    python bench/pairs.py --styles toon --epochs 5         # a quicker look
    python bench/pairs.py --avatar-model NAME --write-cards    # with the avatar reader
    python bench/pairs.py --calibrate --write-cards        # no training: calibrate the shipped detectors (their cards' `calibration`)
    python bench/pairs.py --calibrate --context            # and compare a calibrator that also sees how sure the readers are (printed only)
    python bench/pairs.py --end-to-end --write-cards       # train the end-to-end detector (chapter 08b) beside the shipped ones; its cards
    python bench/pairs.py --teacher                        # label-compare on the RAF-DB teacher's readings, same-person pairs (printed only)
    python bench/pairs.py --speed --threads 2 --write-cards  # only the default detector's checking speed, on the checker card
"""
import argparse, json, os, sys, time
import numpy as np
import pandas as pd
import torch
from avatar_anomaly.data import dataset_path, read_dataset, usable_rows
from avatar_anomaly import predict
from avatar_anomaly.weights import read_card, write_card, update_card, CARDS_DIR, command_line
from avatar_anomaly.avatars import avatar_dir, avatar_table, avatar_styles, style_stylizer
from avatar_anomaly.finetune import fer2013_photos, style_photos
from avatar_anomaly.siamese_v1 import save_detector
from avatar_anomaly.siamese_v2 import V2_VARIANTS
from avatar_anomaly.end_to_end import crop_files, train_end_to_end, end_to_end_scores, save_end_to_end
from avatar_anomaly.check import (AnomalyChecker, LabelCompare, valid_scores, choose_detectors, CHECKER_CARD, DETECTORS, pair_sets, encode_pair_sets, compare_detectors,
                                  leave_one_style_out, TRAIN_SETS, load_detector, calibrate_detector, _split, anomaly_score, _logit,
                                  choose_calibration, calibrated, expected_calibration_error, _rows)
from avatar_anomaly.siamese_v1 import choose_threshold, pair_metrics
from avatar_anomaly.targets import Teacher, teacher_readings, softmax
from avatar_anomaly.dls import TEACHER_COLUMNS

DATASETS = ('fer2013', 'taiwan_faces', 'london_faces')
E2E_READERS = ('pairs_photo_dan_fernet_s', 'pairs_avatar_dan_fernet_s')   # the end-to-end detector's fine-tuned readers
TARGETS = {('taiwan', None): 0.90, ('london', None): 0.85, ('fer2013', 'toon'): 0.88, ('fer2013', 'whitebox'): 0.86}   # issue 26 (test balanced)
STUDY = {'siamese-v1': 0.613, 'siamese-v2': 0.81}   # the study's accuracies (thesis section 3.2; its own pairs)

def style_sample(ds:str, style:str) -> pd.DataFrame:
    "The photos of `ds` whose `style` avatars are paired: the `avatar_styles` card's samples, as `bench/avatar_reader.py build` makes them"
    return style_photos(fer2013_photos() if ds == 'fer2013' else usable_rows(read_dataset(dataset_path(ds))), style)

def cached_avatars(style:str, log, complete:bool=False) -> dict:
    """`{dataset: avatar table}` of the avatars of `style`'s samples found in the cache (nothing is generated; other cached avatars are
    left out; sampled photos without an avatar are logged); `complete`: a style without its stylizer or a dataset without any avatar
    stops the run (cards are not written without a pair set)"""
    def missing(msg):
        if complete: sys.exit(f"{msg}: build the avatars first (python bench/avatar_reader.py build)")
        log(msg)
    try: st = style_stylizer(style)
    except Exception as e: missing(f"{style}: no stylizer ({type(e).__name__}: {e})"); return {}
    out = {}
    for ds in DATASETS:
        folder = avatar_dir(usable_rows(read_dataset(dataset_path(ds))), st)
        if not (folder/'manifest.csv').is_file(): missing(f"{style}/{ds}: no avatars in {folder}"); continue
        photos = style_sample(ds, style)
        out[ds] = avatar_table(folder, photos)
        if len(out[ds]) < len(photos): log(f"{style}/{ds}: {len(photos) - len(out[ds])} of {len(photos)} sampled photos have no avatar "
                                            "in the cache (python bench/avatar_reader.py build makes them)")
    return out

def summary(table:pd.DataFrame) -> pd.DataFrame:
    "Test balanced accuracy: detectors × (style, pair set)"
    t = table[table.split == 'test']
    return t.pivot_table(index='detector', columns=['style', 'pairs'], values='balanced_accuracy').round(4)

def speed(detector:str, n:int=2000) -> dict:
    "Pairs per second of `AnomalyChecker(detector).check_files` on FER2013 test crops (files given, no face detection)"
    torch.set_num_threads(min(2, torch.get_num_threads()))
    t = usable_rows(read_dataset(dataset_path('fer2013')), ['test'])
    files = list(t.path)
    pairs = [(files[i % len(files)], files[(7*i + 3) % len(files)]) for i in range(n)]
    checker = AnomalyChecker(detector=detector, detect=False)
    checker.check_files(pairs[:64], progress=False)   # warm-up
    t0 = time.perf_counter(); res = checker.check_files(pairs, progress=False); secs = time.perf_counter() - t0
    return dict(detector=detector, pairs=n, seconds=round(secs, 2), pairs_per_s=round(n/secs, 1), errors=sum(r.error is not None for r in res),
                threads=torch.get_num_threads(), cpu=f"{os.cpu_count()} cores visible")

def context_calibration(data:dict, name:str='siamese-v2'):
    "Test ECE of `name`'s score, its card-style calibration, and a logistic calibrator on the score's logit, label-compare's logit and both readers' top probabilities (fitted on valid)"
    from sklearn.linear_model import LogisticRegression
    det = load_detector(name)
    def inputs(ds):
        r, av = ds.readings(); s = det.scores(r, av)
        return s, np.c_[_logit(s), _logit(anomaly_score(r['probs'], av['probs'])), r['probs'].max(1), av['probs'].max(1)], ds.pairs.anomaly.to_numpy(int)
    s, x, y = inputs(_split(data, 'valid'))
    cal, ctx = choose_calibration(s, y)[0], LogisticRegression(C=1e4, max_iter=1000).fit(x, y)
    rows = []
    for style, sets in data.items():
        for pairs, by_split in sets.items():
            if 'test' not in by_split: continue
            t, xt, yt = inputs(by_split['test'])
            rows.append(dict(style=style, pairs=pairs, n=len(yt), ece_score=expected_calibration_error(t, yt),
                             ece_calibrated=expected_calibration_error(calibrated(cal, t), yt), ece_context=expected_calibration_error(ctx.predict_proba(xt)[:, 1], yt)))
    print(f"\n## {name}: a calibrator that also sees the readers' confidence (test ECE)\n{pd.DataFrame(rows).round(4).to_string(index=False)}")

def calibrate(data:dict, a, command:str, sets:dict):
    "Calibrate every shipped detector on the pairs read with its own encoders (no training); print each one's test figures; with --write-cards put them on its card"
    read = {(a.real_model, a.avatar_model): data}
    for name, card in DETECTORS.items():
        det = load_detector(name)
        enc = tuple(det.encoders)
        if enc not in read: read[enc] = {style: encode_pair_sets(s, *enc) for style, s in sets.items()}
        t0 = time.time(); cal = calibrate_detector(det, read[enc], max_share=a.max_unsure, seed=a.seed)
        print(f"\n## {name}: {cal['method']} calibration, unsure band [{cal['unsure']['low']:.4g}, {cal['unsure']['high']:.4g}) around the "
              f"threshold {det.threshold} ({cal['unsure']['share']:.1%} of the valid pairs; their balanced accuracy "
              f"{cal['unsure']['balanced_accuracy']:.4f} → {cal['unsure']['decided_balanced_accuracy']:.4f} decided)\n"
              f"held-out ECE on valid: {cal['chosen']['held_out_ece']} (the raw score: {cal['chosen']['valid_ece_score']})\n"
              f"{pd.DataFrame(cal['test']).to_string(index=False)}")
        if a.write_cards: update_card(card, calibration=dict(cal, command=command, seconds=round(time.time() - t0, 1)))

def targets_met(table:pd.DataFrame) -> pd.DataFrame:
    "Test balanced accuracy of each detector against issue 26's targets (taiwan and london pairs in every style; FER2013 toon and White-box)"
    t = table[table.split == 'test']
    rows = [dict(detector=r.detector, style=r.style, pairs=r.pairs, balanced_accuracy=round(r.balanced_accuracy, 4), target=want,
                 met=bool(r.balanced_accuracy >= want)) for r in t.itertuples() for (pairs, style), want in TARGETS.items()
            if r.pairs == pairs and style in (None, r.style)]
    return pd.DataFrame(rows)

def teacher_compare(data:dict) -> pd.DataFrame:
    "Label-compare on the RAF-DB teacher's readings (chapter 02c) of both sides, or averaged with the readers', against the readers' alone: the same-person pair sets (the teacher reads ~14 images/s, too slow for the FER2013 pairs here); thresholds chosen on the taiwan_faces valid pairs of every style"
    teacher, sets = Teacher(), {}
    for style, by_set in data.items():
        for name in ('taiwan', 'taiwan+self', 'london'):
            for split, ds in by_set.get(name, {}).items():
                t = [softmax(teacher_readings(list(ds.pairs[c]), teacher, progress=False)[0][TEACHER_COLUMNS].to_numpy()) for c in ('real', 'avatar')]
                sets[(style, name, split)] = (ds, *t)
    scorers = {'readers': lambda ds, tr, ta: anomaly_score(ds.pa, ds.pb), 'teacher': lambda ds, tr, ta: anomaly_score(tr, ta),
               'teacher photo, reader avatar': lambda ds, tr, ta: anomaly_score(tr, ds.pb),
               'readers + teacher': lambda ds, tr, ta: anomaly_score((ds.pa + tr)/2, (ds.pb + ta)/2)}
    rows = []
    for name, f in scorers.items():
        valid = [k for k in sets if k[1] == 'taiwan' and k[2] == 'valid']
        thr = choose_threshold(np.concatenate([f(*sets[k]) for k in valid]), np.concatenate([sets[k][0].pairs.anomaly for k in valid]))
        rows += [dict(detector=f'label-compare ({name})', style=k[0], pairs=k[1], balanced_accuracy=pair_metrics(v[0].pairs.assign(score=f(*v)), thr)['all']['balanced_accuracy'])
                 for k, v in sets.items() if k[2] == 'test']
    table = pd.DataFrame(rows).pivot_table(index=['pairs', 'style'], columns='detector', values='balanced_accuracy')
    pd.set_option('display.width', 250)
    print(f"## same-person test pairs, balanced accuracy (label-compare on the teacher's readings; thresholds from taiwan_faces valid)\n{table.round(4).to_string()}")
    return table

def end_to_end(data:dict, sets:dict, a, command:str) -> pd.DataFrame:
    "Train the end-to-end detector on the crops of the same pairs, score it beside the shipped detectors (each at its card's threshold); with --write-cards ship it and choose the checker's default again"
    crops = {style: encode_pair_sets(s, a.real_model, a.avatar_model, encode=crop_files) for style, s in sets.items()}
    torch.set_num_threads(2)   # the readers' convolutions use both cores (the feature-vector runs above use --threads)
    learn, thr = train_end_to_end(_split(crops, 'train'), _split(crops, 'valid'), a.real_model, a.avatar_model, epochs=a.e2e_epochs, seed=a.seed)
    rows = _rows('siamese-e2e', lambda ds: end_to_end_scores(learn.model, ds), thr, crops)
    for name in DETECTORS:
        if name == 'siamese-e2e': continue
        det = load_detector(name)
        if tuple(det.encoders) != (a.real_model, a.avatar_model): continue
        rows += _rows(name, lambda ds: det.scores(*ds.readings()), det.threshold, data)
    table = pd.DataFrame(rows)
    pd.set_option('display.width', 250)
    print(f"## test balanced accuracy (end-to-end: {learn.minutes:.1f} min training; the others at their cards' thresholds)\n{summary(table).T.to_string()}")
    valid = valid_scores(table)
    print(f"\n## valid balanced accuracy (pair-weighted)\n{valid.round(4).to_string()}\n\n## issue 26's targets\n{targets_met(table).to_string(index=False)}")
    if not a.write_cards: return table
    counts = {st: {k: {s: len(d) for s, d in v.items()} for k, v in c.items()} for st, c in crops.items()}
    e2e = lambda name: table[table.detector == name].round(4).to_dict('records')
    save_end_to_end(learn.model, 'siamese_e2e', E2E_READERS, dict(
        description='End-to-end Siamese: the photo and avatar readers fine-tuned together under a v2 head ([a, b, |a − b|, a·b] → MLP → one '
                    'logit) with each reader\'s own emotion loss (chapter 08b); score = the sigmoid',
        features="each fine-tuned reader's vector before its last Linear + BatchNorm", threshold=thr, variant='siamese-e2e rich',
        chosen=dict(how=f"choose_threshold: the best balanced accuracy on the validation pairs of {', '.join(TRAIN_SETS)} in every style "
                        f"({', '.join(crops)}), then each test set scored once", command=command),
        training=dict(epochs=a.e2e_epochs, styles=list(crops), sets=list(TRAIN_SETS), pairs=counts, parents=dict(real=a.real_model, avatar=a.avatar_model),
                      recipe=learn.recipe, minutes=learn.minutes, history=[list(map(float, v)) for v in learn.recorder.values]),
        benchmarks=dict(rows=e2e('siamese-e2e'), others={k: e2e(k) for k in table.detector.unique() if k != 'siamese-e2e'},
                        targets=targets_met(table).to_dict('records'))))
    checker = read_card(CHECKER_CARD)
    shipped = {k: round(float(valid[k]), 4) for k in valid.index}
    checker['default_detector'] = max(shipped, key=shipped.get)
    checker['chosen'] = dict(checker['chosen'], valid_balanced_accuracy=shipped, command=command,
                             how="the shipped detector with the best pair-weighted balanced accuracy on the validation pairs, each at its card's threshold")
    write_card(CARDS_DIR/f'{CHECKER_CARD}.json', checker)
    print(f"checker default: {checker['default_detector']}   (its speed: python bench/pairs.py --speed --threads 2 --write-cards)")
    return table

def kept_detectors(real_model:str, avatar_model:str, # the readers this run encoded with
                   retrained:tuple=('label-compare', 'siamese-v1', 'siamese-v2')) -> dict: # the detectors a plain run trains
    "Valid figures (from the checker card) of the shipped detectors this run did not retrain, where they were built on the same readers"
    prior = read_card(CHECKER_CARD).get('chosen', {}).get('valid_balanced_accuracy', {}) if (CARDS_DIR/f'{CHECKER_CARD}.json').is_file() else {}
    same_readers = lambda name: ((CARDS_DIR/f'{DETECTORS[name]}.json').is_file()
                                 and read_card(DETECTORS[name]).get('training', {}).get('parents') == dict(real=real_model, avatar=avatar_model))
    return {k: v for k, v in prior.items() if k in DETECTORS and k not in retrained and same_readers(k)}

def default_speed(a, command:str):
    "The checker's default detector's speed, printed; with --write-cards on the checker card (`benchmarks.speed`)"
    checker = read_card(CHECKER_CARD)
    sp = dict(speed(checker['default_detector']), command=command)
    print(f"\n## speed of the default detector ({sp['detector']}), {sp['threads']} torch thread(s): {sp}")
    if a.write_cards: update_card(CHECKER_CARD, benchmarks=dict(checker['benchmarks'], speed=sp))

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--real-model', default=predict.PHOTO_NETWORK)   # the detectors compare one network's features
    ap.add_argument('--avatar-model', default=predict.DEFAULT_AVATAR_MODEL)
    ap.add_argument('--styles', nargs='*', default=list(avatar_styles()), help=f"of {', '.join(avatar_styles())} (the avatar_styles card)")
    ap.add_argument('--epochs', type=int, default=20)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--no-loso', action='store_true', help='skip the leave-one-style-out run')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (1 is fastest on a shared machine)')
    ap.add_argument('--write-cards', action='store_true')
    ap.add_argument('--calibrate', action='store_true', help="no training: calibrate the shipped detectors (and with --write-cards, their cards' calibration)")
    ap.add_argument('--max-unsure', type=float, default=0.1, help='with --calibrate: the most validation pairs the unsure band may hold')
    ap.add_argument('--context', action='store_true', help="with --calibrate: also print the test ECE of a calibrator that sees the readers' confidence")
    ap.add_argument('--end-to-end', action='store_true', help='train the end-to-end detector (chapter 08b) and score it beside the shipped ones')
    ap.add_argument('--e2e-epochs', type=int, default=3, help='with --end-to-end: its epochs over the training pairs')
    ap.add_argument('--teacher', action='store_true', help="label-compare on the RAF-DB teacher's readings of the same-person pairs (printed)")
    ap.add_argument('--speed', action='store_true', help="only the default detector's checking speed (with --write-cards, on the checker card)")
    ap.add_argument('--out', default=None, help='also write the full tables to this CSV stem (STEM.csv, STEM.loso.csv)')
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    command = command_line('bench/pairs.py', argv)
    log = lambda m: print(m, file=sys.stderr, flush=True)
    if a.speed: return default_speed(a, command)
    t0 = time.time()
    data, counts, by_style = {}, {}, {}
    for style in a.styles:
        av = cached_avatars(style, log, complete=a.write_cards)
        if not av: continue
        sets = by_style[style] = pair_sets(av, seed=a.seed)
        log(f"{style}: encoding {', '.join(f'{k} ({len(v)} pairs)' for k, v in sets.items())}")
        data[style] = encode_pair_sets(sets, a.real_model, a.avatar_model)
        counts[style] = {k: {s: len(d) for s, d in v.items()} for k, v in data[style].items()}
    if not data: sys.exit("no avatars of any style in the cache: build them first (python bench/avatar_reader.py build)")
    log(f"pairs: {json.dumps(counts)}")
    if a.calibrate:
        if a.context: context_calibration(data)
        return calibrate(data, a, command, by_style)
    if a.end_to_end: return end_to_end(data, by_style, a, command)
    if a.teacher: return teacher_compare(data)
    lc = LabelCompare()
    lc.encoders = (a.real_model, a.avatar_model)
    table, trained = compare_detectors(data, lc, epochs=a.epochs, seed=a.seed)
    pd.set_option('display.width', 250); pd.set_option('display.max_columns', 40)
    print(f"## test balanced accuracy (thresholds chosen on the valid pairs of {', '.join(TRAIN_SETS)}, all styles)\n{summary(table).T.to_string()}")
    full = table[table.split == 'test'][['detector', 'style', 'pairs', 'n', 'accuracy', 'balanced_accuracy', 'roc_auc', 'pr_auc', 'f1', 'threshold']]
    print(f"\n## all test figures\n{full.round(4).to_string(index=False)}")
    valid = valid_scores(table)
    choice = choose_detectors(valid)
    print(f"\n## valid balanced accuracy (pair-weighted over styles and sets)\n{valid.round(4).to_string()}")
    loso = None
    if not a.no_loso and len(data) > 1:
        v2_name = choice['v2_variant']
        loso = leave_one_style_out(data, V2_VARIANTS[v2_name.split(' ', 1)[1]], lc, epochs=a.epochs, seed=a.seed)
        print(f"\n## leave one style out ({v2_name}): test balanced accuracy\n"
              f"{loso.pivot_table(index=['left_out', 'pairs'], columns='detector', values='balanced_accuracy').round(4).to_string()}")
    if a.out:
        table.to_csv(f'{a.out}.csv', index=False)
        if loso is not None: loso.to_csv(f'{a.out}.loso.csv', index=False)
    if not a.write_cards: return table
    v2_name = choice['v2_variant']
    rows = lambda name: table[table.detector == name].round(4).to_dict('records')
    base = dict(encoders=dict(real=a.real_model, avatar=a.avatar_model),
                features="each reader's vector before its last Linear (+ BatchNorm for DAN), see siamese_v1.features",
                training=dict(styles=list(data), sets=list(TRAIN_SETS), pairs=counts, epochs=a.epochs, seed=a.seed))
    how = (f"choose_threshold: the best balanced accuracy on the validation pairs of {', '.join(TRAIN_SETS)} in every style "
           f"({', '.join(data)}), then each test set scored once")
    for card, name, desc in (('siamese_v1', 'siamese-v1', 'Siamese v1: per-side Linear embeddings of the standardised reader vectors, '
                              'L2-normalised; score = half their Euclidean distance; trained with the contrastive loss'),
                             ('siamese_v2', v2_name, f"Siamese v2 ({v2_name.split(' ', 1)[1]}: {V2_VARIANTS[v2_name.split(' ', 1)[1]]}): "
                              'reader vectors standardised and combined, MLP, one logit; score = its sigmoid; trained with BCE')):
        model, thr, minutes = trained[name]
        others = {k: rows(k) for k in trained if k.split(' ')[0] == name.split(' ')[0] and k != name}   # v1 raw; the other v2 variants
        save_detector(model, card, dict(description=desc, **base, threshold=thr, chosen=dict(how=how, command=command),
                                        variant=name, study_accuracy=STUDY[card.replace('_', '-')],
                                        benchmarks=dict(rows=rows(name), label_compare=rows('label-compare'), variants=others, minutes=minutes)))
    shipped = {k: round(float(valid[v]), 4) for k, v in choice['shipped'].items()}
    kept = kept_detectors(a.real_model, a.avatar_model, tuple(shipped))   # the end-to-end detector keeps its place until --end-to-end trains it again
    best = max({**shipped, **kept}.items(), key=lambda kv: kv[1])[0]
    sp = speed(best)
    print(f"\n## speed of the default detector ({best}), {sp['threads']} torch thread(s): {sp}")
    write_card(CARDS_DIR/f'{CHECKER_CARD}.json', dict(kind='checker', default_detector=best, chosen=dict(
        how='the shipped detector with the best pair-weighted balanced accuracy on the validation pairs (label-compare at a threshold '
            'chosen on those pairs; detectors this run did not retrain with their figures from the last run that did)',
        valid_balanced_accuracy={**shipped, **kept},
        command=command), benchmarks=dict(table=table.round(4).to_dict('records'), loso=None if loso is None else loso.round(4).to_dict('records'),
                                           speed=sp, seconds=round(time.time() - t0))))
    return table

if __name__ == '__main__': main()
