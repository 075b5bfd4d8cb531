"The installed `avatar-anomaly` console script, end to end"
import json, shutil, subprocess, sys
from conftest import require_dataset

def cli(*args):
    exe = shutil.which('avatar-anomaly')
    assert exe, "the avatar-anomaly console script is not installed (pip install -e .)"
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=600)

def test_version():
    from avatar_anomaly import __version__
    r = cli('--version')
    assert r.returncode == 0 and r.stdout.strip() == f'avatar-anomaly {__version__}'

def test_module_version():
    "`python -m avatar_anomaly.cli` runs the same `main`"
    from avatar_anomaly import __version__
    r = subprocess.run([sys.executable, '-m', 'avatar_anomaly.cli', '--version'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == f'avatar-anomaly {__version__}', r

def test_help_lists_commands_and_exit_status():
    r = cli('--help')
    assert r.returncode == 0, r.stderr
    for name in ('data', 'train', 'table2', 'table3', 'predict', 'stylize', 'check', 'demo'):
        assert f"\n    {name} " in r.stdout, name
    for line in ('0  done, nothing found', '1  done, an anomaly found (check only)', '2  trouble: a usage error'):
        assert line in r.stdout, r.stdout

def test_data_missing_folder(tmp_path):
    r = cli('data', tmp_path/'nowhere')
    assert r.returncode == 2 and f"avatar-anomaly data: error: {tmp_path/'nowhere'}: no such file or folder\n" in r.stderr
    assert 'Traceback' not in r.stderr, r.stderr

def test_data_fer2013():
    r = cli('data', require_dataset('fer2013'), '--json')
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s['images'] == 35_710 and s['unreadable'] == [] and s['flagged'] == []
    assert {k: v['total'] for k, v in s['counts'].items()} == {'train': 28_558, 'valid': 3_579, 'test': 3_573}
    assert s['counts']['train']['disgust'] == 435 and s['counts']['valid']['happiness'] == 891

def test_data_cartoons():
    r = cli('data', require_dataset('cartoon_tomjerry'), '--json')
    assert r.returncode == 0, r.stderr
    c = json.loads(r.stdout)['counts']['train']
    assert (c['anger'], c['happiness'], c['sadness'], c['surprise'], c['total']) == (37, 35, 39, 66, 177)

def test_predict_avatar_reader_reads_avatars_whole():
    "`--model avatar` names the avatar reader; an anime crop without an MTCNN face is read whole, and the result says so"
    anime = sorted((require_dataset('anime_danbooru')/'train'/'happy').glob('*.jpg'))[:4]
    photo = cli('predict', *anime, '--json')
    avatar = cli('predict', *anime, '--json', '--model', 'avatar')
    assert avatar.returncode == 0, avatar.stderr
    rows = [json.loads(l) for l in avatar.stdout.splitlines()]
    assert all(r['error'] is None and r['emotion'] for r in rows), rows
    whole = [r for r in rows if r['note'] == 'no face detected: the whole image was used']
    assert whole, rows
    missed = {json.loads(l)['path'] for l in photo.stdout.splitlines() if json.loads(l)['error']}
    assert {r['path'] for r in whole} <= missed   # the photo reader gives no answer where the avatar reader reads the image whole
