"Bad input never takes a batch down: one test per kind of bad input, each checking the message, the exit code (0 nothing found, 1 anomaly, 2 trouble) and that the good items of the same run still come out"
import json, os, shutil, struct, subprocess, sys, zlib
from pathlib import Path
import pytest
from PIL import Image
from skimage import data as skdata
from avatar_anomaly.cli import main

@pytest.fixture(scope='module')
def pics(tmp_path_factory):
    "A folder of good and bad images shared by the tests"
    d = tmp_path_factory.mktemp('pics')
    astro = Image.fromarray(skdata.astronaut())
    astro.save(d/'good.jpg', quality=95)
    (d/'empty.jpg').write_bytes(b'')
    jpg = (d/'good.jpg').read_bytes(); (d/'truncated.jpg').write_bytes(jpg[:len(jpg)//3])
    (d/'text.jpg').write_text('this is not an image')
    chunk = lambda t, b: struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b))
    (d/'bomb.png').write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 20_000, 20_000, 1, 0, 0, 0, 0)) + chunk(b'IEND', b''))
    Image.new('RGB', (1, 1)).save(d/'dot.png')
    Image.fromarray(skdata.coffee()).resize((100, 100)).save(d/'cup.png')
    Image.new('RGB', (300, 300), 'gray').save(d/'faceless.png')
    return d

def run(capsys, *argv):
    "`(status, stdout, stderr)` of the command line, in this process"
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err

def predict(capsys, *files):
    "`predict --json` on `files`: status, {file name: result}, stderr"
    status, out, err = run(capsys, 'predict', *files, '--json')
    return status, {Path(r['path']).name: r for r in map(json.loads, out.splitlines())}, err

@pytest.mark.parametrize('name,message', [
    ('empty.jpg', 'empty.jpg: empty file (0 bytes)'),
    ('truncated.jpg', 'truncated.jpg: truncated or corrupt image'),
    ('text.jpg', 'text.jpg: not an image file PIL can read'),
    ('bomb.png', "bomb.png: too large to decode safely (400000000 pixels; Pillow's decompression-bomb limit"),
    ('dot.png', 'too small to hold a face (1×1 px; at least 16)'),
    ('cup.png', 'no face found: a 100×100 image is taken as a face crop only when MTCNN finds a face in it'),
    ('faceless.png', 'no face found'),
    ('missing.jpg', 'missing.jpg: no such file'),
])
def test_predict_bad_file_beside_a_good_one(capsys, pics, name, message):
    status, res, err = predict(capsys, pics/'good.jpg', pics/name)
    assert status == 2 and '1 of 2 images could not be processed' in err
    assert res['good.jpg']['emotion'] == 'happiness' and res['good.jpg']['error'] is None
    assert message in res[name]['error'] and res[name]['emotion'] is None

def test_predict_links_in_a_folder(capsys, pics, tmp_path):
    (tmp_path/'in').mkdir(); shutil.copy(pics/'good.jpg', tmp_path/'in'/'good.jpg')
    (tmp_path/'in'/'gone.jpg').symlink_to(tmp_path/'nowhere.jpg'); (tmp_path/'in'/'loop').symlink_to(tmp_path/'in')
    status, res, _ = predict(capsys, tmp_path/'in')
    assert status == 2 and res['good.jpg']['emotion'] == 'happiness'
    assert res['gone.jpg']['error'].endswith('broken symbolic link') and res['loop']['error'].endswith('symbolic link loop: not followed')

@pytest.mark.skipif(os.getuid() == 0, reason='root reads every file: permissions cannot be tested as root')
def test_predict_unreadable_file(capsys, pics, tmp_path):
    shutil.copy(pics/'good.jpg', tmp_path/'locked.jpg'); (tmp_path/'locked.jpg').chmod(0)
    status, res, _ = predict(capsys, pics/'good.jpg', tmp_path/'locked.jpg')
    assert status == 2 and res['locked.jpg']['error'].endswith('locked.jpg: permission denied') and res['good.jpg']['error'] is None

def test_predict_crops_flag_reads_small_images(capsys, pics):
    status, res, _ = predict(capsys, pics/'cup.png')
    assert status == 2
    status, out, _ = run(capsys, 'predict', pics/'cup.png', '--crops', '--json')
    assert status == 0 and json.loads(out)['emotion'] is not None   # the user said it is a crop

def write_pairs(tmp_path, pics, lines):
    (tmp_path/'pairs.csv').write_text('real,avatar\n' + ''.join(l + '\n' for l in lines))
    shutil.copy(pics/'good.jpg', tmp_path/'a.jpg')
    return tmp_path/'pairs.csv'

@pytest.mark.parametrize('line,message', [(',a.jpg', 'line 3: blank real cell'), ('a.jpg,', 'line 3: blank avatar cell'),
                                          ('a.jpg,a.jpg,extra', 'line 3: 3 fields, the header has 2')])
def test_check_pairs_csv_bad_row(capsys, pics, tmp_path, line, message):
    f = write_pairs(tmp_path, pics, ['a.jpg,a.jpg', line])
    status, out, err = run(capsys, 'check', '--pairs', f, '--json', '--report', tmp_path/'report.csv')
    rows = [json.loads(l) for l in out.splitlines()]
    assert status == 2 and rows[0]['anomaly'] is False and message in rows[1]['error'] and str(f) in rows[1]['error']
    assert '2 pairs: 0 anomalies, 1 consistent, 1 error' in err and len((tmp_path/'report.csv').read_text().splitlines()) == 3

def test_check_pairs_csv_without_columns(capsys, tmp_path):
    (tmp_path/'p.csv').write_text('photo,cartoon\na.jpg,b.jpg\n')
    status, out, err = run(capsys, 'check', '--pairs', tmp_path/'p.csv')
    assert status == 2 and 'needs the columns real and avatar' in err and out == ''

@pytest.mark.parametrize('value', ['-1', '2', 'inf', 'nan'])
def test_check_threshold_outside_0_1(capsys, pics, value):
    status, out, err = run(capsys, 'check', pics/'good.jpg', pics/'good.jpg', '--threshold', value)
    assert status == 2 and f'--threshold must be a number in [0, 1], not {float(value)}' in err and out == ''

@pytest.mark.parametrize('report,message', [('missing_folder/r.csv', 'no folder'), ('r.txt', 'must end in .csv or .json')])
def test_check_report_refused_before_any_work(capsys, pics, tmp_path, report, message):
    status, out, err = run(capsys, 'check', pics/'good.jpg', pics/'good.jpg', '--report', tmp_path/report)
    assert status == 2 and message in err and out == ''   # nothing was checked

def test_check_folders_same_name_and_unmatched(capsys, pics, tmp_path):
    for side in ('real', 'av'): (tmp_path/side).mkdir()
    for n in ('a.jpg', 'b.jpg', 'b.png', 'c.jpg'): shutil.copy(pics/'good.jpg', tmp_path/'real'/n)
    for n in ('a.png', 'b.png'): shutil.copy(pics/'good.jpg', tmp_path/'av'/n)
    status, out, err = run(capsys, 'check', tmp_path/'real', tmp_path/'av', '--json')
    rows = [json.loads(l) for l in out.splitlines()]
    errors = [r['error'] for r in rows if r['error']]
    assert status == 2 and sum(r['anomaly'] is False for r in rows) == 1   # a.jpg × a.png is still checked
    assert any('2 files share this name (b.jpg, b.png)' in e for e in errors) and any('no avatar named c.*' in e for e in errors)
    assert any('no real image named b.*' in e for e in errors)   # b.png's partner is ambiguous, so it has none
    assert '4 pairs: 0 anomalies, 1 consistent, 3 errors' in err

def test_model_file_missing(capsys, pics, tmp_path):
    status, out, err = run(capsys, 'predict', pics/'good.jpg', '--model', tmp_path/'none')
    assert status == 2 and 'none: no model there' in err and 'Traceback' not in err

@pytest.mark.parametrize('damage,message', [('weights', 'not a readable safetensors file'), ('card', 'not a JSON card')])
def test_model_files_damaged(capsys, pics, tmp_path, damage, message):
    from avatar_anomaly.weights import MODELS_DIR
    for ext in ('.json', '.safetensors'): shutil.copy(MODELS_DIR/f'fer2013_fernet_s{ext}', tmp_path/f'm{ext}')
    f = tmp_path/('m.safetensors' if damage == 'weights' else 'm.json')
    f.write_bytes(f.read_bytes()[:100])
    status, out, err = run(capsys, 'predict', pics/'good.jpg', '--model', tmp_path/'m')
    assert status == 2 and f'{f}: {message}' in err and 'Traceback' not in err

def test_stylize_output_is_a_file(capsys, pics, tmp_path):
    (tmp_path/'out').write_text('')
    status, _, err = run(capsys, 'stylize', pics, tmp_path/'out')
    assert status == 2 and 'a file, not a folder' in err

def test_stylize_output_inside_input(capsys, pics, tmp_path):
    (tmp_path/'in').mkdir(); shutil.copy(pics/'good.jpg', tmp_path/'in')
    status, _, err = run(capsys, 'stylize', tmp_path/'in', tmp_path/'in'/'avatars')
    assert status == 2 and 'inside the input folder' in err and not (tmp_path/'in'/'avatars').exists()

def test_stylize_knob_of_another_generator(capsys, pics, tmp_path):
    status, _, err = run(capsys, 'stylize', pics/'good.jpg', tmp_path/'out', '--blend', '0.5')
    assert status == 2 and 'the toon generator has no --blend' in err

def test_stylize_goes_past_bad_files_and_resumes_from_any_spelling(capsys, pics, tmp_path, monkeypatch):
    (tmp_path/'in').mkdir()
    for n in ('good.jpg', 'bomb.png', 'empty.jpg'): shutil.copy(pics/n, tmp_path/'in'/n)
    status, out, err = run(capsys, 'stylize', tmp_path/'in', tmp_path/'out', '--quiet')
    assert status == 2 and '1 avatar in' in out and '2 failed' in out and 'bomb.png: too large to decode safely' in err
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, 'stylize', 'in', 'out', '--quiet')   # relative spelling, another working directory
    assert status == 2 and '1 avatar in' in out
    assert len((tmp_path/'out'/'manifest.csv').read_text().splitlines()) == 2   # header + one row: nothing made twice

def test_stylize_nothing_made_leaves_no_folder(capsys, pics, tmp_path):
    status, out, err = run(capsys, 'stylize', pics/'empty.jpg', tmp_path/'out', '--quiet')
    assert status == 2 and 'empty.jpg: empty file' in err and '0 avatars' in out and not (tmp_path/'out').exists()

def test_data_missing_folder(capsys, tmp_path):
    status, out, err = run(capsys, 'data', tmp_path/'nowhere')
    assert status == 2 and 'nowhere: no such file or folder' in err

def test_predict_into_a_closed_pipe(pics, tmp_path):
    for i in range(3): shutil.copy(pics/'good.jpg', tmp_path/f'{i}.jpg')
    p = subprocess.run(f"{sys.executable} -m avatar_anomaly.cli predict {tmp_path} | head -1", shell=True, capture_output=True, text=True)
    assert p.stdout.count('\n') == 1 and 'Traceback' not in p.stderr and 'BrokenPipeError' not in p.stderr

def test_help_states_the_rules(capsys):
    assert main(['predict', '--help']) == 0
    out = capsys.readouterr().out
    assert 'taken whole only when MTCNN finds a face' in ' '.join(out.split()) and '--crops' in out

@pytest.mark.parametrize('damage', [lambda b: b[:len(b)//2], lambda b: b'\x00'*len(b)])
def test_damaged_detector_weights_named(capsys, pics, tmp_path, monkeypatch, damage):
    "A truncated or garbled Siamese weights file found through AVATAR_ANOMALY_WEIGHTS: one line naming the file, exit 2"
    from avatar_anomaly.weights import MODELS_DIR
    (tmp_path/'siamese_v2.safetensors').write_bytes(damage((MODELS_DIR/'siamese_v2.safetensors').read_bytes()))
    monkeypatch.setenv('AVATAR_ANOMALY_WEIGHTS', str(tmp_path))
    status, out, err = run(capsys, 'check', pics/'good.jpg', pics/'good.jpg', '--detector', 'siamese-v2')
    assert status == 2 and out == '' and 'Traceback' not in err, err
    assert f"{tmp_path/'siamese_v2.safetensors'}: not a readable safetensors file" in err and len(err.strip().splitlines()) == 1, err

def test_empty_csv_and_header_only_pairs(capsys, pics, tmp_path):
    "`data` on an empty CSV and `check --pairs` with only a header: one line each, exit 2 (nothing was checked)"
    (tmp_path/'empty.csv').write_text('')
    status, out, err = run(capsys, 'data', tmp_path/'empty.csv')
    assert status == 2 and 'empty.csv: an empty file' in err and 'Traceback' not in err, err
    (tmp_path/'pairs.csv').write_text('real,avatar\n')
    status, out, err = run(capsys, 'check', '--pairs', tmp_path/'pairs.csv')
    assert status == 2 and out == '' and 'pairs.csv: no pairs (only a header)' in err, err

@pytest.fixture(scope='module')
def videos(pics, tmp_path_factory):
    "Video pairs of the astronaut's face: 4 s at 10 fps, the same cut short (its index at the front, so it opens), and 1 s"
    from avatar_anomaly.video import face_frames, write_video
    d, face = tmp_path_factory.mktemp('videos'), Image.open(pics/'good.jpg').crop((140, 40, 340, 240))
    write_video(d/'whole.mp4', face_frames([(face, 40)], size=(160, 120)), fps=10)
    write_video(d/'cut.mkv', face_frames([(face, 40)], size=(160, 120)), fps=10)
    (d/'cut.mkv').write_bytes((d/'cut.mkv').read_bytes()[:len((d/'cut.mkv').read_bytes())*85//100])
    write_video(d/'short.mp4', face_frames([(face, 10)], size=(160, 120)), fps=10)
    return d

def test_video_cut_short_is_summarised_and_named(capsys, videos):
    "A real video cut in the middle: the frames that decoded are checked and summarised, the frame where decoding stopped named, exit 2"
    status, out, err = run(capsys, 'check', '--video', videos/'cut.mkv', videos/'whole.mp4', '--json')
    s = json.loads(out)
    assert status == 2 and 0 < s['pairs'] < 40 and 'Traceback' not in err, err
    assert f"{videos/'cut.mkv'}: decoding stopped at frame {s['pairs']}," in err and s['trouble'][0] in err, (s, err)

def test_video_shorter_avatar_counts_every_real_frame(capsys, videos):
    "An avatar video shorter than the real one: every real frame is checked or counted as unpaired, exit 2"
    status, out, err = run(capsys, 'check', '--video', videos/'whole.mp4', videos/'short.mp4', '--json')
    s = json.loads(out)
    assert status == 2 and s['pairs'] + s['unpaired'] == 40 and s['unpaired'] >= 29, s
    assert f"{s['unpaired']} real frames had no avatar frame near them in time" in err, err

def test_full_disk_report_keeps_the_summary(capsys, pics, videos, tmp_path):
    "A report on a full disk (a link to /dev/full): one line naming the file and the cause, the summary kept, exit 2"
    (tmp_path/'r.jsonl').symlink_to('/dev/full'); (tmp_path/'r.csv').symlink_to('/dev/full')
    status, out, err = run(capsys, 'check', '--video', videos/'whole.mp4', videos/'whole.mp4', '--report', tmp_path/'r.jsonl')
    assert status == 2 and out.startswith('40 frame pairs') and 'a bug' not in err, err
    assert f"{tmp_path/'r.jsonl'}: cannot write: no space left on the device" in err, err
    status, out, err = run(capsys, 'check', pics/'good.jpg', pics/'good.jpg', '--report', tmp_path/'r.csv')
    assert status == 2 and '1 pair: 0 anomalies, 1 consistent, 0 errors' in err and 'Traceback' not in err, err
    assert err.strip().endswith(f"check: error: {tmp_path/'r.csv'}: cannot write: no space left on the device"), err

def test_stylize_on_a_full_disk(capsys, pics, tmp_path, monkeypatch):
    "The disk fills while avatars are written: what was made is counted, then one line names the file and the cause, exit 2"
    import errno
    (tmp_path/'in').mkdir()
    for n in ('a.jpg', 'b.jpg'): shutil.copy(pics/'good.jpg', tmp_path/'in'/n)
    run(capsys, 'stylize', tmp_path/'in'/'a.jpg', tmp_path/'out', '--quiet')   # a.png made
    def full(self, *a, **kw): raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(Image.Image, 'save', full)
    status, out, err = run(capsys, 'stylize', tmp_path/'in', tmp_path/'out', '--quiet')
    assert status == 2 and '1 avatar in' in out and 'stopped: 1 not made' in out and 'Traceback' not in err, (out, err)
    assert f"stylize: error: {tmp_path/'out'/'b.png'}: cannot write: no space left on the device" in err, err

def test_export_on_a_read_only_disk(capsys, tmp_path, monkeypatch):
    "export on a read-only mount: one line naming the file (removing the temporary file fails too, and does not hide it)"
    import errno
    def read_only(self, *a, **kw): raise OSError(errno.EROFS, 'Read-only file system', str(self))
    monkeypatch.setattr(Path, 'write_bytes', read_only); monkeypatch.setattr(Path, 'unlink', read_only)
    status, out, err = run(capsys, 'export', 'siamese-v2', tmp_path/'d.onnx')
    assert status == 2 and out == '' and 'Traceback' not in err, err
    assert err.strip() == f"avatar-anomaly export: error: {tmp_path/'d.onnx'}: cannot write: a read-only file system", err

def test_stylize_refused_while_another_run_writes(capsys, pics, tmp_path, monkeypatch):
    "A second stylize run into a folder that a running one holds is refused, naming the first one's PID; nothing is written"
    from avatar_anomaly.data import folder_lock
    (tmp_path/'out').mkdir(); me = os.getpid()
    with folder_lock(tmp_path/'out'):
        monkeypatch.setattr(os, 'getpid', lambda: me + 1)   # the second run, here in this process under another PID
        status, out, err = run(capsys, 'stylize', pics/'good.jpg', tmp_path/'out', '--quiet', '--structure', '0.2')
    assert status == 2 and f"{tmp_path/'out'} is being written by another run (PID {me} on " in err, err
    assert not (tmp_path/'out'/'manifest.csv').exists() and not (tmp_path/'out'/'good.png').exists()

def test_stylize_resumes_through_a_linked_folder(capsys, pics, tmp_path):
    "A rerun through a symbolic link to the input folder makes nothing twice and lists each photo once"
    (tmp_path/'in').mkdir(); (tmp_path/'link').symlink_to(tmp_path/'in')
    for n in ('a.jpg', 'b.jpg'): shutil.copy(pics/'good.jpg', tmp_path/'in'/n)
    assert run(capsys, 'stylize', tmp_path/'in', tmp_path/'out', '--quiet')[0] == 0
    status, out, _ = run(capsys, 'stylize', tmp_path/'link', tmp_path/'out', '--quiet')
    assert status == 0 and '2 avatars' in out
    assert len((tmp_path/'out'/'manifest.csv').read_text().splitlines()) == 3   # header + two rows

def test_data_counts_neither_a_dangling_link_nor_an_unreadable_image(capsys, tmp_path):
    "`data` lists a dangling link (flagged) and an unreadable image, and counts neither in the class totals"
    from avatar_anomaly.data import write_image
    write_image(tmp_path/'tree'/'train'/'happy'/'a.png'); write_image(tmp_path/'tree'/'valid'/'sad'/'b.png')
    (tmp_path/'tree'/'train'/'happy'/'empty.png').write_bytes(b'')
    (tmp_path/'tree'/'train'/'happy'/'gone.png').symlink_to(tmp_path/'nothing.png')
    status, out, err = run(capsys, 'data', tmp_path/'tree', '--json')
    s = json.loads(out)
    assert status == 0 and s['images'] == 4 and s['counts']['train']['happiness'] == 1 and s['counts']['train']['total'] == 1, s
    assert s['flagged'] == [dict(split='train', reason='broken_link', rows=1)], s['flagged']
    assert sorted(Path(u['path']).name for u in s['unreadable']) == ['empty.png', 'gone.png'], s['unreadable']

def test_stylize_pickled_dualstylegan_says_trust_pickle(capsys, pics, tmp_path):
    "Issue 28, item 12: a DualStyleGAN generator.pt that safe loading refuses names the CLI's --trust-pickle, which then loads it"
    import torch
    ck = tmp_path/'checkpoint'; (ck/'pixar').mkdir(parents=True)
    torch.save({'g_ema': {}, 'args': Path('runs/x')}, ck/'pixar'/'generator.pt')   # a Path: not allowed by weights_only loading
    for f in ('encoder_wplus.pt', 'pixar/exstyle_code.npy'): (ck/f).write_bytes(b'')
    argv = ('stylize', pics/'good.jpg', tmp_path/'av', '--generator', 'dualstylegan', '--checkpoint', ck, '--quiet')
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == '' and 'Traceback' not in err, err
    assert f"{ck/'pixar'/'generator.pt'} holds Python objects that safe loading refuses" in err, err
    assert err.strip().endswith('rerun with --trust-pickle if you trust the file') and 'trust_pickle=True' not in err, err
    status, out, err = run(capsys, *argv, '--trust-pickle')   # unpickled now: its (empty) state dict is what is refused
    assert status == 2 and 'missing keys' in err and 'safe loading refuses' not in err, err
    status, out, err = run(capsys, 'stylize', pics/'good.jpg', tmp_path/'toon', '--trust-pickle')
    assert status == 2 and 'the toon generator reads no pickles: --trust-pickle does not apply' in err, err

def test_check_pairs_prints_paths_as_folders_do(capsys, pics, tmp_path, monkeypatch):
    "Issue 29: `check --pairs` printed absolute paths where folder mode printed relative ones"
    for side in ('real', 'av'): (tmp_path/side).mkdir(); shutil.copy(pics/'good.jpg', tmp_path/side/'a.jpg')
    (tmp_path/'abs.csv').write_text(f"real,avatar\n{tmp_path/'real'/'a.jpg'},{tmp_path/'av'/'a.jpg'}\n")
    (tmp_path/'rel.csv').write_text('real,avatar\nreal/a.jpg,av/a.jpg\n')
    monkeypatch.chdir(tmp_path)
    shown = lambda out: [(r['real'], r['avatar']) for r in map(json.loads, out.splitlines())]
    printed = [shown(run(capsys, *argv, '--json')[1]) for argv in
               (('check', 'real', 'av'), ('check', '--pairs', 'abs.csv'), ('check', '--pairs', tmp_path/'rel.csv'))]
    assert printed == [[('real/a.jpg', 'av/a.jpg')]]*3, printed
    status, out, err = run(capsys, 'check', '--pairs', 'abs.csv')
    assert status == 0 and out.startswith('real/a.jpg | av/a.jpg: consistent') and '1 pair: 0 anomalies, 1 consistent, 0 errors' in err

def test_label_photos_for_a_stylize_folder_names_the_command(capsys, pics, tmp_path):
    "Issue 29: `label AVATARS --photos PHOTOS` on a folder made by `stylize` named an internal function; it names the command and what to do"
    (tmp_path/'photos').mkdir(); shutil.copy(pics/'good.jpg', tmp_path/'photos'/'a.jpg')
    assert run(capsys, 'stylize', tmp_path/'photos', tmp_path/'av', '--quiet')[0] == 0
    status, out, err = run(capsys, 'label', tmp_path/'av', '--photos', tmp_path/'photos', '--annotator', 'ana')
    assert status == 2 and out == '' and 'generate_avatars' not in err, err
    assert 'holds avatars made by `avatar-anomaly stylize`' in err and 'leave out --photos' in err, err
