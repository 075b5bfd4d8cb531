"""The check tool in a real browser: the tests start `avatar-anomaly app` (Voilà on a loopback port) once, open one page in
Chromium driven by Playwright and, in order: the page asks nothing of any other server (no CDN) and shows no icon it would need
one for; each example's name fits in its dropdown; the demo photo checked against the avatar of that photo (consistent) and
against the avatar of her neutral photo (an ANOMALY, with why in words), a broken file uploaded (an error naming it, no traceback); then the demo
video pair: the previous verdict is gone as soon as the check starts and the frame pairs done are counted while it runs, then
one anomaly, from halfway (the summary, the verdict over time and the timeline image). No page errors; the server is stopped
with Ctrl-C, which must exit 0.

Skipped when chromium, Playwright or Voilà is missing (`apt-get install -y chromium`, `pip install -e ".[dev]"`), a failure when
`AVATAR_ANOMALY_REQUIRE_DATA=1`. With `AVATAR_ANOMALY_SAVE_SCREENSHOTS=1` it saves the docs' screenshot nbs/images/check_app.png."""
import os, re
from pathlib import Path
import pytest
from conftest import require_browser, cli_server, browser_page
from avatar_anomaly.widgets import CHECK_PICKS, DEMO_AVATARS, DEMO_VIDEO

ROOT = Path(__file__).parents[1]
SCREENSHOT = ROOT/'nbs'/'images'/'check_app.png'
WAIT_MS = 120_000   # the first page load starts a kernel that imports torch and loads the detector

@pytest.fixture(scope='module')
def server(tmp_path_factory):
    "The address of `avatar-anomaly app`; stopped with Ctrl-C (SIGINT) at the end, which must exit 0"
    require_browser('playwright', 'voila')
    cache = tmp_path_factory.mktemp('cache')   # the demo videos are written there, not in the user's cache
    with cli_server('app', env={**os.environ, 'AVATAR_ANOMALY_CACHE': str(cache)}) as (url, ended): yield url
    assert ended['returncode'] == 0 and ended['out'].rstrip().endswith('stopped'), ended

@pytest.fixture(scope='module')
def app(server):
    "`(page, errors, requests)`: the app's page once the tool is shown, its page errors and the address of every request it made"
    from playwright.sync_api import expect
    requests = []
    with browser_page(server, height=1600, before=lambda page: page.on('request', lambda r: requests.append(r.url))) as (page, errors):
        expect(page.locator('.aa-check-button')).to_be_visible(timeout=WAIT_MS)
        yield page, errors, requests
        assert 'Traceback' not in page.content()
    assert not errors, errors

def check(page, real:str, avatar:str):
    "Pick `real` and `avatar` in their dropdowns and press Check"
    page.locator('.aa-pick-real select').select_option(real); page.locator('.aa-pick-avatar select').select_option(avatar)
    page.locator('.aa-check-button').click()

def test_no_request_off_the_server(app, server):
    page, errors, requests = app
    assert requests and requests[0].startswith(server)
    assert [u for u in requests if not u.startswith(('data:', 'blob:', server.rstrip('/')))] == []   # no Font Awesome from a CDN
    assert page.locator('.aa-check .fa').count() == 0                                           # nor an icon that needs it

def test_video_choice_readable(app):
    page, errors, requests = app
    fits = """sel => { const c = document.createElement('canvas').getContext('2d'), s = getComputedStyle(sel);
                       c.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
                       const room = sel.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);   // the arrow is in the padding
                       return [...sel.options].filter(o => c.measureText(o.text).width > room).map(o => o.text); }"""
    for side in ('real', 'avatar'):
        sel = page.locator(f'.aa-pick-{side} select')
        assert any(o.startswith('video:') for o in sel.locator('option').all_inner_texts())
        assert sel.evaluate(fits) == [], side                                                  # no name cut off

def test_check_in_browser(app, tmp_path):
    from playwright.sync_api import expect
    page, errors, requests = app
    (tmp_path/'broken.png').write_bytes(b'\x89PNG garbage')
    verdict, avatar = page.locator('.aa-verdict'), page.locator('.aa-pick-avatar select')
    check(page, *CHECK_PICKS)                                                    # her smiling photo vs the avatar of that photo
    expect(verdict).to_have_text('consistent', timeout=WAIT_MS)
    expect(page.locator('.aa-real-face')).to_be_visible(); expect(page.locator('.aa-avatar-face')).to_be_visible()
    expect(page.locator('.aa-real-emotions')).to_contain_text('happiness')
    check(page, CHECK_PICKS[0], DEMO_AVATARS[1])                                 # ... vs the avatar of her neutral photo
    expect(verdict).to_have_text('ANOMALY', timeout=WAIT_MS)
    expect(page.locator('.aa-explanation')).to_contain_text('where the person reads happiness')   # why, in words
    expect(page.locator('.aa-explanation')).to_contain_text(': ANOMALY')
    with page.expect_file_chooser() as chooser: page.locator('.aa-upload-avatar').click()   # the browser's file dialog
    chooser.value.set_files(str(tmp_path/'broken.png'))
    expect(avatar).to_have_value('uploaded: broken.png')
    page.locator('.aa-check-button').click()
    expect(verdict).to_have_text('error', timeout=WAIT_MS)
    expect(page.locator('.aa-error')).to_have_text('broken.png: not an image file PIL can read')

def test_video_check_clears_and_counts(app):
    from playwright.sync_api import expect
    page, errors, requests = app
    verdict, status = page.locator('.aa-verdict'), page.locator('.aa-status')
    check(page, *CHECK_PICKS)
    expect(verdict).to_have_text('consistent', timeout=WAIT_MS)                   # a verdict on screen
    videos = [o for o in page.locator('.aa-pick-real select option').all_inner_texts() if o.startswith('video:')]
    page.locator('.aa-check').evaluate("""tool => {   // every state the tool shows while the pair is checked: (status, verdict)
        window.aaSeen = [];
        const note = () => window.aaSeen.push([tool.querySelector('.aa-status')?.textContent ?? '',
                                               tool.querySelector('.aa-verdict')?.textContent ?? null]);
        new MutationObserver(note).observe(tool, {subtree: true, childList: true, characterData: true, attributes: true}); }""")
    check(page, *videos)                                                          # the demo video pair (several seconds)
    expect(page.locator('.aa-timeline')).to_be_visible(timeout=WAIT_MS)
    expect(verdict).to_have_text('ANOMALY'); expect(status).to_contain_text('checked in')
    seen = [tuple(x) for x in page.evaluate('window.aaSeen')]
    checking = [(s, v) for s, v in seen if s.startswith('checking')]
    assert checking and checking[0][1] is None and 'consistent' not in {v for s, v in checking}, seen   # the old verdict gone as it starts,
    n = DEMO_VIDEO['fps']*DEMO_VIDEO['seconds']
    assert any(re.fullmatch(rf'checking… \d+ of {n} frame pairs', s) for s, v in checking), seen   # and the pairs counted as they go
    expect(page.locator('.aa-summary')).to_contain_text(f'{n} frame pairs, 4.00 s')
    expect(page.locator('.aa-summary')).to_contain_text('1 anomaly')
    expect(page.locator('.aa-over-time')).to_contain_text('ANOMALY')
    assert page.locator('.aa-timeline').evaluate('img => img.naturalWidth') > 300   # the figure arrived, not an empty image
    if os.environ.get('AVATAR_ANOMALY_SAVE_SCREENSHOTS') == '1':
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.locator('.aa-check').screenshot(path=str(SCREENSHOT))

def test_audit_view(app, tmp_path_factory):
    "Below the check tool, the audit tool: a folder of photos against a folder of avatars, the report shown in a frame of its own"
    from playwright.sync_api import expect
    from avatar_anomaly.widgets import demo_images
    page, errors, requests = app
    folder, im = tmp_path_factory.mktemp('audit'), demo_images()
    for side, image in (('photos', im['real']), ('avatars', im['kept'])):
        (folder/side).mkdir(); image.save(folder/side/'her.png')
    (folder/'photos'/'alone.png').write_bytes((folder/'photos'/'her.png').read_bytes())   # a photo without its avatar
    tool = page.locator('.aa-audit')
    tool.locator('input').fill(str(folder/'photos')); tool.locator('textarea').fill(str(folder/'avatars'))
    tool.get_by_role('button', name='Audit').click()
    expect(tool).to_contain_text('1 pair checked, 1 not checked', timeout=WAIT_MS)
    report = page.frame_locator('.aa-audit-report')
    expect(report.locator('h1')).to_have_text('Avatar audit')
    expect(report.locator('body')).to_contain_text('no avatar named alone')
