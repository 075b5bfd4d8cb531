"""Time an audit end to end: FER2013 photos (a fixed label-stratified sample of the test split) against their toon avatars at the
toon card's settings, made afresh in a temporary folder, read with the default checker's readers as 48 px crops, scored by the
default detector, and the HTML and JSON reports written. Prints the figures and the time of each stage; writes the `audit` card.
Issue 27's target: 1,000 photos in at most 60 s on 2 cores. Then the same audit (the avatars made) with the readings through Ray
(`RayReading`, a local Ray with 1 and 2 workers), twice each: cold (Ray started by the run) and warm (Ray running; each run still
starts its actors), pairs/s of the warm run, and whether its figures equal the one-process audit's. The one-process time includes
making the avatars; the Ray runs find them made.

    python bench/audit.py                 # 1,000 photos, the card written
    python bench/audit.py --n 200 --no-card --ray 0
"""
import argparse, json, os, sys, tempfile, time
from pathlib import Path
from avatar_anomaly.data import dataset_path, read_dataset
from avatar_anomaly.weights import CARDS_DIR, write_card, command_line
from avatar_anomaly.avatars import make_stylizer, sample_split
from avatar_anomaly.check import AnomalyChecker
from avatar_anomaly.audit import audit, write_reports, RayReading

def ray_audit(photos, checker, avatars:Path, workers:int, local) -> dict:
    "The audit again (its avatars made) through a fresh local Ray of `workers` CPUs, twice: cold (Ray started) and warm; same figures?"
    import ray
    times, same = [], []
    for _ in range(2):
        t0 = time.perf_counter()
        res = audit(photos, generator=make_stylizer('toon'), checker=checker, out_dir=avatars, progress=False, engine=RayReading(workers))
        times.append(time.perf_counter() - t0); same.append(bool(res.table().equals(local.table())))
    ray.shutdown()
    return dict(engine='ray', workers=workers, seconds_cold=round(times[0], 1), seconds=round(times[1], 1),
                pairs_per_s=round(len(photos)/times[1], 1), same_figures=all(same))

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=1000, help='photos of the FER2013 test split')
    ap.add_argument('--no-card', action='store_true', help='print only')
    ap.add_argument('--ray', type=int, nargs='*', default=[1, 2], help='Ray worker counts to time (none: no Ray)')
    a = ap.parse_args(argv)
    photos = sample_split(read_dataset(dataset_path('fer2013')), 'test', a.n)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        checker = AnomalyChecker(detect=False)
        t1 = time.perf_counter()
        res = audit(photos, generator=make_stylizer('toon'), checker=checker, out_dir=Path(tmp)/'avatars', progress=False)
        t2 = time.perf_counter()
        write_reports(res, Path(tmp)/'audit.html')
        t3 = time.perf_counter()
        size = (Path(tmp)/'audit.html').stat().st_size
        ray_rows = [ray_audit(photos, checker, Path(tmp)/'avatars', w, res) for w in a.ray]
    g = res.generators[0]
    k, an = g.kept(), g.anomalies()
    figures = dict(photos=len(photos), checked=len(g.checked), not_checked=len(g.problems()), detector=res.detector,
                   readers=list(res.readers), kept={x: round(v, 4) for x, v in k.items()}, anomaly={x: round(v, 4) for x, v in an.items()},
                   seconds=dict(load=round(t1 - t0, 1), avatars_read_scored=round(t2 - t1, 1), report=round(t3 - t2, 1), total=round(t3 - t0, 1)),
                   report_kb=round(size/1e3), cpus=os.cpu_count(),
                   engines=[dict(engine='local', processes=1, seconds=round(t2 - t1, 1), pairs_per_s=round(len(photos)/(t2 - t1), 1)), *ray_rows])
    print(json.dumps(figures, indent=1))
    print(f"{len(photos)} photos audited end to end in {t3 - t0:.1f} s on {os.cpu_count()} CPUs "
          f"({len(photos)/(t3 - t0):.0f} photos/s); emotion kept {k['rate']:.1%}, anomalies {an['rate']:.1%}", file=sys.stderr)
    if not a.no_card:
        write_card(CARDS_DIR/'audit.json', dict(kind='benchmark', name='audit', description=__doc__.splitlines()[0], **figures,
                                                command=command_line('bench/audit.py', argv)))
    return figures

if __name__ == '__main__': main()
