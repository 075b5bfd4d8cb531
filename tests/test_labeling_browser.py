"""The labelling tool in a real browser: the test starts `avatar-anomaly label` (Voilà on a loopback port) on toon avatars of a
few FER2013 faces, Chromium driven by Playwright labels five of them with clicks and digit keys (one a double click), skips one,
shows the photo, undoes once, and the JSON-lines log must hold exactly those events. The server is stopped at the end.

Skipped when chromium, Playwright, Voilà or anywidget is missing (`apt-get install -y chromium`, `pip install -e ".[dev]"`), a
failure when `AVATAR_ANOMALY_REQUIRE_DATA=1`. With `AVATAR_ANOMALY_SAVE_SCREENSHOTS=1` it saves the docs' screenshot
nbs/images/labeling_tool.png."""
import json, os, re
from pathlib import Path
import pytest
from conftest import require_dataset, require_browser, cli_server, browser_page

ROOT = Path(__file__).parents[1]
SCREENSHOT = ROOT/'nbs'/'images'/'labeling_tool.png'
WAIT_MS = 120_000   # the first page load starts a kernel that imports torch

@pytest.fixture
def avatars(tmp_path) -> Path:
    "A folder with toon avatars of six FER2013 test faces (six emotions) and its manifest"
    require_browser('playwright', 'voila', 'anywidget')
    from avatar_anomaly.data import read_dataset, usable_rows
    from avatar_anomaly.avatars import generate_avatars, make_stylizer
    fer = require_dataset('fer2013')
    faces = usable_rows(read_dataset(fer), ['test']).groupby('label').head(1).head(6)
    generate_avatars(faces, make_stylizer('toon'), tmp_path/'avatars', root=fer, progress=False)
    return tmp_path/'avatars'

@pytest.fixture
def server(avatars, tmp_path):
    "`(address, log file)` of `avatar-anomaly label` serving the avatars; stopped with Ctrl-C (SIGINT) at the end, which must exit 0"
    store = tmp_path/'labels.jsonl'
    with cli_server('label', str(avatars), '--annotator', 'tester', '--store', str(store)) as (url, ended): yield url, store
    assert ended['returncode'] == 0 and 'stopped; 4 of 6 avatars labelled by tester' in ended['out'], ended

def test_label_in_browser(server):
    from playwright.sync_api import expect
    from avatar_anomaly.labeling import Labeler, file_hash, label_items, label_table
    url, store = server
    items = label_items(store.parent/'avatars')
    order = list(Labeler(store.parent/'unused.jsonl', items, 'tester').items.item)   # the tool's order: 'avatar k of 6' is order[k - 1]
    item_of = lambda caption: order[int(re.match(r'avatar (\d+) of 6', caption).group(1)) - 1]
    with browser_page(url, height=800) as (page, errors):
        progress, item, photo = page.locator('.aa-progress'), page.locator('.aa-item'), page.locator('.aa-photo')
        expect(progress).to_have_text('0 of 6 labelled', timeout=WAIT_MS)
        expect(photo).to_be_hidden()                                   # blind by default
        shown = []
        def act(do, then:str):
            "Do something to the avatar shown, then wait until the progress says `then` and another avatar is shown"
            shown.append(item.inner_text())
            do()
            expect(progress).to_contain_text(then)
            expect(item).not_to_have_text(shown[-1])
        button = lambda name: page.get_by_role('button', name=name, exact=True)
        act(lambda: button('happiness (4)').click(), '1 of 6 labelled')
        act(lambda: page.keyboard.press('7'), '2 of 6 labelled')              # neutral
        act(lambda: button('sadness (5)').dblclick(), '3 of 6 labelled')    # a double click is one label
        act(lambda: page.keyboard.press('s'), '3 of 6 labelled, 1 skipped')
        act(lambda: page.keyboard.press('1'), '4 of 6 labelled, 1 skipped')  # surprise
        page.locator('.aa-blind').click()
        expect(photo).to_be_visible()                                   # the source photo beside the avatar,
        expect(item).to_contain_text(': test/')                         # and the avatar's path (blind mode hides it)
        act(lambda: button('anger (6)').click(), '5 of 6 labelled, 1 skipped')
        if os.environ.get('AVATAR_ANOMALY_SAVE_SCREENSHOTS') == '1':
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.locator('.aa-labeling').screenshot(path=str(SCREENSHOT))
        page.keyboard.press('u')
        expect(progress).to_contain_text('4 of 6 labelled, 1 skipped')
        expect(item).to_contain_text(shown[-1])                         # the undone avatar is shown again (with its path now)
    assert not errors, errors
    events = [json.loads(l) for l in store.read_text().splitlines()]
    assert [(e['event'], e['label']) for e in events] == [('label', 'happiness'), ('label', 'neutral'), ('label', 'sadness'), ('skip', None),
                                                          ('label', 'surprise'), ('label', 'anger'), ('undo', None)]
    assert [e['item'] for e in events] == [item_of(c) for c in shown + [shown[-1]]] and {e['annotator'] for e in events} == {'tester'}
    path = dict(zip(items.item, items.path))
    assert all(e['sha256'] == file_hash(path[e['item']]) for e in events)
    t = label_table(store, items)
    assert sorted(t.label) == ['happiness', 'neutral', 'sadness', 'surprise'] and set(t.annotator) == {'tester'}
