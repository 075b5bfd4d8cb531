"""The labelling tool in a real browser: the tests start `avatar-anomaly label` (Voilà on a loopback port) once, on toon avatars
of a few FER2013 faces, and open one page in Chromium driven by Playwright. The main test labels five avatars with clicks and
digit keys (one a double click), skips one, shows the photo, undoes once, and the JSON-lines log must hold exactly those events.
The others: the blind switch says which state it is in (its text and its style change); the photo, once shown, has a caption and
the title names no path (the folders of a FER2013 avatar's path are its photo's label); after a click the next avatar is shown
with no button focused (it would look picked). The server is stopped at the end.

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

@pytest.fixture(scope='module')
def avatars(tmp_path_factory) -> Path:
    "A folder with toon avatars of six FER2013 test faces (six emotions) and its manifest"
    require_browser('playwright', 'voila', 'anywidget')
    from avatar_anomaly.data import read_dataset, usable_rows
    from avatar_anomaly.avatars import generate_avatars, make_stylizer
    fer = require_dataset('fer2013')
    faces = usable_rows(read_dataset(fer), ['test']).groupby('label').head(1).head(6)
    out = tmp_path_factory.mktemp('labeling')/'avatars'
    generate_avatars(faces, make_stylizer('toon'), out, root=fer, progress=False)
    return out

@pytest.fixture(scope='module')
def server(avatars):
    "`(address, log file)` of `avatar-anomaly label` serving the avatars; stopped with Ctrl-C (SIGINT) at the end, which must exit 0"
    from avatar_anomaly.labeling import label_items, label_table
    store = avatars.parent/'labels.jsonl'
    with cli_server('label', str(avatars), '--annotator', 'tester', '--store', str(store)) as (url, ended): yield url, store
    n = len(label_table(store, label_items(avatars))) if store.exists() else 0
    assert ended['returncode'] == 0 and f'stopped; {n} of 6 avatars labelled by tester' in ended['out'], ended

@pytest.fixture(scope='module')
def page(server):
    "The tool's page, once it shows its progress; no page errors by the end"
    from playwright.sync_api import expect
    with browser_page(server[0], height=800) as (page, errors):
        expect(page.locator('.aa-progress')).to_contain_text('of 6 labelled', timeout=WAIT_MS)
        yield page
    assert not errors, errors

button = lambda page, name: page.get_by_role('button', name=name, exact=True)

def set_blind(page, on:bool):
    "Switch blind mode on or off (its state is the switch's `mod-active` class), and wait until the photo is hidden or shown"
    from playwright.sync_api import expect
    blind = page.locator('.aa-blind')
    if ('mod-active' in blind.get_attribute('class')) != on: blind.click()
    expect(blind).to_have_class(re.compile(r'\bmod-active\b' if on else r'^(?!.*\bmod-active\b)'))
    (expect(page.locator('.aa-photo')).to_be_hidden if on else expect(page.locator('.aa-photo')).to_be_visible)()

def test_label_in_browser(server, page):
    from playwright.sync_api import expect
    from avatar_anomaly.labeling import Labeler, file_hash, label_items, label_table
    url, store = server
    items = label_items(store.parent/'avatars')
    order = list(Labeler(store.parent/'unused.jsonl', items, 'tester').items.item)   # the tool's order: 'avatar k of 6' is order[k - 1]
    item_of = lambda caption: order[int(re.match(r'avatar (\d+) of 6', caption).group(1)) - 1]
    progress, item, photo = page.locator('.aa-progress'), page.locator('.aa-item'), page.locator('.aa-photo')
    expect(progress).to_have_text('0 of 6 labelled')
    expect(photo).to_be_hidden()                                   # blind by default
    shown = []
    def act(do, then:str):
        "Do something to the avatar shown, then wait until the progress says `then` and another avatar is shown"
        shown.append(item.inner_text())
        do()
        expect(progress).to_contain_text(then)
        expect(item).not_to_have_text(shown[-1])
    act(lambda: button(page, 'happiness (4)').click(), '1 of 6 labelled')
    act(lambda: page.keyboard.press('7'), '2 of 6 labelled')              # neutral
    act(lambda: button(page, 'sadness (5)').dblclick(), '3 of 6 labelled')    # a double click is one label
    act(lambda: page.keyboard.press('s'), '3 of 6 labelled, 1 skipped')
    act(lambda: page.keyboard.press('1'), '4 of 6 labelled, 1 skipped')  # surprise
    set_blind(page, False)
    expect(photo).to_be_visible()                                   # the source photo beside the avatar
    act(lambda: button(page, 'anger (6)').click(), '5 of 6 labelled, 1 skipped')
    if os.environ.get('AVATAR_ANOMALY_SAVE_SCREENSHOTS') == '1':
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.mouse.move(0, 0)                                       # no button under the pointer (hovered)
        page.locator('.aa-labeling').screenshot(path=str(SCREENSHOT))
    page.keyboard.press('u')
    expect(progress).to_contain_text('4 of 6 labelled, 1 skipped')
    expect(item).to_have_text(shown[-1])                            # the undone avatar is shown again
    events = [json.loads(l) for l in store.read_text().splitlines()]
    assert [(e['event'], e['label']) for e in events] == [('label', 'happiness'), ('label', 'neutral'), ('label', 'sadness'), ('skip', None),
                                                          ('label', 'surprise'), ('label', 'anger'), ('undo', None)]
    assert [e['item'] for e in events] == [item_of(c) for c in shown + [shown[-1]]] and {e['annotator'] for e in events} == {'tester'}
    path = dict(zip(items.item, items.path))
    assert all(e['sha256'] == file_hash(path[e['item']]) for e in events)
    t = label_table(store, items)
    assert sorted(t.label) == ['happiness', 'neutral', 'sadness', 'surprise'] and set(t.annotator) == {'tester'}

def test_blind_switch_shows_its_state(page):
    from playwright.sync_api import expect
    from avatar_anomaly.labeling import blind_look
    blind, colours = page.locator('.aa-blind'), {}
    for on in (True, False, True):
        set_blind(page, on)
        expect(blind).to_have_text(blind_look(on)['description'])       # its words say which state it is in,
        colours.setdefault(on, []).append(blind.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]"))
    assert colours[True][0] == colours[True][1] != colours[False][0], colours   # and so do its colours

def test_photo_shown_without_its_path(page):
    from playwright.sync_api import expect
    set_blind(page, False)
    caption = page.locator('.aa-photo-caption')
    expect(caption).to_be_visible(); expect(caption).to_have_text("the person's photo")
    title = page.locator('.aa-item').inner_text()
    assert re.fullmatch(r'avatar \d of 6', title.strip()), title     # no path: its folders name the photo's label
    assert '/' not in page.locator('.aa-labeling').inner_text()     # nor anywhere else in the tool
    set_blind(page, True)
    expect(page.locator('.aa-photo')).to_be_hidden(); expect(page.locator('.aa-photo-caption')).to_be_hidden()

def test_next_avatar_has_no_focused_button(page):
    from playwright.sync_api import expect
    item = page.locator('.aa-item')
    shown = item.inner_text()
    skip = button(page, 'skip (s)')
    skip.click()
    expect(item).not_to_have_text(shown)                            # the next avatar,
    expect(skip).not_to_be_focused()                                # and the button clicked for the last one no longer focused
    assert page.evaluate("document.activeElement.tagName") != 'BUTTON'
    page.keyboard.press('u')                                        # the skip taken back (a key: the focus stays where it is)
    expect(item).to_have_text(shown)
