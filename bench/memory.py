"""Peak memory and time of `avatar-anomaly predict` on phone-size photos: each case runs in a fresh process, and its peak
resident memory (ru_maxrss of the child) and wall time are printed.

    python bench/memory.py                  # 1, 4 and 16 photos of 4032×3024 (JPEG), one 8000×8000 JPEG and one 8000×8000 PNG
    python bench/memory.py --cases 16       # one case
    python bench/memory.py --pythonpath ../old_checkout   # the same cases with another version of the package, for comparison
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path
from PIL import Image
from skimage import data as skdata

def phone_photo(path:Path, size=(4032, 3024), fmt='JPEG'):
    "A photo of `size` with a face in it (the astronaut, upscaled onto a gray canvas)"
    canvas = Image.new('RGB', size, (128, 128, 128))
    face = Image.fromarray(skdata.astronaut()).resize((min(size)*2//3,)*2)
    canvas.paste(face, ((size[0] - face.width)//2, (size[1] - face.height)//2))
    canvas.save(path, fmt, **(dict(quality=90) if fmt == 'JPEG' else {}))
    return path

def run_case(files:list, tmp:Path, pythonpath:str|None=None) -> dict:
    "Exit status, seconds, peak resident memory (MB) and results of one `avatar-anomaly predict --json` process on `files`"
    out = tmp/'out.jsonl'
    with open(out, 'w') as fh:
        t0 = time.time()
        proc = subprocess.Popen([sys.executable, '-c', 'import sys; from avatar_anomaly.cli import main; sys.exit(main())', 'predict', *map(str, files), '--json'],
                                stdout=fh, stderr=subprocess.DEVNULL, env={**os.environ, **({'PYTHONPATH': pythonpath} if pythonpath else {})})
        _, status, usage = os.wait4(proc.pid, 0)   # this child's own resource usage
        secs = time.time() - t0
    results = [json.loads(l) for l in out.read_text().splitlines()]
    return dict(exit=os.waitstatus_to_exitcode(status), seconds=round(secs, 1), peak_rss_mb=round(usage.ru_maxrss/1024),
                faces=sum(r['error'] is None for r in results))

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--cases', nargs='*', default=['1', '4', '16', '8000jpg', '8000png'])
    ap.add_argument('--pythonpath', default=None, help='run another checkout of the package (its folder)')
    a = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    try:
        photo = phone_photo(tmp/'phone.jpg')
        rows = []
        for case in a.cases:
            if case.isdigit(): files = [shutil.copy(photo, tmp/f'p{i}.jpg') for i in range(int(case))]
            else:
                fmt = 'PNG' if case.endswith('png') else 'JPEG'
                files = [phone_photo(tmp/f'big.{fmt.lower()}', (8000, 8000), fmt)]
            row = dict(case=case, images=len(files), **run_case(files, tmp, a.pythonpath))
            rows.append(row); print(json.dumps(row), flush=True)
        return rows
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
