"""The check tool in a real browser: the test starts `avatar-anomaly app` (Voilà on a loopback port), and Chromium driven by
Playwright checks the demo photo against the avatar of that photo (consistent) and against the avatar of her neutral photo (an
ANOMALY), uploads a broken file (an error naming it, no traceback), then checks the demo video pair (one anomaly, from halfway:
the summary, the verdict over time and the timeline image). No page errors; the server is stopped with Ctrl-C, which must exit 0.

Skipped when chromium, Playwright or Voilà is missing (`apt-get install -y chromium`, `pip install -e ".[dev]"`), a failure when
`AVATAR_ANOMALY_REQUIRE_DATA=1`. With `AVATAR_ANOMALY_SAVE_SCREENSHOTS=1` it saves the docs' screenshot nbs/images/check_app.png."""
import os
from pathlib import Path
import pytest
from conftest import require_browser, cli_server, browser_page
from avatar_anomaly.widgets import CHECK_PICKS, DEMO_AVATARS

ROOT = Path(__file__).parents[1]
SCREENSHOT = ROOT/'nbs'/'images'/'check_app.png'
WAIT_MS = 120_000   # the first page load starts a kernel that imports torch and loads the detector

@pytest.fixture
def server(tmp_path):
    "The address of `avatar-anomaly app`; stopped with Ctrl-C (SIGINT) at the end, which must exit 0"
    require_browser('playwright', 'voila')
    env = {**os.environ, 'AVATAR_ANOMALY_CACHE': str(tmp_path/'cache')}   # the demo videos are written there, not in the user's cache
    with cli_server('app', env=env) as (url, ended): yield url
    assert ended['returncode'] == 0 and ended['out'].rstrip().endswith('stopped'), ended

def test_check_in_browser(server, tmp_path):
    from playwright.sync_api import expect
    (tmp_path/'broken.png').write_bytes(b'\x89PNG garbage')
    with browser_page(server, height=1600) as (page, errors):
        button, verdict = page.locator('.aa-check-button'), page.locator('.aa-verdict')
        real, avatar = page.locator('.aa-pick-real select'), page.locator('.aa-pick-avatar select')
        expect(button).to_be_visible(timeout=WAIT_MS)
        expect(real).to_have_value(CHECK_PICKS[0]); expect(avatar).to_have_value(CHECK_PICKS[1])
        button.click()                                                       # her smiling photo vs the avatar of that photo
        expect(verdict).to_have_text('consistent', timeout=WAIT_MS)
        expect(page.locator('.aa-real-face')).to_be_visible(); expect(page.locator('.aa-avatar-face')).to_be_visible()
        expect(page.locator('.aa-real-emotions')).to_contain_text('happiness')
        avatar.select_option(DEMO_AVATARS[1])                                # ... vs the avatar of her neutral photo
        button.click()
        expect(verdict).to_have_text('ANOMALY', timeout=WAIT_MS)
        with page.expect_file_chooser() as chooser: page.locator('.aa-upload-avatar').click()   # the browser's file dialog
        chooser.value.set_files(str(tmp_path/'broken.png'))
        expect(avatar).to_have_value('uploaded: broken.png')
        button.click()
        expect(verdict).to_have_text('error', timeout=WAIT_MS)
        expect(page.locator('.aa-error')).to_have_text('broken.png: not an image file PIL can read')
        videos = [o for o in real.locator('option').all_inner_texts() if o.startswith('video:')]
        real.select_option(videos[0]); avatar.select_option(videos[1])        # the demo video pair
        button.click()
        expect(page.locator('.aa-timeline')).to_be_visible(timeout=WAIT_MS)
        expect(verdict).to_have_text('ANOMALY')
        expect(page.locator('.aa-summary')).to_contain_text('20 frame pairs, 4.00 s')
        expect(page.locator('.aa-summary')).to_contain_text('1 anomaly')
        expect(page.locator('.aa-over-time')).to_contain_text('ANOMALY')
        assert page.locator('.aa-timeline').evaluate('img => img.naturalWidth') > 300   # the figure arrived, not an empty image
        if os.environ.get('AVATAR_ANOMALY_SAVE_SCREENSHOTS') == '1':
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.locator('.aa-check').screenshot(path=str(SCREENSHOT))
        assert 'Traceback' not in page.content()
    assert not errors, errors
