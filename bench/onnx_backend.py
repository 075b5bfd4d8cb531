"""The two backends of the emotion readers on the same crops and the same thread count: crops/s of PyTorch (`EmotionPredictor`'s
pipeline: `pil_to_array`, albumentations, `to_batch`, the channels-last model) and of onnxruntime (an exported reader with its
pipeline inside: the uint8 crops stacked and run) at batch 1 (a live frame) and batch 64, from the same PIL crops; and their
largest differences (logits, probabilities: absolute; features: relative to the largest) on FER2013 test crops and on MTCNN crops of the taiwan_faces test
photos, at batch 64 and at batch 1. The same for the Siamese pair detectors: the two readers' features of the FER2013 test crops,
each crop paired with the next, scored by PyTorch and by the exported detector (pairs/s and the largest |Δ score|). Timings
alternate the backends round by round and report the median round (the machine may be shared). With `--write-card` the figures
of the parts run go on the package's `onnx` card (cards/onnx.json).

    python bench/onnx_backend.py --write-card
    python bench/onnx_backend.py --parts detectors --write-card
"""
import argparse, json, os, platform, statistics, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch
from PIL import Image
import onnx, onnxruntime
from avatar_anomaly.data import dataset_path, read_dataset, usable_rows, pil_to_array
from avatar_anomaly.faces import cropper_for
from avatar_anomaly.weights import CARDS_DIR, read_card, update_card, command_line
from avatar_anomaly.backbones import preset_of, batch_proba
from avatar_anomaly.predict import load_model, EmotionPredictor
from avatar_anomaly.check import load_detector
from avatar_anomaly.onnx import OPSET, export_onnx, onnx_session, onnx_outputs, parity, detector_onnx, detector_parity, OnnxPairDetector

def cpu_name() -> str:
    "The CPU's model name (Linux), else the platform's"
    try: return next(l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or platform.machine()

def fer_crops(n:int|None) -> list:
    "FER2013 test crops (every one, or `n` spread evenly) as RGB PIL images"
    files = sorted(dataset_path('fer2013').glob('test/*/*.png'))
    if n: files = files[::max(1, len(files)//n)][:n]
    return [Image.open(f).convert('RGB') for f in files]

def taiwan_crops(crop:dict|None, n:int|None) -> list:
    "MTCNN crops (48 px, by the crop rule `crop`) of the taiwan_faces test photos"
    rows = usable_rows(read_dataset(dataset_path('taiwan_faces')), ['test'])
    paths = list(rows.path) if not n else list(rows.path[::max(1, len(rows)//n)][:n])
    cropper = cropper_for(crop, 48, detect=True, cache=False, device='cpu')
    return [f.image for s in range(0, len(paths), 16) for f in cropper([Image.open(p).convert('RGB') for p in paths[s:s + 16]])
            if f.image is not None]

def rate(run, items, bs:int, n:int) -> float:
    "Items/s of `run(batch)` over the first `n` items (crops, or pair indices), `bs` at a time"
    t0 = time.perf_counter()
    for s in range(0, n, bs): run(items[s:s + bs])
    return n/(time.perf_counter() - t0)

def alternating_rates(runs:dict, items, sizes:tuple, rounds:int) -> dict:
    "`{backend: {bs: items/s}}` for `runs` (backend → bs → run(batch)) at each `(bs, n)` of `sizes`: after a warm-up, the median of `rounds` rounds that alternate the backends"
    out = {k: {} for k in runs}
    for bs, n in sizes:
        for k, r in runs.items(): rate(r(bs), items, bs, min(n, 2*bs))   # warm-up
        got = {k: [] for k in runs}
        for _ in range(rounds):
            for k, r in runs.items(): got[k].append(rate(r(bs), items, bs, n))
        for k in runs: out[k][str(bs)] = round(statistics.median(got[k]), 1)
    return out

def speeds(name:str, onnx_file:Path, crops:list, threads:int, rounds:int, n1:int, n64:int) -> dict:
    "`{'torch': {bs: crops/s}, 'onnx': {...}}` of a reader at batch 1 and 64"
    net, card = load_model(name, 'cpu')
    net.to(memory_format=torch.channels_last)
    p = preset_of(card)
    sess = onnx_session(onnx_file, threads)
    runs = dict(torch=lambda bs: lambda b: batch_proba(net, b, p, lambda im: pil_to_array(im, p.mode), False, bs),
                onnx=lambda bs: lambda b: onnx_outputs(sess, b, bs))
    return alternating_rates(runs, crops, ((1, n1), (64, n64)), rounds)

def pair_speeds(det, exported:bytes, real:np.ndarray, avatar:np.ndarray, threads:int, rounds:int, n1:int) -> dict:
    "`{'torch': {bs: pairs/s}, 'onnx': {...}}` of a detector's scores at batch 1 (`n1` pairs) and 64 (all)"
    score = lambda d: lambda bs: lambda i: d.scores(dict(features=real[i]), dict(features=avatar[i]))
    runs = dict(torch=score(det), onnx=score(OnnxPairDetector(exported, threads=threads)))
    return alternating_rates(runs, np.arange(len(real)), ((1, n1), (64, len(real))), rounds)

def detector_figures(names:list, fer:list, threads:int, rounds:int, n1:int) -> dict:
    "Per detector: parity of the exported detector with PyTorch on FER2013 test pairs (each crop and the next), and pairs/s of both"
    res, feats = {}, {}
    for name in names:
        det = load_detector(name)
        for enc in det.encoders:
            if enc not in feats: feats[enc] = EmotionPredictor(enc, detect=False, features=True, device='cpu', bs=256).encode(fer)[0]
        real, avatar = feats[det.encoders[0]], np.roll(feats[det.encoders[1]], -1, axis=0)
        exported = detector_onnx(det)
        par = detector_parity(det, exported, real, avatar, threads)
        sp = pair_speeds(det, exported, real, avatar, threads, rounds, n1)
        res[det.name] = dict(onnx_kb=round(len(exported)/1e3, 1), parity=par, pairs_per_s=sp,
                             onnx_over_torch={bs: round(sp['onnx'][bs]/sp['torch'][bs], 2) for bs in sp['torch']})
        print(f"{det.name}: pairs/s torch {sp['torch']} onnx {sp['onnx']}; max |Δ score| {par['score']:.2e} (batch 1: {par['score_bs1']:.2e}) "
              f"over {par['n']} pairs", flush=True)
    return res

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--models', nargs='+', default=['fer2013_fernet_s', 'photos_dan_fernet_s'])
    ap.add_argument('--threads', type=int, default=2, help='threads of both backends')
    ap.add_argument('--n-fer', type=int, default=None, help='FER2013 test crops for parity (default: all)')
    ap.add_argument('--n-taiwan', type=int, default=None, help='taiwan_faces test photos for parity (default: all)')
    ap.add_argument('--n-bs1', type=int, default=64, help='crops timed per round at batch 1 (and compared at batch 1)')
    ap.add_argument('--n-bs64', type=int, default=1024, help='crops timed per round at batch 64')
    ap.add_argument('--rounds', type=int, default=5, help='alternating timing rounds per backend and batch size')
    ap.add_argument('--detectors', nargs='+', default=['siamese-v1', 'siamese-v2'])
    ap.add_argument('--parts', nargs='+', default=['readers', 'detectors'], choices=['readers', 'detectors'], help='what to measure')
    ap.add_argument('--write-card', action='store_true', help='write the figures on cards/onnx.json')
    ap.add_argument('--out', type=Path, help='also write the figures to this JSON file')
    a = ap.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    fer = fer_crops(a.n_fer)
    results, tmp = {}, Path(tempfile.mkdtemp())
    for name in a.models if 'readers' in a.parts else []:
        card = read_card(name)
        f = export_onnx(name, tmp/f'{name}.onnx')
        tw = taiwan_crops(card.get('crop'), a.n_taiwan)
        sets = {'fer2013_test': parity(name, f, fer, 64, a.threads), 'taiwan_faces_test_mtcnn': parity(name, f, tw, 64, a.threads),
                'fer2013_test_bs1': parity(name, f, fer[:a.n_bs1], 1, a.threads)}
        worst = {k: max(s[k] for s in sets.values()) for k in ('logits', 'probs', 'features_rel')}
        sp = speeds(name, f, fer, a.threads, a.rounds, a.n_bs1, min(a.n_bs64, len(fer)))
        results[name] = dict(card_format=card['format'], onnx_mb=round(f.stat().st_size/1e6, 1), crops_per_s=sp,
                             onnx_over_torch={bs: round(sp['onnx'][bs]/sp['torch'][bs], 2) for bs in sp['torch']},
                             parity=dict(n=sum(s['n'] for s in sets.values()), **worst), parity_sets=sets)
        print(f"{name}: crops/s torch {sp['torch']} onnx {sp['onnx']}; max |Δ| logits {worst['logits']:.2e} probs {worst['probs']:.2e} "
              f"features (relative) {worst['features_rel']:.2e} over {results[name]['parity']['n']} crops", flush=True)
    dets = detector_figures(a.detectors, fer, a.threads, a.rounds, a.n_bs1) if 'detectors' in a.parts else None
    meta = dict(command=command_line('bench/onnx_backend.py', argv),
                machine=f"{cpu_name()}, {a.threads} threads for both backends, load average {os.getloadavg()[0]:.1f} at the end",
                versions=dict(torch=torch.__version__, onnxruntime=onnxruntime.__version__, onnx=onnx.__version__),
                opset=OPSET, threads=a.threads, rounds=a.rounds)
    fig = dict(**meta, models=results) if 'readers' in a.parts else {}
    if dets is not None: fig['detectors'] = dict(**meta, n_pairs=len(fer), figures=dets)
    if a.out: a.out.write_text(json.dumps(fig, indent=1))
    if a.write_card:
        update_card('onnx', **fig)
        print(f"wrote {CARDS_DIR/'onnx.json'}")
    return fig

if __name__ == '__main__': main()
