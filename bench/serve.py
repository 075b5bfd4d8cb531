"""How the apps' server behaves for a user (issue 28, items 2 and 4): seconds from the command to its address and from the
address to a usable first page in Chromium, then kernels and memory (resident, the command and all its children) while 5
pages are opened one after the other, and how long after they are closed the memory is back where it was.

    python bench/serve.py                     # the check app (`avatar-anomaly app`) with its defaults (--max-pages 3, --idle 120)
    python bench/serve.py --app label         # the labelling tool, on three small images
    python bench/serve.py --idle 30           # options passed to the command
    python bench/serve.py --pythonpath ../old_checkout --plain --wait 60   # another version, without --max-pages/--idle
"""
import argparse, json, os, signal, subprocess, sys, tempfile, time
from pathlib import Path
import psutil
from PIL import Image

CHROMIUM, ARGS = '/usr/bin/chromium', ['--no-sandbox', '--disable-background-networking', '--disable-gpu']
USABLE = {'check': '.aa-check-button', 'label': '.aa-progress'}   # shown once the tool is built and connected

def tree_memory(pid:int) -> tuple[int, float]:
    "Kernels under the command `pid`, and the resident memory (GB) of the command and all its children"
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    live = [p for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]   # a kernel shut down but not yet reaped is a zombie
    return sum('ipykernel' in ' '.join(p.cmdline()) for p in live[1:]), round(sum(p.memory_info().rss for p in live)/2**30, 2)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--app', choices=list(USABLE), default='check')
    ap.add_argument('--pages', type=int, default=5)
    ap.add_argument('--max-pages', type=int, default=None)
    ap.add_argument('--idle', type=int, default=None)
    ap.add_argument('--plain', action='store_true', help='pass no --max-pages/--idle (a version without them)')
    ap.add_argument('--wait', type=int, default=None, help='the longest wait for memory to come back after closing (default: --idle + 180 s)')
    ap.add_argument('--pythonpath', default=None, help='run another checkout of the package (its folder)')
    a = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright
    tmp = Path(tempfile.mkdtemp())
    cmd = ['app']
    if a.app == 'label':
        (tmp/'avatars').mkdir()
        for i, c in enumerate(['red', 'green', 'blue']): Image.new('RGB', (64, 64), c).save(tmp/'avatars'/f'a{i}.png')
        cmd = ['label', str(tmp/'avatars'), '--annotator', 'bench']
    if not a.plain: cmd += [*(['--max-pages', str(a.max_pages)] if a.max_pages else []), *(['--idle', str(a.idle)] if a.idle else [])]
    env = {**os.environ, **({'PYTHONPATH': a.pythonpath} if a.pythonpath else {})}
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, '-m', 'avatar_anomaly.cli', *cmd], stdout=subprocess.PIPE, text=True, cwd=tmp, env=env)
    res = dict(app=a.app, cores=os.cpu_count(), load_1min=round(os.getloadavg()[0], 1))
    try:
        url = next(l.split()[1] for l in proc.stdout if l.startswith('open http'))
        res['command_to_address_s'] = round(time.monotonic() - t0, 1)
        res['kernels_at_address'], res['memory_at_address_gb'] = base = tree_memory(proc.pid)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            pages, opened = [], []
            for i in range(a.pages):
                page = browser.new_page(); pages.append(page)
                t = time.monotonic()
                page.goto(url, timeout=300_000)
                if page.locator('.aa-error-message').count():
                    opened.append(dict(page=i + 1, busy_page=page.locator('h1').inner_text()))
                else:
                    page.locator(USABLE[a.app]).wait_for(timeout=300_000)
                    opened.append(dict(page=i + 1, usable_s=round(time.monotonic() - t, 1)))
                opened[-1].update(zip(('kernels', 'memory_gb'), tree_memory(proc.pid)))
            res['pages'] = opened
            res['first_page_usable_s'] = opened[0].get('usable_s')
            browser.close()
        t, samples = time.monotonic(), []
        while time.monotonic() - t < (a.wait or (a.idle or 120) + 180):
            k, gb = tree_memory(proc.pid)
            samples.append((round(time.monotonic() - t), k, gb))
            if k <= base[0] and gb <= base[1]*1.1 + 0.1: break
            time.sleep(2)
        res['after_close'] = dict(memory_back_s=samples[-1][0] if samples[-1][1] <= base[0] else None, kernels=samples[-1][1],
                                  memory_gb=samples[-1][2], peak_kernels=max(p['kernels'] for p in opened),
                                  peak_memory_gb=max(p['memory_gb'] for p in opened))
    finally:
        proc.send_signal(signal.SIGINT)
        try: proc.wait(60)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()
        res['exit'] = proc.returncode
    print(json.dumps(res, indent=1))
    return res

if __name__ == '__main__': main()
