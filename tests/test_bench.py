"The benchmark scripts in bench/ run (tiny settings) and the shipped model keeps its measured FER2013 test figures"
import json, sys
from pathlib import Path
import pytest
from conftest import require_dataset

sys.path.insert(0, str(Path(__file__).parents[1]/'bench'))

def test_gpu_check_tiny_on_cpu(tmp_path):
    import gpu_check
    res = gpu_check.main(['--steps', '3', '--warmup', '1', '--size', '32', '--bs', '2', '--presets', 'fernet_s', 'resnet18',
                          'dan_basic', '--dan-size', '32', '--out', str(tmp_path/'gpu.json')])
    assert [r['preset'] for r in res['results']] == ['fernet_s', 'resnet18', 'dan_basic']
    assert all(r['images_per_s'] > 0 and r['steps'] == 3 for r in res['results'])
    assert json.loads((tmp_path/'gpu.json').read_text())['results'] == res['results']

def test_fer2013_shipped_model():
    import fer2013
    from avatar_anomaly.predict import DEFAULT_MODEL
    from avatar_anomaly.weights import read_card
    root = require_dataset('fer2013')
    card = read_card(DEFAULT_MODEL)
    f = fer2013.main(['--data', str(root)])
    recorded = card['metrics']['fer2013_test']
    for key in ('plain', 'flip_tta'):
        assert f[key]['images'] == 3573 and f[key]['errors'] == 0
        assert f[key]['accuracy'] == pytest.approx(recorded[key]['accuracy'], abs=2e-3)   # same model, same numbers
    assert f['flip_tta']['accuracy'] >= 0.70, "the shipped model's FER2013 test target"

def test_pairs_keeps_the_end_to_end_detector_when_others_retrain():
    "A plain `bench/pairs.py --write-cards` run chooses the default among its retrained detectors and the end-to-end one, whose figure it keeps, only when that was built on the same readers"
    import pairs
    from avatar_anomaly.weights import read_card
    parents = read_card('siamese_e2e')['training']['parents']
    kept = pairs.kept_detectors(parents['real'], parents['avatar'])
    assert kept == {'siamese-e2e': read_card('checker')['chosen']['valid_balanced_accuracy']['siamese-e2e']}
    assert pairs.kept_detectors('another_reader', parents['avatar']) == {}

def test_aligned_student_targets_heads_and_loss():
    "The 112-px student's people-targets mix the ratings in where a photo has them, each exported head reads a face as the card's rows read it, and head B alone hears the teacher"
    import numpy as np, pandas as pd, torch
    import aligned_student as S
    from avatar_anomaly.data import EMOTIONS
    from avatar_anomaly.dls import RATING_COLUMNS
    from avatar_anomaly.backbones import batch_proba
    ratings = {c: [0.6 if c == 'rating_happiness' else 0.4 if c == 'rating_surprise' else 0., np.nan] for c in RATING_COLUMNS}
    p = S.people_targets(pd.DataFrame(dict(label=['happiness', 'neutral'], **ratings)), 0.5)
    assert np.allclose(p[0, [EMOTIONS.index('happiness'), EMOTIONS.index('surprise')]], [0.8, 0.2]) and p[1, EMOTIONS.index('neutral')] == 1
    torch.manual_seed(0)
    model = S.TwoHeads('resnet10t').eval()
    faces = np.random.default_rng(0).integers(0, 256, (3, 112, 112, 3), dtype=np.uint8)
    a, b = S.heads(model, faces)
    assert a.shape == b.shape == (3, 7) and np.allclose(a.sum(1), 1, atol=1e-5)
    for head, probs in (('A', a), ('B', b)):   # the package's model of one head, through the package's batching, reads as the card's rows
        assert np.allclose(batch_proba(S.one_head(model, head, 'resnet10t'), list(faces), S.student_preset('resnet10t')), probs, atol=1e-5)
    out = torch.randn(2, 14)
    soft = torch.cat([torch.eye(7)[:2], torch.tensor([[5., 0, 0, 0, 0, 0, 0], [np.nan]*7])], 1)
    untaught = S.TwoHeadLoss(0.)(out, soft)
    assert torch.isclose(untaught, torch.nn.functional.cross_entropy(out[:, :7], torch.arange(2)) + torch.nn.functional.cross_entropy(out[:, 7:], torch.arange(2)))
    moved = out.clone(); moved[0, :7] += torch.tensor([3., 0, 0, 0, 0, 0, 0])
    assert S.TwoHeadLoss(1.)(out, soft) != untaught and torch.isclose(S.TwoHeadLoss(1.)(moved, soft) - S.TwoHeadLoss(1.)(out, soft), S.TwoHeadLoss(0.)(moved, soft) - untaught)   # head A never hears the teacher

def test_aligned_student_exports_the_valid_choice(tmp_path, monkeypatch):
    "`--export` ships the reader the card chose on valid: the student head as a package model and the ensemble's card, which the package reads"
    import numpy as np, pytest, torch
    import aligned_student as S
    from skimage import data as skdata
    from PIL import Image
    from avatar_anomaly.predict import EmotionPredictor
    from avatar_anomaly.weights import read_card
    rows = lambda means: [dict(set=s, reader=r, balanced_accuracy=v) for r, vs in means.items() for s, v in zip(('fer2013_valid', 'taiwan_faces_valid'), vs)]
    assert S.valid_choice(rows({'A': (.6, .8), 'A_default': (.7, .75), 'default': (.7, .7)})) == ('A_default', 0.725)
    assert S.valid_choice(rows({'A': (.7, .9), 'A_default': (.7, .75), 'default_teacher': (.9, .9)})) == ('A_default', 0.725)   # only readers with the DAN, without the teacher
    monkeypatch.setattr(S, 'MODELS_DIR', tmp_path)
    torch.manual_seed(0)
    model = S.TwoHeads('resnet10t').eval()
    card = dict(rows=rows({'A': (.6, .8), 'A_default': (.7, .75)}), training=dict(arch='resnet10t', teacher=.5, temperature=2., ratings=.5),
                teacher=dict(file='t.onnx', sha256='0'*64), reproduce='python bench/aligned_student.py --write-card')
    assert S.export(model, card) == [S.STUDENT, S.ENSEMBLE]
    ens = read_card(tmp_path/f'{S.ENSEMBLE}.json')
    assert ens['members'] == [S.PHOTO_DAN, S.STUDENT] and ens['chosen']['reader'] == 'A_default'
    assert read_card(tmp_path/f'{S.STUDENT}.json')['crop']['align'] == 'yunet5'
    Image.fromarray(skdata.astronaut()).save(tmp_path/'astronaut.jpg')
    r, = EmotionPredictor(tmp_path/S.ENSEMBLE, device='cpu').predict_files([tmp_path/'astronaut.jpg'], progress=False)
    assert r.ok and abs(float(r.probs.sum()) - 1) < 1e-4
    with pytest.raises(SystemExit, match='48-px DAN'): S.export(model, dict(card, rows=rows({'B_teacher': (.9, .9), 'A': (.6, .8)})))
    assert S.export(model, dict(card, rows=rows({'A': (.9, .9), 'default': (.7, .8)}))) == [S.ENSEMBLE]   # the DAN alone: a one-member default
    ens = read_card(tmp_path/f'{S.ENSEMBLE}.json')
    assert ens['members'] == [S.PHOTO_DAN] and ens['chosen']['best_of_all'] == dict(reader='A', valid_mean=0.9)
    r, = EmotionPredictor(tmp_path/S.ENSEMBLE, device='cpu').predict_files([tmp_path/'astronaut.jpg'], progress=False)
    dan, = EmotionPredictor(S.PHOTO_DAN, device='cpu').predict_files([tmp_path/'astronaut.jpg'], progress=False)
    assert np.allclose(r.probs, dan.probs, atol=1e-6)

def test_smile_gap_biases_undo_a_class_prior():
    "`fit_biases` finds the logit shift that a reader's skew towards one class needs, and `degrade` keeps the peer's input shape"
    import numpy as np
    import smile_gap
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, 700)
    z = 2*np.eye(7)[y] + rng.normal(0, 0.5, (700, 7)); z[:, 4] += 3   # every face pulled towards class 4 (neutral)
    probs = np.exp(z)/np.exp(z).sum(1, keepdims=True)
    assert smile_gap.scored(probs, y)['balanced_accuracy'] < 0.3
    bias = smile_gap.fit_biases(probs, y)
    assert bias.argmin() == 4 and abs(bias.sum()) < 1e-6
    assert smile_gap.scored(probs, y, bias)['balanced_accuracy'] > 0.9
    face = rng.integers(0, 256, (112, 112, 3), dtype=np.uint8)
    gray = smile_gap.degrade(face, 48, True)
    assert gray.shape == (112, 112, 3) and (gray[..., 0] == gray[..., 2]).all()

def test_smile_ranking():
    "A score that puts every smile above every neutral face ranks perfectly; one that puts them in reverse order does not"
    import numpy as np
    import smile_gap
    from avatar_anomaly.data import EMOTIONS
    h, n = EMOTIONS.index('happiness'), EMOTIONS.index('neutral')
    y = np.array([h, h, n, n])
    probs = np.full((4, 7), 0.01); probs[:, h] = [0.3, 0.4, 0.1, 0.2]; probs[:, n] = 0.5   # smiles read as neutral, yet ranked first
    assert smile_gap.smile_ranking(probs, y) == dict(roc_auc=1.0, best_cut_accuracy=1.0)
    assert smile_gap.smile_ranking(probs, y[::-1])['roc_auc'] == 0.0

def test_rebuild_runs_what_changed_and_what_is_built_on_it(tmp_path):
    "The chain command (bench/rebuild.py): a stage reruns when an input or product changed, and so do the stages built on it"
    import rebuild
    (tmp_path/'reader.txt').write_text('reader v1')
    stages = [rebuild.Stage('avatar', ['cat reader.txt > avatar.txt; echo . >> runs.txt'], ['reader.txt'], ['avatar.txt']),
              rebuild.Stage('detector', ['cat avatar.txt > detector.txt; echo . >> runs.txt'], ['avatar.txt'], ['detector.txt']),
              rebuild.Stage('other', ['echo other > other.txt'], [], ['other.txt'])]
    run = lambda **kw: rebuild.rebuild(stages, tmp_path, tmp_path/'lock.json', log=lambda *_: None, **kw)
    assert run(dry_run=True) == ['avatar', 'detector', 'other'] and not (tmp_path/'lock.json').exists()
    assert run() == ['avatar', 'detector', 'other']
    assert run() == []                                                 # nothing changed: nothing runs
    (tmp_path/'reader.txt').write_text('reader v2')                    # a new reader
    assert run() == ['avatar', 'detector']                             # the chain on it reruns, the rest not
    assert (tmp_path/'detector.txt').read_text().strip() == 'reader v2'
    (tmp_path/'detector.txt').unlink()                                 # a lost product is made again
    assert run() == ['detector']
    assert run(force=('avatar',)) == ['avatar', 'detector', 'other']   # forced: it and everything after it
    stages[0].cmds = ['exit 3']
    with pytest.raises(SystemExit, match='stage avatar'): run(force=('avatar',))
    assert json.loads((tmp_path/'lock.json').read_text())['avatar']['cmds'] != ['exit 3']   # the lock keeps the last good run

def test_rebuild_a_stage_writing_on_an_earlier_product_leaves_it_up_to_date(tmp_path):
    "A benchmark stage that adds its section to an earlier stage's card does not make that stage (or its users) run again"
    import rebuild
    (tmp_path/'reader.txt').write_text('reader')
    stages = [rebuild.Stage('reader', ['cat reader.txt > card.txt'], ['reader.txt'], ['card.txt']),
              rebuild.Stage('figures', ['echo figures >> card.txt'], ['card.txt'], []),
              rebuild.Stage('detector', ['cat card.txt > detector.txt'], ['card.txt'], ['detector.txt'])]
    run = lambda: rebuild.rebuild(stages, tmp_path, tmp_path/'lock.json', log=lambda *_: None)
    assert run() == ['reader', 'figures', 'detector']
    assert run() == []
    (tmp_path/'card.txt').write_text('edited by hand')   # a change no stage made still counts: the card is made again
    assert run() == ['reader', 'figures']                 # (and ends as the detector read it)
    (tmp_path/'reader.txt').write_text('reader v2')
    assert run() == ['reader', 'figures', 'detector']

def test_rebuild_accepts_a_product_remade_by_hand(tmp_path):
    "`accept` records a stage as done with its files as they are (an export fixed and redone), so only the stages after it run"
    import rebuild
    (tmp_path/'script.txt').write_text('v1')
    stages = [rebuild.Stage('train', ['cat script.txt > model.txt'], ['script.txt'], ['model.txt']),
              rebuild.Stage('use', ['cat model.txt > use.txt'], ['model.txt'], ['use.txt'])]
    lock = tmp_path/'lock.json'
    run = lambda: rebuild.rebuild(stages, tmp_path, lock, log=lambda *_: None)
    with pytest.raises(SystemExit, match='never run'): rebuild.accept('train', stages, tmp_path, lock)
    assert run() == ['train', 'use']
    (tmp_path/'script.txt').write_text('v2'); (tmp_path/'model.txt').write_text('v2 by hand')
    assert rebuild.accept('train', stages, tmp_path, lock)['accepted']
    assert run() == ['use'] and (tmp_path/'use.txt').read_text() == 'v2 by hand'
    (tmp_path/'model.txt').unlink()
    with pytest.raises(SystemExit, match='missing model.txt'): rebuild.accept('train', stages, tmp_path, lock)

def test_rebuild_parks_an_unfinished_chain_and_takes_it_up_in_a_fresh_checkout(tmp_path):
    "`--park` keeps the lock and what the rebuild changed; `--unpark` in a fresh clone of the same commit restores them, and done stages are skipped"
    import rebuild, subprocess
    git = lambda *a, cwd: subprocess.run(['git', *a], cwd=cwd, check=True, capture_output=True)
    repo = tmp_path/'repo'; (repo/'bench').mkdir(parents=True)
    (repo/'reader.txt').write_text('reader v1'); (repo/'avatar.txt').write_text('old avatar')
    git('init', '-q', cwd=repo); git('add', '.', cwd=repo); git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'files', cwd=repo)
    stages = [rebuild.Stage('avatar', ['(cat reader.txt; echo +) > avatar.txt'], ['reader.txt'], ['avatar.txt']),
              rebuild.Stage('detector', ['exit 4'], ['avatar.txt'], ['detector.txt'])]   # the machine went back here
    lock = repo/'bench'/'chain.lock.json'
    with pytest.raises(SystemExit, match='stage detector'): rebuild.rebuild(stages, repo, lock, log=lambda *_: None)
    parked = repo/'bench'/'parked'
    assert rebuild.park(parked, repo) == ['avatar.txt', 'bench/chain.lock.json']
    assert rebuild.park(parked, repo) == ['avatar.txt', 'bench/chain.lock.json']   # parking again leaves out the parked copy
    fresh = tmp_path/'fresh'; git('clone', '-q', str(repo), str(fresh), cwd=tmp_path)
    assert (fresh/'avatar.txt').read_text() == 'old avatar' and not (fresh/'bench'/'chain.lock.json').exists()
    assert rebuild.unpark(parked, fresh) == ['avatar.txt', 'bench/chain.lock.json']
    assert (fresh/'avatar.txt').read_text() == 'reader v1+\n'
    stages[1].cmds = ['cat avatar.txt > detector.txt']
    assert rebuild.rebuild(stages, fresh, fresh/'bench'/'chain.lock.json', log=lambda *_: None) == ['detector']
    with pytest.raises(SystemExit, match='no parked rebuild'): rebuild.unpark(tmp_path/'nothing', fresh)
    with pytest.raises(SystemExit, match='no lock'): rebuild.park(tmp_path/'p', tmp_path/'nothing')

def test_avatar_faces_scores_over_the_sets_classes_and_chooses_on_valid():
    "bench/avatar_faces.py: the argmax runs over the emotions a set has; the path is chosen on valid avatars and anime, never on Tom & Jerry"
    import numpy as np, pandas as pd
    import avatar_faces as af
    from avatar_anomaly.data import EMOTIONS
    h, s, n = (EMOTIONS.index(e) for e in ('happiness', 'sadness', 'neutral'))
    probs = np.zeros((3, 7)); probs[:, n] = 0.9; probs[0, h] = probs[1, s] = probs[2, s] = 0.05   # neutral wins, but no image is neutral
    assert af.scores(probs, ['happiness', 'sadness', 'happiness']) == dict(accuracy=0.6667, balanced_accuracy=0.75)   # over all 7: 0
    rows = pd.DataFrame([dict(set=st, path=p, model='m', balanced_accuracy=b) for st, p, b in
                         [('taiwan valid toon', 'mtcnn', 0.8), ('taiwan valid toon_strong', 'mtcnn', 0.4), ('anime_danbooru', 'mtcnn', 0.2),
                          ('taiwan valid toon', 'whole', 0.5), ('taiwan valid toon_strong', 'whole', 0.5), ('anime_danbooru', 'whole', 0.35),
                          ('cartoon_tomjerry', 'mtcnn', 0.9), ('cartoon_tomjerry', 'whole', 0.1)]])
    c = af.choose(rows, 'm')   # mtcnn: (0.6 + 0.2)/2, whole: (0.5 + 0.35)/2; Tom & Jerry would say mtcnn
    assert c['path'] == 'whole' and c['mean_balanced_accuracy'] == {'mtcnn': 0.4, 'whole': 0.425}

def test_pairs_cached_avatars_stop_without_a_pair_set_when_writing_cards(tmp_path, monkeypatch):
    "`cached_avatars` logs what is missing; with `complete` (cards are written) a dataset without avatars or a style without its stylizer stops the run"
    import pandas as pd, pairs
    photos = pd.DataFrame(dict(path=['p1', 'p2']))
    for name, f in dict(DATASETS=('a', 'b'), style_stylizer=lambda s: s, read_dataset=lambda p: p, dataset_path=lambda ds: ds, usable_rows=lambda t: t,
                        avatar_dir=lambda ds, st: tmp_path/ds, style_sample=lambda ds, s: photos, avatar_table=lambda folder, p: p.iloc[:1]).items():
        monkeypatch.setattr(pairs, name, f)
    (tmp_path/'a').mkdir(); (tmp_path/'a'/'manifest.csv').write_text('')
    logged = []
    out = pairs.cached_avatars('toon', logged.append)
    assert list(out) == ['a'] and len(out['a']) == 1 and len(logged) == 2   # dataset b has no avatars; one photo of a has none
    with pytest.raises(SystemExit, match='toon/b: no avatars'): pairs.cached_avatars('toon', logged.append, complete=True)
    monkeypatch.setattr(pairs, 'style_stylizer', lambda s: 1/0)
    assert pairs.cached_avatars('toon', logged.append) == {}
    with pytest.raises(SystemExit, match='no stylizer'): pairs.cached_avatars('toon', logged.append, complete=True)
