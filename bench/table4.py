"""The study's Table 4 on FER2013, as an audit (`avatar_anomaly.audit.preservation_table`): how well the shipped real-face model recognises the photo's emotion on avatars, over a
4×4 grid of the toon knobs and the white-box generator (full cartoon and a half blend), on the validation split; the chosen
settings once on test: per generator, the most stylized setting that keeps agreement with the photo predictions at or above
--min-agreement (for the toon, among settings that move both shape and colour).

    python bench/table4.py                      # writes the rows to the `table4` card (avatar_anomaly/cards/table4.json)
    python bench/table4.py --n 300 --no-card    # a quick look
    python bench/table4.py --reuse-valid        # valid rows from the card (deterministic), test again
    python bench/table4.py --add animegan --n 500   # add a generator's rows (valid and test, n photos each) to the card's
"""
import argparse, json, sys, time
from pathlib import Path
import pandas as pd
from avatar_anomaly.data import dataset_path, read_dataset
from avatar_anomaly.weights import read_card, update_card, command_line
from avatar_anomaly.toon import whitebox_checkpoint
from avatar_anomaly.predict import PHOTO_NETWORK
from avatar_anomaly.avatars import table4_stylizers, choose_settings, make_stylizer
from avatar_anomaly.audit import preservation_table   # Table 4 is an audit of the settings (chapter 08c)

GENERATOR_FILES = {'whitebox': 'whitebox_cartoon_gan_fp16.tflite', 'animegan': 'animeganv2_hayao_256x256_integer_quant.tflite'}   # their weight files

def add_rows(table, a, argv):
    "Rows of one more generator (its card's settings) on valid and test, `--n` photos each, added to the card's rows"
    st = make_stylizer(a.add, GENERATOR_FILES.get(a.add))
    res = pd.concat([preservation_table(table, {a.add: st}, split=s, n=a.n, progress=not a.quiet).iloc[1:].assign(split=s) for s in ('valid', 'test')], ignore_index=True)
    res = res.assign(chosen=False).round(4)
    print(res.to_string())
    if not a.no_card:
        card = read_card('table4')
        rows = [r for r in card['rows'] if r['generator'] != a.add] + res.to_dict('records')
        update_card('table4', rows=rows, added={**card.get('added', {}), a.add: dict(n=a.n, command=command_line('bench/table4.py', argv))})
    return res

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=None, help='photos per split (default: all)')
    ap.add_argument('--min-agreement', type=float, default=0.8, help='agreement a chosen setting must keep on valid')
    ap.add_argument('--whitebox', type=Path, default=None, help='TFLite file (default: the 224 px float16 file next to the data)')
    ap.add_argument('--no-card', action='store_true', help='print only')
    ap.add_argument('--quiet', action='store_true', help='no progress bars')
    ap.add_argument('--reuse-valid', action='store_true', help="take the valid rows from the card instead of recomputing them")
    ap.add_argument('--add', default=None, help="a generator (at its card's settings) whose valid and test rows join the card's rows")
    a = ap.parse_args(argv)
    table = read_dataset(dataset_path('fer2013'))
    if a.add: return add_rows(table, a, argv)
    stylizers = table4_stylizers(whitebox=a.whitebox or whitebox_checkpoint('whitebox_cartoon_gan_fp16.tflite'))
    t0 = time.time()
    if a.reuse_valid: valid = pd.DataFrame(read_card('table4')['rows']).query("split == 'valid'").drop(columns='chosen')
    else: valid = preservation_table(table, stylizers, split='valid', n=a.n, progress=not a.quiet).assign(split='valid')
    print(f"valid: {len(stylizers)} settings × {valid.n[0]} photos in {time.time() - t0:.0f} s", file=sys.stderr)
    chosen = choose_settings(valid, a.min_agreement)
    test = preservation_table(table, {g: stylizers[g] for g in chosen.generator}, split='test', n=a.n, progress=not a.quiet).assign(split='test')
    res = pd.concat([valid, test], ignore_index=True)
    res['chosen'] = res.generator.isin(set(chosen.generator)) | (res.generator == 'photo')
    res = res.round(4)
    print(res.to_string())
    if not a.no_card and a.n is None:
        update_card('table4', rows=res.to_dict('records'), min_agreement=a.min_agreement, model=PHOTO_NETWORK)
        toon = chosen[chosen.generator.str.startswith('toon')]
        if len(toon): update_card('toon', settings=json.loads(toon.settings.iloc[0]))   # the toon's default is Table 4's choice
        print(f"wrote the table4 card ({time.time() - t0:.0f} s)")
    return res

if __name__ == '__main__': main()
