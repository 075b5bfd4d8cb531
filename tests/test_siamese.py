"The Siamese detectors (chapters 06, 07) and the detector choice behind the checker (08): pair data rules, the feature surgery, cards and weights round trip, the checker and `check --detector`"
import json
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import require_dataset

from avatar_anomaly.data import EMOTIONS, InputError, read_dataset
from avatar_anomaly.weights import CardError
from avatar_anomaly.predict import load_model, split_reader
from avatar_anomaly.siamese_v1 import (same_person_pairs, performer_of, PairFeatures, SiameseV1, SiameseDetector,
                                       save_detector, pair_scores_of, train_v1, choose_threshold)
from avatar_anomaly.siamese_v2 import SiameseV2, train_v2
from avatar_anomaly.check import AnomalyChecker, DETECTORS, PAIR_MODELS, LabelCompare, load_detector, detector_card

def toy_avatars(n_people=3, per_label=3, labels=('happiness', 'sadness', 'anger'), split='train'):
    photos = [f'/d/{split}/subj{p:02d}_{l}{i}.jpg' for p in range(n_people) for l in labels for i in range(per_label)]
    t = pd.DataFrame(dict(photo=photos, label=[Path_label(p) for p in photos], split=split))
    return t.assign(path=t.photo.str.replace('/d/', '/avatars/'))

def Path_label(p): return next(l for l in ('happiness', 'sadness', 'anger') if f'_{l}' in p)

def test_same_person_pairs_rules():
    av = pd.concat([toy_avatars(split='train'), toy_avatars(split='test')], ignore_index=True)
    for self_pairs in (False, True):
        p = same_person_pairs(av, self_pairs=self_pairs)
        assert (p.real.map(performer_of) == p.avatar.map(performer_of)).all()          # one person per pair
        assert (p.real.str.split('/').str[2] == p.avatar.str.split('/').str[2]).all()  # never across splits
        for _, t in p.groupby('split'): assert t.anomaly.sum() == (~t.anomaly).sum()   # balanced per split
        assert (p.anomaly == (p.real_label != p.avatar_label)).all()
        own = p.real.str.replace('/d/', '/avatars/') == p.avatar
        assert own.any() == self_pairs and (p.kind == 'own').sum() == own.sum()
    assert len(same_person_pairs(av, n=10)) == 20   # 10 per split
    assert same_person_pairs(av).equals(same_person_pairs(av))   # seeded

@pytest.mark.parametrize('name', ['photos_dan_fernet_s', 'fer2013_fernet_s'])
def test_features_then_classifier_is_the_reader(name):
    net, _ = load_model(name, 'cpu')
    x = torch.randn(4, 1, 48, 48)
    with torch.no_grad():
        out = net(x); logits = out[0] if isinstance(out, tuple) else out
        feats, head = split_reader(net)
        torch.testing.assert_close(head(feats(x)), logits, atol=1e-5, rtol=1e-5)

def fake_features(n=400, c=16, seed=0):
    "Pairs whose anomaly is visible in the vectors: the avatar vector is the real one (consistent) or another one (anomaly)"
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, c)).astype(np.float32)
    anomaly = rng.random(n) < 0.5
    b = np.where(anomaly[:, None], rng.normal(size=(n, c)), a + 0.1*rng.normal(size=(n, c))).astype(np.float32)
    paths_r, paths_a = [f'r{i}' for i in range(n)], [f'a{i}' for i in range(n)]
    pairs = pd.DataFrame(dict(real=paths_r, avatar=paths_a, real_label='happiness', avatar_label=np.where(anomaly, 'anger', 'happiness'),
                              split='train', kind=np.where(anomaly, 'mismatch', 'same_emotion'), anomaly=anomaly))
    enc = lambda paths, x: dict(paths=paths, features=x, probs=np.full((n, 7), 1/7, np.float32), errors={})
    return PairFeatures(pairs, enc(paths_r, a), enc(paths_a, b))

def test_v1_and_v2_learn_and_round_trip(tmp_path, monkeypatch):
    train, valid = fake_features(seed=0), fake_features(seed=1)
    monkeypatch.setenv('AVATAR_ANOMALY_WEIGHTS', str(tmp_path/'models'))
    for name, (learn, thr) in {'v1': train_v1(train, valid, n_emb=8, epochs=8, lr=1e-2, device='cpu'),
                               'v2': train_v2(train, valid, hidden=(32,), epochs=8, lr=1e-2, device='cpu')}.items():
        s = pair_scores_of(learn.model, valid.xa.numpy(), valid.xb.numpy())
        assert ((s >= thr) == valid.pairs.anomaly).mean() > 0.7, name   # chance: 0.5
        card = save_detector(learn.model, f'test_{name}', dict(encoders=dict(real='r', avatar='a'), threshold=thr),
                             cards_dir=tmp_path/'cards', models_dir=tmp_path/'models')
        det = SiameseDetector(tmp_path/'cards'/f'test_{name}.json', PAIR_MODELS)
        assert (det.name, det.encoders, det.threshold) == (f'test_{name}', ('r', 'a'), thr)
        np.testing.assert_allclose(det.scores(*valid.readings()), s, atol=1e-6)
    bad = json.loads((tmp_path/'cards'/'test_v2.json').read_text()) | {'model': {'cls': 'Other', 'config': {}}}
    with pytest.raises(CardError, match="model class 'Other'"): SiameseDetector(bad, PAIR_MODELS)

def test_pair_features_drop_faceless_pairs():
    ds = fake_features(n=10)
    real = dict(paths=list(ds.pairs.real), features=ds.xa.numpy(), probs=ds.pa, errors={'r3': 'no face found'})
    avatar = dict(paths=list(ds.pairs.avatar), features=ds.xb.numpy(), probs=ds.pb, errors={})
    d2 = PairFeatures(ds.pairs, real, avatar)
    assert (len(d2), d2.dropped) == (9, 1) and 'r3' not in set(d2.pairs.real)
    with pytest.raises(KeyError, match='not encoded'): PairFeatures(ds.pairs.assign(real='elsewhere'), real, avatar)

def test_detector_names():
    assert detector_card('label-compare') == detector_card('label_compare') == 'label_compare'
    assert detector_card() in DETECTORS.values()
    with pytest.raises(InputError, match='unknown detector'): detector_card('nearest-neighbour')
    assert isinstance(load_detector('label-compare'), LabelCompare)

def test_taiwan_pairs_split_by_performer():
    t = read_dataset(require_dataset('taiwan_faces'))
    by_split = {s: set(g.path.map(performer_of)) for s, g in t.groupby('split')}
    assert not (by_split['train'] & by_split['valid'] or by_split['train'] & by_split['test'] or by_split['valid'] & by_split['test'])
    av = t.assign(photo=t.path, path=t.path.str.replace('/taiwan_faces/', '/avatars/'))
    p = same_person_pairs(av)
    assert set(p.split) == {'train', 'valid', 'test'} and (p.kind != 'own').all()
    assert (p.real.map(performer_of) == p.avatar.map(performer_of)).all()

@pytest.fixture(scope='module')
def demo_files(tmp_path_factory):
    from avatar_anomaly.widgets import demo_images
    d = tmp_path_factory.mktemp('demo')
    im = demo_images()
    for k in ('real', 'kept', 'mismatched'): im[k].save(d/f'{k}.png')
    return d

@pytest.mark.parametrize('detector', list(DETECTORS))
def test_every_detector_behind_the_checker(detector, demo_files):
    "Each shipped detector checks the demo story (smiling photo vs the avatar of that photo, vs the avatar of the neutral photo) and every result carries both readers' emotions"
    checker = AnomalyChecker(detector=detector)
    res = checker.check_files([(demo_files/'real.png', demo_files/'kept.png'), (demo_files/'real.png', demo_files/'mismatched.png')], progress=False)
    assert [r.detector for r in res] == [detector_card(detector)]*2
    assert all(r.real_emotion in EMOTIONS and r.avatar_emotion in EMOTIONS and set(r.real_probs) == set(EMOTIONS) for r in res)
    assert all(0 <= r.score <= 1 for r in res)
    assert res[0].score < res[1].score   # the stale (neutral) avatar scores higher
    one = checker.check(demo_files/'real.png', demo_files/'mismatched.png')
    assert one.score == pytest.approx(res[1].score, abs=1e-3) and one.detector == res[1].detector

def test_demo_story_with_the_default_detector(demo_files):
    from avatar_anomaly.widgets import run_demo
    results, _ = run_demo()
    assert [r.verdict for r in results] == ['consistent', 'ANOMALY'] and results[0].real_emotion == 'happiness'

def test_siamese_detector_refuses_other_readers():
    with pytest.raises(InputError, match='reads faces with the models it was trained on'):
        AnomalyChecker(real_model='fer2013_fernet_s', detector='siamese-v2')

def test_cli_check_detector(demo_files, capsys):
    from avatar_anomaly.cli import main
    pair = [str(demo_files/'real.png'), str(demo_files/'mismatched.png')]
    for name in DETECTORS:
        assert main(['check', *pair, '--json', '--detector', name]) in (0, 1)
        r = json.loads(capsys.readouterr().out)
        assert r['detector'] == detector_card(name) and r['real_emotion'] and r['avatar_emotion'] and r['score'] is not None
    assert main(['check', *pair, '--detector', 'knn']) == 2
    assert "unknown detector 'knn'" in capsys.readouterr().err
    assert main(['check', *pair, '--detector', 'siamese-v1', '--model', 'fer2013_fernet_s']) == 2
    assert 'trained on' in capsys.readouterr().err
