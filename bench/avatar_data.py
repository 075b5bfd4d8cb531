"""Build the FER2013 avatar dataset (every split, toon at TOON_DEFAULT, in the cache) and its anomaly pairs; report the speed.

    python bench/avatar_data.py                     # writes bench/results/avatar_data.txt
    python bench/avatar_data.py --generator whitebox --checkpoint FILE   # writes bench/results/avatar_data_whitebox.txt
"""
import argparse, io, time
from pathlib import Path
from avatar_anomaly.data import dataset_path, read_dataset, avatar_table
from avatar_anomaly.toon import make_stylizer
from avatar_anomaly.avatars import dataset_avatars, anomaly_pairs, avatar_dir

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--generator', default='toon')
    ap.add_argument('--checkpoint', default=None)
    ap.add_argument('--splits', nargs='*', default=None)
    ap.add_argument('--out', type=Path, default=None, help='default: bench/results/avatar_data[_GENERATOR].txt')
    a = ap.parse_args(argv)
    table = read_dataset(dataset_path('fer2013'))
    st = make_stylizer(a.generator, checkpoint=a.checkpoint)   # the toon at TOON_DEFAULT by default
    folder = avatar_dir(table, st)
    before = len(avatar_table(folder)) if (folder/'manifest.csv').is_file() else 0
    t0 = time.time()
    av = dataset_avatars(table, st, splits=a.splits, out_dir=folder)
    secs = time.time() - t0
    made = len(av) - before
    pairs = anomaly_pairs(av)
    out = io.StringIO()
    print(f"generator {st.name} {st.settings}; avatars in {folder}", file=out)
    print(f"{len(av)} avatars, {made} made now in {secs:.0f} s: {made/secs:.1f} images/s ({before} were there already)", file=out)
    print(f"pairs: {len(pairs)}, anomalies {pairs.anomaly.mean():.3f}", file=out)
    print(pairs.groupby(['split', 'kind']).size().unstack().to_string(), file=out)
    print(out.getvalue())
    if a.splits is None and made:   # a build of every split; a rerun that makes nothing keeps the figures
        name = 'avatar_data' + ('' if a.generator == 'toon' else f'_{a.generator}')
        (a.out or Path(__file__).parent/'results'/f'{name}.txt').write_text(out.getvalue())

if __name__ == '__main__': main()
