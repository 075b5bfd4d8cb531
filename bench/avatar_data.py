"""Build a dataset's avatars in one style (in the cache, resumable) and its anomaly pairs; a full FER2013 build's speed goes to the
generator's card (`build`).

    python bench/avatar_data.py                     # FER2013, every split, the toon at its card's settings
    python bench/avatar_data.py --generator whitebox --checkpoint whitebox_cartoon_gan_fp16.tflite
    python bench/avatar_data.py --dataset taiwan_faces --generator animegan --checkpoint animeganv2_hayao_256x256_integer_quant.tflite
    python bench/avatar_data.py --sample train=4000 valid=1000     # a fixed label-stratified sample of those splits
"""
import argparse, json, sys, time
import pandas as pd
from avatar_anomaly.data import dataset_path, read_dataset
from avatar_anomaly.weights import update_card, command_line
from avatar_anomaly.avatars import make_stylizer, dataset_avatars, anomaly_pairs, avatar_dir, avatar_table, sample_split

def sampled(table:pd.DataFrame, sample:dict) -> pd.DataFrame:
    "Each split of `table`, cut to `sample[split]` rows where given (see `sample_split`)"
    return pd.concat([sample_split(table, s, sample.get(s)) for s in table.split.unique()])

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--dataset', default='fer2013', help='a folder name under the data root')
    ap.add_argument('--generator', default='toon')
    ap.add_argument('--checkpoint', default=None)
    ap.add_argument('--settings', default='{}', help='knobs as JSON, e.g. \'{"structure": 1, "color": 1}\' (default: the card\'s)')
    ap.add_argument('--splits', nargs='*', default=None)
    ap.add_argument('--sample', nargs='*', default=[], help='split=N: a fixed stratified sample of that split')
    a = ap.parse_args(argv)
    table = read_dataset(dataset_path(a.dataset))
    sample = {k: int(v) for k, v in (s.split('=') for s in a.sample)}
    if a.splits: table = table[table.split.isin(a.splits)]
    table = sampled(table, sample)
    st = make_stylizer(a.generator, a.checkpoint, **json.loads(a.settings))
    folder = avatar_dir(table, st)
    before = len(avatar_table(folder)) if (folder/'manifest.csv').is_file() else 0
    t0 = time.time()
    av = dataset_avatars(table, st, out_dir=folder)
    secs = time.time() - t0
    made = len(av) - before
    pairs = anomaly_pairs(av)
    print(f"{a.dataset}: generator {st.name} {st.settings}; avatars in {folder}")
    print(f"{len(av)} avatars, {made} made now in {secs:.0f} s: {made/max(secs, 1e-9):.1f} images/s ({before} were there already)")
    print(f"pairs: {len(pairs)}, anomalies {pairs.anomaly.mean():.3f}")
    print(pairs.groupby(['split', 'kind']).size().unstack().to_string())
    if a.dataset == 'fer2013' and a.splits is None and not sample and made:   # a build of every split; a rerun that makes nothing keeps the figures
        update_card(a.generator, build=dict(dataset='FER2013', images=len(av), made=made, seconds=round(secs), images_per_s=round(made/secs, 1),
                    pairs=len(pairs), anomaly_share=round(float(pairs.anomaly.mean()), 3), cpu=f"{__import__('os').cpu_count()} cores",
                    command=command_line('bench/avatar_data.py', argv)))

if __name__ == '__main__': main()
