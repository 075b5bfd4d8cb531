"""The label-compare baseline on FER2013 (real face, avatar) pairs: threshold chosen on valid, reported once on test; the figures
go to the detector's card (`avatar_anomaly/cards/label_compare.json`, section `benchmarks.<generator>`). The real face is read
with the photo reader and the avatar with the avatar reader, as the checker reads them.

    python bench/check_baseline.py --choose-threshold    # toon avatars at the toon card's settings; sets the card's threshold
    python bench/check_baseline.py --generator whitebox --checkpoint whitebox_cartoon_gan_fp16.tflite   # white-box avatars
"""
import argparse, json, sys, time
from avatar_anomaly.data import dataset_path, read_dataset
from avatar_anomaly.weights import read_card, update_card, command_line
from avatar_anomaly.predict import DEFAULT_MODEL, DEFAULT_AVATAR_MODEL
from avatar_anomaly.avatars import make_stylizer
from avatar_anomaly.check import AnomalyChecker, DETECTOR_CARD, pairs_benchmark

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', default=DEFAULT_MODEL, help='real-face reader (default: the shipped photo reader)')
    ap.add_argument('--avatar-model', default=DEFAULT_AVATAR_MODEL, help='avatar reader (default: the shipped avatar reader)')
    ap.add_argument('--tta', action='store_true')
    ap.add_argument('--generator', default='toon', help="avatar generator (default: the toon at its card's settings)")
    ap.add_argument('--checkpoint', default=None, help='whitebox/dualstylegan checkpoint (a path or a name in $AVATAR_ANOMALY_WEIGHTS)')
    ap.add_argument('--choose-threshold', action='store_true', help="make this run's valid threshold the detector card's threshold")
    ap.add_argument('--no-card', action='store_true', help='print only')
    a = ap.parse_args(argv)
    t0 = time.time()
    st = make_stylizer(a.generator, a.checkpoint)
    checker = AnomalyChecker(a.model, a.avatar_model, tta=a.tta, detect=False, detector='label-compare')
    res = pairs_benchmark(read_dataset(dataset_path('fer2013')), checker, st)
    command = command_line('bench/check_baseline.py', argv)
    res = dict(encoders=dict(real=a.model, avatar=a.avatar_model), tta=a.tta, avatars=dict(generator=st.name, **st.settings), **res,
               seconds=round(time.time() - t0), command=command)
    print(json.dumps(res, indent=2))
    if not a.no_card:
        card = read_card(DETECTOR_CARD)
        update = dict(benchmarks={**card['benchmarks'], a.generator: res})
        if a.choose_threshold: update.update(threshold=res['valid']['threshold'], encoders=res['encoders'],
                                             chosen={**card['chosen'], 'command': res['command']})
        update_card(DETECTOR_CARD, **update)
    return res

if __name__ == '__main__': main()
