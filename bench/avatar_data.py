"""Build the FER2013 avatar dataset (every split, in the cache) and its anomaly pairs; a full build's speed goes to the
generator's card (`build`).

    python bench/avatar_data.py                     # the toon at its card's settings
    python bench/avatar_data.py --generator whitebox --checkpoint whitebox_cartoon_gan_fp16.tflite
"""
import argparse, sys, time
from avatar_anomaly.data import dataset_path, read_dataset
from avatar_anomaly.weights import update_card
from avatar_anomaly.avatars import make_stylizer, dataset_avatars, anomaly_pairs, avatar_dir, avatar_table

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--generator', default='toon')
    ap.add_argument('--checkpoint', default=None)
    ap.add_argument('--splits', nargs='*', default=None)
    a = ap.parse_args(argv)
    table = read_dataset(dataset_path('fer2013'))
    st = make_stylizer(a.generator, a.checkpoint)
    folder = avatar_dir(table, st)
    before = len(avatar_table(folder)) if (folder/'manifest.csv').is_file() else 0
    t0 = time.time()
    av = dataset_avatars(table, st, splits=a.splits, out_dir=folder)
    secs = time.time() - t0
    made = len(av) - before
    pairs = anomaly_pairs(av)
    print(f"generator {st.name} {st.settings}; avatars in {folder}")
    print(f"{len(av)} avatars, {made} made now in {secs:.0f} s: {made/secs:.1f} images/s ({before} were there already)")
    print(f"pairs: {len(pairs)}, anomalies {pairs.anomaly.mean():.3f}")
    print(pairs.groupby(['split', 'kind']).size().unstack().to_string())
    if a.splits is None and made:   # a build of every split; a rerun that makes nothing keeps the figures
        update_card(a.generator, build=dict(dataset='FER2013', images=len(av), made=made, seconds=round(secs), images_per_s=round(made/secs, 1),
                    pairs=len(pairs), anomaly_share=round(float(pairs.anomaly.mean()), 3), cpu=f"{__import__('os').cpu_count()} cores",
                    command=('python bench/avatar_data.py ' + ' '.join(sys.argv[1:] if argv is None else argv)).strip()))

if __name__ == '__main__': main()
