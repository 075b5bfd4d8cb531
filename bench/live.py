"""Live checking (avatar_anomaly.live): speed end to end and per stage, and the choice of the live card's smoothing settings.

Speed (default): a 640×480 video pair made with PyAV (H.264, 25 fps, `--seconds` long; taiwan_faces test photos: the person
happy throughout, the avatar turning sad halfway) checked by `check_live` with the default detector at the live card's
settings (`--every 5` unless given): frame pairs/s end to end and frames/s per stage (decode, detect, classify, pair). The torch
threads, CPU count and load average are printed with the figures; with `--write-card` they go on the live card
(`benchmarks.speed`) with the command.

Choice (`--choose`): alpha (EMA weight) and persist (hysteresis frames) chosen on taiwan_faces *valid* photos. Video pairs
(160×120, 10 fps, each photo held 10 frames) are made per performer pair and emotion: consistent pairs (the same emotion on
both sides) and change pairs (the avatar's emotion changes halfway). Each pair is read once (`read_stream`: detection,
tracking, readers; the readings are cached), then judged (`judge_stream`) at every (alpha, persist) of the grid. Chosen: the
best frame-level balanced accuracy of the live verdict against the truth (anomaly from the change on, none elsewhere), then
the shortest mean delay from a change to the live verdict.

Tracking (`--tracking`): on taiwan_faces valid photos in 640×480 frames, per `detect_side`: detection time, box agreement
with detection at full size (IoU) and how much the reader's probabilities change between the two boxes (mean L1: what a fresh
detection itself moves the reading). For boxes shifted by a fraction of their width: the median correlation of the 16×16
thumbnails and the mean L1 change of the reading. min_similarity is the median correlation at the largest shift whose reading
change is no more than a re-detection's at the card's detect_side (a carried box that reads as well as a fresh one is kept);
with `--write-card` it goes on the card with the figures.

    python bench/live.py --seconds 20 --write-card
    python bench/live.py --choose --write-card
    python bench/live.py --tracking --write-card
"""
import argparse, itertools, json, os, sys, tempfile, time
from pathlib import Path
import numpy as np
import pandas as pd
import torch
from PIL import Image
from avatar_anomaly.data import EMOTIONS, dataset_path, read_dataset
from avatar_anomaly.weights import read_card, update_card, command_line
from avatar_anomaly.check import AnomalyChecker
from avatar_anomaly.live import LIVE_CARD, StageTimer, check_live, choose_live_settings, live_settings, live_text, read_stream, smoothing_grid
from avatar_anomaly.video import face_frames, video_frames, write_video

HAPPY, SAD = 'happy/subj17_1721b08.jpg', 'sad/subj17_1721c16.jpg'   # taiwan_faces test photos the shipped reader reads right

def speed(args) -> dict:
    "Figures of one end-to-end run on a generated 640×480 pair"
    tw = dataset_path('taiwan_faces')/'test'
    happy, sad = Image.open(tw/HAPPY), Image.open(tw/SAD)
    n = round(args.seconds*25)
    with tempfile.TemporaryDirectory() as d:
        real = write_video(Path(d)/'real.mp4', face_frames([(happy, n)], size=(640, 480)), fps=25)
        avatar = write_video(Path(d)/'avatar.mp4', face_frames([(happy, n//2), (sad, n - n//2)], size=(640, 480)), fps=25)
        checker = AnomalyChecker()
        warm = [itertools.islice(video_frames(v), 32) for v in (real, avatar)]
        check_live(*warm, checker, every=args.every, batch=args.batch, min_similarity=args.min_similarity)   # warm-up: first batches allocate; the figures are of the run below
        live = check_live(real, avatar, checker, every=args.every, batch=args.batch, min_similarity=args.min_similarity)
    s = live.summary()
    print(live_text(s))
    st = s['speeds']['stages']
    print(pd.DataFrame(st).T.to_string())
    return dict(video='640x480 H.264 25 fps (PyAV), taiwan_faces test photos on a plain background, drifting', seconds=args.seconds,
                pairs=s['pairs'], every=args.every or live_settings()['every'], batch=args.batch or live_settings()['batch'],
                min_similarity=args.min_similarity or live_settings()['min_similarity'], detector=checker.detector.name, pairs_per_s=s['speeds']['pairs_per_s'],
                stages={k: dict(per_s=v['per_s'], unit=u, pairs_per_s=v['pairs_per_s'])
                        for (k, v), u in zip(st.items(), ('frames (both streams)', 'detections', 'crops', 'pairs'))},
                anomaly_found_at=s['longest_anomaly'] and s['longest_anomaly']['start'], change_at=(n//2)/25)

def streams(photos:pd.DataFrame, seed:int=0) -> list:
    "`(kind, emotion, change_to, real photos, avatar photos)`: consistent and change pairs of different performers"
    rng, out = np.random.default_rng(seed), []
    by = {k: list(t.path) for k, t in photos.groupby(['subject', 'label'])}
    subjects = sorted(photos.subject.unique())
    for emo in sorted(photos.label.unique()):
        for a, b in itertools.combinations(subjects, 2):
            if (a, emo) not in by or (b, emo) not in by: continue
            out.append(('consistent', emo, None, by[a, emo], by[b, emo]))
            others = [e for e in sorted(photos.label.unique()) if e != emo and (b, e) in by]
            if others: out.append(('change', emo, others[rng.integers(len(others))], by[a, emo], by[b, emo]))
    return out

def choose(args) -> dict:
    "Read the valid pairs once (cached), judge them at every grid setting, choose alpha and persist"
    import pickle
    from avatar_anomaly.data import cache_dir
    t = read_dataset(dataset_path('taiwan_faces'))
    t = t[(t.split == 'valid') & (t.flag == '')].assign(subject=lambda d: d.path.map(lambda p: Path(p).name.split('_')[0]))
    checker, fps, hold, size = AnomalyChecker(), 10, 10, (160, 120)
    card = live_settings()
    keep = ('every', 'max_gap', 'batch', 'detect_side', 'min_similarity')
    cache = cache_dir("bench_live")/f"choose_readings_{checker.detector.name}_{'_'.join(str(card[k]) for k in keep)}.pkl"
    if cache.exists(): runs = pickle.loads(cache.read_bytes())
    else:
        rng, runs = np.random.default_rng(0), []
        for kind, emo, to, real_ps, av_ps in streams(t):
            seq = lambda ps, k: [(Image.open(ps[i % len(ps)]), hold) for i in rng.permutation(k)]
            real = seq(real_ps, 4)
            avatar = seq(av_ps, 4) if kind == 'consistent' else seq(av_ps, 2) + [(Image.open(p), hold) for p in by_label(t, av_ps, to)[:2]]
            frames = lambda spec: [(i/fps, im) for i, im in enumerate(face_frames(spec, size=size))]
            read = list(read_stream(frames(real), frames(avatar), checker, *(card[k] for k in keep), StageTimer()))
            runs.append((kind, 2*hold/fps if kind == 'change' else None, read))
            print(f"read {len(runs)}: {kind} {emo}{' → ' + to if to else ''}", flush=True)
        cache.write_bytes(pickle.dumps(runs))
    n_change = sum(k == 'change' for k, *_ in runs)
    print(f"{len(runs)} pairs read ({n_change} with a change; cache {cache})", flush=True)
    grid = smoothing_grid([(change, read) for _, change, read in runs], checker, args.alphas, args.persists, card['batch'])
    print(grid.to_string())
    chosen = choose_live_settings(grid)
    print('chosen:', chosen)
    return dict(chosen=chosen, grid=grid.to_dict('records'), pairs=dict(consistent=len(runs) - n_change, change=n_change),
                detector=checker.detector.name, threshold=checker.threshold)

def _iou(a, b) -> float:
    "Intersection over union of two (x1, y1, x2, y2) boxes"
    w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0)*max(h, 0)
    return inter/((a[2] - a[0])*(a[3] - a[1]) + (b[2] - b[0])*(b[3] - b[1]) - inter)

def tracking(args) -> dict:
    "detect_side: time and box agreement with full-size detection; min_similarity: thumbnail correlation and reading change of shifted boxes"
    from avatar_anomaly.live import FaceTrack, thumb
    t = read_dataset(dataset_path('taiwan_faces'))
    t = t[(t.split == 'valid') & (t.flag == '')].sample(n=min(args.photos, (t.split == 'valid').sum()), random_state=0)
    checker = AnomalyChecker()
    frames = [next(face_frames([(Image.open(p), 1)], size=(640, 480))) for p in t.path]
    full = FaceTrack(checker.real.cropper, 1, 640, 0).detect(frames)
    sides = {}
    for side in args.sides:
        tr = FaceTrack(checker.real.cropper, 1, side, 0)
        tr.detect(frames[:2])
        t0 = time.perf_counter(); boxes = tr.detect(frames); dt = time.perf_counter() - t0
        ious = [_iou(a[0], b[0]) for a, b in zip(full, boxes) if a[0] and b[0]]
        both = [(f, a[0], b[0]) for f, a, b in zip(frames, full, boxes) if a[0] and b[0]]
        change = np.abs(checker.real.encode([tr.crop(f, b) for f, _, b in both])[1] - checker.real.encode([tr.crop(f, a) for f, a, _ in both])[1]).sum(1)
        sides[side] = dict(ms_per_frame=round(1000*dt/len(frames), 1), found=sum(b[0] is not None for b in boxes),
                           median_iou_vs_640=round(float(np.median(ious)), 3) if ious else None,
                           mean_reading_change_l1_vs_640=round(float(change.mean()), 3))
        print(side, sides[side], flush=True)
    shifts = {}
    tr = FaceTrack(checker.real.cropper, 1, 640, 0)
    ok = [(f, b[0]) for f, b in zip(frames, full) if b[0]]
    base = checker.real.encode([tr.crop(f, b) for f, b in ok])[1]
    for frac in args.shifts:
        corr, crops = [], []
        for k, (f, b) in enumerate(ok):
            ang = 2*np.pi*k/len(ok); w = b[2] - b[0]
            d = (frac*w*np.cos(ang), frac*w*np.sin(ang))
            moved = (b[0] + d[0], b[1] + d[1], b[2] + d[0], b[3] + d[1])
            corr.append(float(thumb(f, moved) @ thumb(f, b))); crops.append(tr.crop(f, moved))
        change = np.abs(checker.real.encode(crops)[1] - base).sum(1)
        shifts[frac] = dict(median_correlation=round(float(np.median(corr)), 3), mean_reading_change_l1=round(float(change.mean()), 3))
        print(frac, shifts[frac], flush=True)
    floor = sides[card_side]['mean_reading_change_l1_vs_640'] if (card_side := live_settings()['detect_side']) in sides else None
    kept = [f for f, v in shifts.items() if floor is not None and v['mean_reading_change_l1'] <= floor]
    chosen = dict(min_similarity=shifts[max(kept)]['median_correlation'] if kept else None)
    print('re-detection changes the reading by', floor, '; chosen:', chosen)
    return dict(chosen=chosen, photos=len(frames), detect_side=sides, shifts=shifts, redetection_change_l1=floor)

def by_label(t:pd.DataFrame, like:list, label:str) -> list:
    "Photos of the performer of `like` with `label`"
    subject = Path(like[0]).name.split('_')[0]
    return list(t[(t.subject == subject) & (t.label == label)].path)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--seconds', type=float, default=20, help='length of the speed pair')
    p.add_argument('--every', type=int, default=5, help='detect faces every K frames')
    p.add_argument('--batch', type=int, default=None, help="frame pairs read together (default: the card's)")
    p.add_argument('--min-similarity', type=float, default=None, help="carried boxes kept down to this thumbnail correlation (default: the card's)")
    p.add_argument('--threads', type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument('--choose', action='store_true', help='choose alpha and persist on taiwan_faces valid')
    p.add_argument('--alphas', type=float, nargs='+', default=[1.0, 0.7, 0.5, 0.3])
    p.add_argument('--persists', type=int, nargs='+', default=[1, 2, 3, 5, 8])
    p.add_argument('--tracking', action='store_true', help='measure detect_side and choose min_similarity on taiwan_faces valid')
    p.add_argument('--photos', type=int, default=60, help='--tracking: valid photos used')
    p.add_argument('--sides', type=int, nargs='+', default=[640, 320, 240, 160])
    p.add_argument('--shifts', type=float, nargs='+', default=[0.0125, 0.025, 0.0375, 0.05, 0.075, 0.1, 0.15])
    p.add_argument('--write-card', action='store_true', help='put the figures (or the chosen values) on the live card')
    args = p.parse_args()
    torch.manual_seed(0)
    if args.threads: torch.set_num_threads(args.threads)
    machine = dict(torch_threads=torch.get_num_threads(), cpus=os.cpu_count(), load_average_at_start=[round(x, 2) for x in os.getloadavg()])
    command = command_line('bench/live.py')
    print(json.dumps(machine))
    if args.tracking:
        res = tracking(args)
        if args.write_card:
            card = read_card(LIVE_CARD)
            update_card(LIVE_CARD, settings={**card['settings'], **{k: v for k, v in res['chosen'].items() if v is not None}},
                        chosen={**card['chosen'], 'tracking': dict(how=__doc__.split('\n\n')[3].replace('\n', ' '), command=command,
                                                                    **{k: res[k] for k in ('photos', 'detect_side', 'shifts', 'redetection_change_l1')})})
    elif args.choose:
        res = choose(args)
        if args.write_card:
            card = read_card(LIVE_CARD)
            update_card(LIVE_CARD, settings={**card['settings'], **res['chosen']},
                        chosen={**card['chosen'], 'smoothing': dict(how=__doc__.split('\n\n')[2].replace('\n', ' '), command=command,
                                                                     grid=res['grid'], pairs=res['pairs'], detector=res['detector'],
                                                                     threshold=res['threshold'])})
    else:
        res = speed(args)
        if args.write_card:
            key = 'speed' if args.min_similarity is None else f'speed_min_similarity_{args.min_similarity:g}'   # the card's settings, or a variant
            update_card(LIVE_CARD, benchmarks={**read_card(LIVE_CARD).get('benchmarks', {}), key: dict(**res, machine=machine, command=command)})

if __name__ == '__main__': main()
