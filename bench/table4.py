"""The study's Table 4 on FER2013: how well the shipped real-face model recognises the photo's emotion on avatars, over a
4×4 grid of the toon knobs and the white-box generator (full cartoon and a half blend), on the validation split; the chosen
settings once on test: per generator, the most stylized setting that keeps agreement with the photo predictions at or above
--min-agreement (for the toon, among settings that move both shape and colour).

    python bench/table4.py                                  # writes bench/results/table4.csv
    python bench/table4.py --n 300 --out /tmp/t4.csv        # a quick look
    python bench/table4.py --reuse-valid                    # valid rows from the existing CSV (deterministic), test again
"""
import argparse, sys, time
from pathlib import Path
import pandas as pd
from avatar_anomaly.data import dataset_path, read_dataset
from avatar_anomaly.toon import table4_stylizers, whitebox_checkpoint, preservation_table, choose_settings

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=None, help='photos per split (default: all)')
    ap.add_argument('--min-agreement', type=float, default=0.8, help='agreement a chosen setting must keep on valid')
    ap.add_argument('--whitebox', type=Path, default=None, help='TFLite file (default: the 224 px float16 file next to the data)')
    ap.add_argument('--out', type=Path, default=Path(__file__).parent/'results'/'table4.csv')
    ap.add_argument('--reuse-valid', action='store_true', help='take the valid rows from --out instead of recomputing them')
    a = ap.parse_args(argv)
    table = read_dataset(dataset_path('fer2013'))
    stylizers = table4_stylizers(whitebox=a.whitebox or whitebox_checkpoint('whitebox_cartoon_gan_fp16.tflite'))
    t0 = time.time()
    if a.reuse_valid: valid = pd.read_csv(a.out, keep_default_na=False).query("split == 'valid'").drop(columns='chosen')
    else: valid = preservation_table(table, stylizers, split='valid', n=a.n).assign(split='valid')
    print(f"valid: {len(stylizers)} settings × {valid.n[0]} photos in {time.time() - t0:.0f} s", file=sys.stderr)
    chosen = choose_settings(valid, a.min_agreement)
    test = preservation_table(table, {g: stylizers[g] for g in chosen.generator}, split='test', n=a.n).assign(split='test')
    res = pd.concat([valid, test], ignore_index=True)
    res['chosen'] = res.generator.isin(set(chosen.generator)) | (res.generator == 'photo')
    a.out.parent.mkdir(parents=True, exist_ok=True)
    res.round(4).to_csv(a.out, index=False)
    print(res.round(4).to_string())
    print(f"wrote {a.out} ({time.time() - t0:.0f} s)")

if __name__ == '__main__': main()
