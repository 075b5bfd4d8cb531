"""The camera tool of the check app in a real browser (issue 31): `avatar-anomaly app` on a loopback port, Chromium with a fake
camera that plays a YUV4MPEG2 file made here (`write_y4m`): the demo person's smiling photo for 4 s, then her neutral photo for
8 s (Chromium plays it in a loop), checked against the avatar of her smiling photo. Pressing Start camera, the page shows
"consistent" first, then an ANOMALY after she stops smiling, within the live smoothing's delay (`persist` frames at the rate
checked, plus a second for the page); the counters (frames received, checked, dropped, delay capture→verdict) are shown;
Stop shows the summary and the timeline; a camera that is refused or absent is said in words. No page errors, and no request
to any other server than the app's.

Skipped when chromium, Playwright, Voilà or anywidget is missing (`apt-get install -y chromium`, `pip install -e ".[dev]"`), a
failure when `AVATAR_ANOMALY_REQUIRE_DATA=1`. With `AVATAR_ANOMALY_SAVE_SCREENSHOTS=1` it saves the docs' screenshot
nbs/images/camera_app.png."""
import json, os
from pathlib import Path
import pytest
from PIL import Image
from conftest import require_browser, cli_server, browser_page
from avatar_anomaly.camera import write_y4m
from avatar_anomaly.live import live_settings
from avatar_anomaly.video import face_frames
from avatar_anomaly.widgets import DEMO_DIR, DEMO_PHOTOS

ROOT = Path(__file__).parents[1]
SCREENSHOT = ROOT/'nbs'/'images'/'camera_app.png'
WAIT_MS = 120_000   # the first page load starts a kernel that imports torch and loads the detector
FPS, SMILING_S, NEUTRAL_S = 5, 4, 8   # the fake camera's file: frames a second, seconds smiling, then neutral
FAKE_CAMERA = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']

@pytest.fixture(scope='module')
def server(tmp_path_factory):
    "The address of `avatar-anomaly app`; stopped with Ctrl-C (SIGINT) at the end, which must exit 0"
    require_browser('playwright', 'voila', 'anywidget')
    cache = tmp_path_factory.mktemp('cache')   # the demo videos are written there, not in the user's cache
    with cli_server('app', env={**os.environ, 'AVATAR_ANOMALY_CACHE': str(cache)}) as (url, ended): yield url
    assert ended['returncode'] == 0 and ended['out'].rstrip().endswith('stopped'), ended

@pytest.fixture(scope='module')
def camera_file(tmp_path_factory) -> Path:
    "The fake camera: her smiling photo for `SMILING_S` seconds, then her neutral photo for `NEUTRAL_S`, 320×240 at `FPS`"
    smiling, neutral = (Image.open(DEMO_DIR/DEMO_PHOTOS[k]).convert('RGB') for k in ('smiling', 'neutral'))
    frames = face_frames([(smiling, SMILING_S*FPS), (neutral, NEUTRAL_S*FPS)], size=(320, 240), drift=0)
    return write_y4m(tmp_path_factory.mktemp('camera')/'her.y4m', frames, fps=FPS)

SEEN_JS = """tool => {   // every state the tool shows: [ms, verdict, the real face's top emotion, stats]
    window.aaSeen = [];
    const note = () => {
        const v = tool.querySelector('.aa-camera-result .aa-verdict'), e = tool.querySelector('.aa-camera-result .aa-real-emotions td');
        const st = tool.querySelector('.aa-camera-status');
        window.aaSeen.push([Date.now(), v ? v.textContent : null, e ? e.textContent : null, st ? st.dataset.stats || null : null]); };
    new MutationObserver(note).observe(tool, {subtree: true, childList: true, characterData: true, attributes: true}); }"""

def stats(tool) -> dict:
    "The session's counters, as the page holds them"
    return json.loads(tool.locator('.aa-camera-status').get_attribute('data-stats'))

def test_camera_in_browser(server, camera_file):
    from playwright.sync_api import expect
    requests = []
    args = [*FAKE_CAMERA, f'--use-file-for-fake-video-capture={camera_file}']
    with browser_page(server, height=2400, args=args, before=lambda page: page.on('request', lambda r: requests.append(r.url))) as (page, errors):
        tool = page.locator('.aa-camera')
        expect(tool.locator('.aa-camera-start')).to_be_visible(timeout=WAIT_MS)
        expect(tool.locator('.aa-privacy')).to_contain_text('Nothing leaves this computer')
        tool.evaluate(SEEN_JS)
        tool.locator('.aa-camera-start').click()
        verdict = tool.locator('.aa-camera-result .aa-verdict')
        expect(verdict).to_have_text('consistent', timeout=WAIT_MS)
        expect(tool.locator('.aa-camera-result .aa-real-emotions')).to_contain_text('happiness')
        expect(tool.locator('.aa-camera-video')).to_be_visible()
        expect(verdict).to_have_text('ANOMALY', timeout=(SMILING_S + NEUTRAL_S)*2_000)
        expect(tool.locator('.aa-camera-status')).to_contain_text('frames received')
        expect(tool.locator('.aa-camera-delay')).to_contain_text('after its frame was taken')
        if os.environ.get('AVATAR_ANOMALY_SAVE_SCREENSHOTS') == '1':
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            tool.screenshot(path=str(SCREENSHOT))
        tool.locator('.aa-camera-stop').click()
        expect(tool.locator('.aa-camera-timeline')).to_be_visible(timeout=WAIT_MS)
        expect(tool.locator('.aa-summary')).to_contain_text('frame pairs')
        st = stats(tool)
        seen = page.evaluate('window.aaSeen')
        for name, words in (('NotAllowedError', 'the camera was refused'), ('NotFoundError', 'no camera was found')):   # as the browser says them
            page.evaluate("name => { navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('no camera here', name)); }", name)
            tool.locator('.aa-camera-start').click()
            expect(tool.locator('.aa-camera-error')).to_contain_text(words)
            expect(tool.locator('.aa-camera-start')).to_be_enabled()
        assert 'Traceback' not in page.content()
    assert not errors, errors
    assert requests and [u for u in requests if not u.startswith(('data:', 'blob:', server.rstrip('/')))] == []
    print(json.dumps(st))
    assert st['error'] is None and st['checked'] >= 2*live_settings()['persist'] and st['checked'] + st['dropped'] == st['received'], st
    assert st['delay_ms']['n'] > 0 and st['delay_ms']['median'] > 0, st
    shown = [(t, v, e) for t, v, e, _ in seen if v]
    assert shown[0][1] == 'consistent', shown[:3]                                                  # consistent first,
    t_anomaly = next(t for t, v, e in shown if v == 'ANOMALY')
    t_neutral = next(t for t, v, e in shown if e == 'neutral')                                     # she stopped smiling here (as read)
    allowed = (live_settings()['persist'] + 2)/st['checked_per_s'] + 1                             # persist frames at the rate checked, and a second
    assert t_neutral < t_anomaly <= t_neutral + 1000*allowed, (t_neutral, t_anomaly, allowed)      # then the anomaly, in time
