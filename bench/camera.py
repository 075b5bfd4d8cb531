"""The camera tool end to end in a browser (issue 31): `avatar-anomaly app` on a loopback port, and Chromium with a fake
camera that plays a YUV4MPEG2 file (`avatar_anomaly.camera.write_y4m`: the demo person's smiling photo for 4 s, then her
neutral photo for 8 s, 320×240 at 5 fps, in a loop) against the avatar of her smiling photo, for `--seconds` after Start.
It prints, and with `--write-card` puts on the camera card (`benchmarks`, under `browser_<seconds>s`, with the command, the
detector (the checker's default) and the machine's load): checked frame pairs a second end to end, the delay from capture to verdict as the browser measured it
(median and 95th percentile), the frames received, checked and dropped, and the resident memory of the page's kernel (the
process that checks the frames) when Start was pressed, a minute later (runs longer than that), at the end and its highest, sampled every second.

    python bench/camera.py                                  # 30 s
    python bench/camera.py --seconds 300 --write-card       # is the memory flat over 5 minutes?
"""
import argparse, json, os, re, subprocess, sys, tempfile, time
from pathlib import Path
import psutil
from PIL import Image
from avatar_anomaly.camera import CAMERA_CARD, camera_settings, write_y4m
from avatar_anomaly.check import CHECKER_CARD
from avatar_anomaly.video import face_frames
from avatar_anomaly.weights import command_line, read_card, update_card
from avatar_anomaly.widgets import DEMO_DIR, DEMO_PHOTOS

CHROMIUM = '/usr/bin/chromium'
ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-gpu', '--disable-quic',
        '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']
FPS, SMILING_S, NEUTRAL_S = 5, 4, 8

def page_kernel(server_pid:int, kernel_id:str) -> psutil.Process:
    "The kernel process of the page: the server's child whose connection file names `kernel_id`"
    for p in psutil.Process(server_pid).children(recursive=True):
        if f'kernel-{kernel_id}.json' in ' '.join(p.cmdline()): return p
    raise RuntimeError(f"no kernel {kernel_id} under the server")

def mb(p:psutil.Process) -> float: return round(p.memory_info().rss/2**20, 1)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seconds', type=float, default=30., help='how long the camera runs after Start')
    ap.add_argument('--write-card', action='store_true', help='put the figures on the camera card')
    a = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright, expect
    tmp = Path(tempfile.mkdtemp())
    smiling, neutral = (Image.open(DEMO_DIR/DEMO_PHOTOS[k]).convert('RGB') for k in ('smiling', 'neutral'))
    y4m = write_y4m(tmp/'her.y4m', face_frames([(smiling, SMILING_S*FPS), (neutral, NEUTRAL_S*FPS)], size=(320, 240), drift=0), fps=FPS)
    env = {**os.environ, 'AVATAR_ANOMALY_CACHE': str(tmp/'cache')}
    server = subprocess.Popen([sys.executable, '-m', 'avatar_anomaly.cli', 'app'], stdout=subprocess.PIPE, text=True, env=env)
    res = dict(camera_file=f'{SMILING_S} s smiling then {NEUTRAL_S} s neutral (the demo photos), 320x240 at {FPS} fps, looped',
               settings=camera_settings(), detector=read_card(CHECKER_CARD)['default_detector'], seconds=a.seconds, machine=dict(cpus=os.cpu_count(), load_average_at_start=[round(x, 2) for x in os.getloadavg()]))
    try:
        url = next(l.split()[1] for l in server.stdout if l.startswith('open http'))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, f'--use-file-for-fake-video-capture={y4m}'])
            page = browser.new_page(viewport=dict(width=900, height=2400))
            sockets = []
            page.on('websocket', lambda ws: sockets.append(ws.url))
            page.goto(url, timeout=300_000)
            tool = page.locator('.aa-camera')
            tool.locator('.aa-camera-start').wait_for(timeout=300_000)
            kid = next(m[1] for u in sockets if (m := re.search(r'/api/kernels/([\w-]+)/channels', u)))
            kernel = page_kernel(server.pid, kid)
            rss = [mb(kernel)]
            res['kernel_rss_mb'] = dict(start=rss[0])
            tool.locator('.aa-camera-start').click()
            t0 = time.monotonic()
            expect(tool.locator('.aa-camera-result .aa-verdict')).to_be_visible(timeout=300_000)
            res['first_verdict_s'] = round(time.monotonic() - t0, 2)
            while time.monotonic() - t0 < a.seconds:
                time.sleep(1); rss.append(mb(kernel))
            tool.locator('.aa-camera-stop').click()
            expect(tool.locator('.aa-camera-timeline')).to_be_visible(timeout=300_000)
            st = json.loads(tool.locator('.aa-camera-status').get_attribute('data-stats'))
            rss.append(mb(kernel))
            res['kernel_rss_mb'].update(end=rss[-1], max=max(rss), samples=len(rss), **({'at_60s': rss[60]} if len(rss) > 61 else {}))
            browser.close()
    finally:
        server.send_signal(2)
        try: server.wait(60)
        except subprocess.TimeoutExpired: server.kill()
    res.update(received=st['received'], checked=st['checked'], dropped=st['dropped'], checked_seconds=st['seconds'],
               checked_per_s=st['checked_per_s'], delay_ms=st['delay_ms'], error=st['error'])
    res['machine']['load_average_at_end'] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(res, indent=1))
    if a.write_card:
        res['command'] = command_line('bench/camera.py', argv if argv is not None else sys.argv[1:])
        update_card(CAMERA_CARD, benchmarks={**read_card(CAMERA_CARD).get('benchmarks', {}), f'browser_{a.seconds:g}s': res})
        print(f"written to the {CAMERA_CARD} card")

if __name__ == '__main__': main()
