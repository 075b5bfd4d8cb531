"""The audit's HTML report in a real browser: `avatar-anomaly audit` writes the report of two avatar folders (one of them with an
avatar that has no photo) against six FER2013 photos, and Chromium driven by Playwright opens the file. No console error, no
page error, no request but the file itself (the page's policy forbids any), and every image (figures, gallery) decoded.

Skipped when chromium or Playwright is missing (`apt-get install -y chromium`, `pip install -e ".[dev]"`), a failure when
`AVATAR_ANOMALY_REQUIRE_DATA=1`."""
import json, shutil
from conftest import require_browser, require_dataset, CHROMIUM, CHROMIUM_ARGS
from test_cli import cli
from avatar_anomaly.data import read_dataset, usable_rows, write_image

def test_audit_report_opens_offline_without_errors(tmp_path):
    require_browser('playwright')
    photos = tmp_path/'photos'; photos.mkdir()
    for p in usable_rows(read_dataset(require_dataset('fer2013')), ['test']).path[:6]: shutil.copy(p, photos)
    for name, knobs in (('light', []), ('strong', ['--structure', 1, '--color', 1])):
        assert cli('stylize', photos, tmp_path/name, '--quiet', *knobs).returncode == 0
    write_image(tmp_path/'strong'/'extra.png')
    r = cli('audit', photos, tmp_path/'light', tmp_path/'strong', '--crops', '--quiet', '--report', tmp_path/'audit.html', cwd=tmp_path)
    assert r.returncode == 2 and 'no real image named extra.*' in r.stderr, r.stderr   # the unmatched avatar: reported, status 2
    assert json.loads((tmp_path/'audit.json').read_text())['generators'][1]['checked'] == 6
    from playwright.sync_api import sync_playwright
    url, console, errors, requests = (tmp_path/'audit.html').as_uri(), [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on('console', lambda m: console.append(f"{m.type}: {m.text}"))
            page.on('pageerror', lambda e: errors.append(str(e)))
            page.on('request', lambda q: requests.append(q.url))
            page.goto(url, wait_until='load')
            assert page.title() == 'Avatar audit'
            widths = page.locator('img').evaluate_all('imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)')
            assert len(widths) == 2 + 2*2*6 and min(widths) > 0, widths   # two confusion figures, six photos and avatars each
            assert 'no real image named extra' in page.content() and 'Paired comparisons' in page.content()
        finally: browser.close()
    assert not errors and not [m for m in console if m.startswith('error')], (errors, console)
    assert [q for q in requests if not q.startswith('data:')] == [url], requests
