"The ONNX export and the onnxruntime backend: parity with PyTorch on real face crops (FER2013 test, taiwan_faces MTCNN crops and whole photos), batch 1 and more, the metadata round trip, bad files, the predictor, the checker, the CLI and the benchmark script"
import json, sys
from pathlib import Path
import numpy as np
import pytest
from PIL import Image
from conftest import require_dataset
from avatar_anomaly.data import EMOTIONS, InputError, read_dataset, usable_rows
from avatar_anomaly.faces import cropper_for
from avatar_anomaly.weights import read_card, CardError, CheckpointMismatchError
from avatar_anomaly.backbones import preset_of
from avatar_anomaly.predict import EmotionPredictor
from avatar_anomaly.onnx import (OPSET, OUTPUT_NAMES, export_onnx, onnx_session, reader_metadata, parity, parity_tolerance,
                                 sample_crops, onnx_outputs, OnnxEmotionPredictor, onnx_predictor, use_onnx,
                                 export_detector_onnx, OnnxPairDetector, detector_parity, sample_pairs)

MODELS = ['fer2013_fernet_s', 'photos_dan_fernet_s']   # both card formats: EmotionNet and DAN

@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp('onnx')
    return {m: export_onnx(m, d/f'{m}.onnx') for m in MODELS}

def check(what:str, r:dict):
    "Print the measured differences (pytest -s shows them) and hold them to the card's tolerance"
    print(f"{what}: max |Δ| logits {r['logits']:.2e}, probs {r['probs']:.2e}, features (relative) {r['features_rel']:.2e} on {r['n']} crops")
    assert r['probs'] <= parity_tolerance() and r['logits'] <= 10*parity_tolerance() and r['features_rel'] <= parity_tolerance(), r

@pytest.mark.parametrize('model', MODELS)
def test_parity_fer2013(exported, model):
    crops = [Image.open(f).convert('RGB') for f in sorted(require_dataset('fer2013').glob('test/*/*.png'))[::75]]   # 48 crops, all classes
    check(f"{model}, FER2013 test, batch 64", parity(model, exported[model], crops, 64, threads=2))
    check(f"{model}, FER2013 test, batch 1", parity(model, exported[model], crops[:4], 1, threads=2))

@pytest.mark.parametrize('model', MODELS)
def test_parity_taiwan_faces(exported, model):
    rows = usable_rows(read_dataset(require_dataset('taiwan_faces')), ['test'])
    photos = [Image.open(p).convert('RGB') for p in rows.path[::25]]
    cropper = cropper_for(read_card(model).get('crop'), preset_of(read_card(model)).size, detect=True, cache=False, device='cpu')
    crops = [f.image for f in cropper(photos) if f.image is not None]
    assert len(crops) >= 5, len(crops)
    check(f"{model}, taiwan_faces test, MTCNN crops", parity(model, exported[model], crops, 64, threads=2))
    check(f"{model}, taiwan_faces test, whole photos (downscaled in the graph)", parity(model, exported[model], photos[:3], 64, threads=2))

def test_dynamic_batch_and_sizes(exported):
    s = onnx_session(exported['photos_dan_fernet_s'], threads=2)
    crops = sample_crops()   # 48, 64, 100, 160 px and 70×90
    for c in crops:
        x = np.stack([np.asarray(c)]*5)
        outs = s.run(list(OUTPUT_NAMES), {'images': x})
        assert [o.shape[0] for o in outs] == [5, 5, 5]
        one = s.run(list(OUTPUT_NAMES), {'images': x[:1]})
        for o, o1 in zip(outs, one): assert np.abs(o - o1).max() <= 1e-5*max(1, np.abs(o1).max())   # kernels differ with the batch size
    check("photos_dan_fernet_s, sample crops, batch 1", parity('photos_dan_fernet_s', exported['photos_dan_fernet_s'], crops, 1, 2))

def test_metadata_round_trip(exported):
    import onnx
    for model, f in exported.items():
        card = read_card(model)
        m = onnx.load(f)
        onnx.checker.check_model(m, full_check=True)
        assert m.opset_import[0].version == OPSET
        assert [d.dim_param for d in m.graph.input[0].type.tensor_type.shape.dim][:3] == ['batch', 'height', 'width']
        meta = reader_metadata(onnx_session(f), f.name)
        assert (meta['model_name'], meta['card_format'], meta['classes'], meta['crop'], meta['tta'], meta['opset']) == \
               (model, card['format'], list(EMOTIONS), card.get('crop'), False, OPSET)
        assert meta['preset'] == preset_of(card) and meta['card'] == card

def test_bad_files(tmp_path, exported):
    import onnx
    from onnx import helper, TensorProto
    (tmp_path/'text.onnx').write_text('not a model')
    (tmp_path/'cut.onnx').write_bytes(exported['fer2013_fernet_s'].read_bytes()[:4000])
    plain = helper.make_model(helper.make_graph([helper.make_node('Identity', ['images'], [o]) for o in OUTPUT_NAMES], 'g',
                                                [helper.make_tensor_value_info('images', TensorProto.UINT8, [1])],
                                                [helper.make_tensor_value_info(o, TensorProto.UINT8, [1]) for o in OUTPUT_NAMES]),
                              opset_imports=[helper.make_opsetid('', OPSET)])
    onnx.save(plain, tmp_path/'plain.onnx')
    other = helper.make_model(helper.make_graph([helper.make_node('Identity', ['x'], ['y'])], 'g',
                                                [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1])],
                                                [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1])]),
                              opset_imports=[helper.make_opsetid('', OPSET)])
    onnx.save(other, tmp_path/'other.onnx')
    for name, err, msg in (('text.onnx', CheckpointMismatchError, 'not an ONNX model onnxruntime can load'),
                           ('cut.onnx', CheckpointMismatchError, 'not an ONNX model onnxruntime can load'),
                           ('other.onnx', CardError, "not an avatar_anomaly reader's"),
                           ('absent.onnx', FileNotFoundError, 'no such file')):
        with pytest.raises(err, match=msg) as e: onnx_session(tmp_path/name)
        assert name in str(e.value)
    with pytest.raises(CardError, match="plain.onnx: no 'avatar_anomaly.onnx/1' in its metadata"):
        reader_metadata(onnx_session(tmp_path/'plain.onnx'), 'plain.onnx')
    with pytest.raises(CardError, match='plain.onnx'): OnnxEmotionPredictor(tmp_path/'plain.onnx', device='cpu')

def same_results(a:list, b:list):
    "Two predictors' readings agree: emotions, boxes, errors; probabilities within 1e-4; features (when read) within 1e-5 relative"
    for x, y in zip(a, b, strict=True):
        assert (x.emotion, x.box, x.n_faces, x.error, x.path) == (y.emotion, y.box, y.n_faces, y.error, y.path)
        if x.ok: assert np.abs(x.probs - y.probs).max() <= 1e-4, (x, y)
        assert (x.features is None) == (y.features is None)
        if x.features is not None: assert np.abs(x.features - y.features).max() <= 1e-5*np.abs(x.features).max()

def test_predictor_same_results(exported):
    crops = sample_crops()
    torch_pred = EmotionPredictor('photos_dan_fernet_s', detect=False, device='cpu')
    for pred in (OnnxEmotionPredictor(exported['photos_dan_fernet_s'], detect=False, device='cpu', threads=2),
                 OnnxEmotionPredictor('photos_dan_fernet_s', detect=False, device='cpu', threads=2, bs=2)):
        same_results(torch_pred.predict_images(crops), pred.predict_images(crops))
        assert pred.session.get_session_options().intra_op_num_threads == 2
    with pytest.raises(InputError, match='exported with tta=False'): OnnxEmotionPredictor(exported['photos_dan_fernet_s'], tta=True, device='cpu')

def test_checker_with_onnx_readers():
    from avatar_anomaly.check import AnomalyChecker
    crops = sample_crops()
    fp = EmotionPredictor('fer2013_dan_fernet_s', detect=False, features=True, device='cpu')
    same_results(fp.predict_images(crops), onnx_predictor(fp, threads=2).predict_images(crops))   # features too
    for one_reader in (True, False):   # label-compare with one reader on both sides, and with its card's two readers
        checker = AnomalyChecker('photos_dan_fernet_s' if one_reader else None, detector='label-compare', detect=False, device='cpu')
        assert (checker.avatar is checker.real) == one_reader
        want = [checker.check(a, b).score for a, b in zip(crops, crops[::-1])]
        assert use_onnx(checker, threads=2) is checker and (checker.avatar is checker.real) == one_reader
        assert type(checker.real) is OnnxEmotionPredictor and type(checker.avatar) is OnnxEmotionPredictor and checker.real.with_features
        np.testing.assert_allclose([checker.check(a, b).score for a, b in zip(crops, crops[::-1])], want, atol=2e-4)
    with pytest.raises(TypeError, match='holds no EmotionPredictor'): use_onnx(object())

def test_detectors(tmp_path, exported):
    from avatar_anomaly.check import load_detector, AnomalyChecker
    import onnx
    for name in ('siamese-v1', 'siamese-v2'):
        det = load_detector(name)
        f = export_detector_onnx(name, tmp_path/f'{name}.onnx')
        onnx.checker.check_model(onnx.load(f), full_check=True)
        real, avatar = sample_pairs(det)
        r = detector_parity(det, f, real, avatar, threads=2)
        assert r['n'] == 5 and r['score'] <= parity_tolerance() and r['score_bs1'] <= parity_tolerance(), r
        od = OnnxPairDetector(f)
        assert (od.name, od.encoders, od.threshold) == (det.name, det.encoders, det.threshold)
        assert od.scores(dict(features=real[:0]), dict(features=avatar[:0])).shape == (0,)   # an empty batch
    with pytest.raises(InputError, match='has no network to export'): export_detector_onnx('label-compare', tmp_path/'lc.onnx')
    with pytest.raises(CardError, match="photos_dan_fernet_s.onnx: inputs"): OnnxPairDetector(exported['photos_dan_fernet_s'])
    with pytest.raises(CardError, match="siamese-v2.onnx: inputs"): OnnxEmotionPredictor(tmp_path/'siamese-v2.onnx', device='cpu')
    crops = sample_crops()
    checker = AnomalyChecker(detect=False, device='cpu')   # the default detector, a Siamese network
    want = [checker.check(a, b).score for a, b in zip(crops, crops[::-1])]
    use_onnx(checker, threads=2)
    assert type(checker.detector) is OnnxPairDetector and type(checker.avatar) is OnnxEmotionPredictor
    np.testing.assert_allclose([checker.check(a, b).score for a, b in zip(crops, crops[::-1])], want, atol=2e-4)

def test_cli(tmp_path, capsys):
    from avatar_anomaly.cli import main
    sample_crops()[2].save(tmp_path/'face.png')
    assert main(['export', 'fer2013_fernet_s', str(tmp_path/'r.onnx')]) == 0
    out = capsys.readouterr().out
    assert 'wrote' in out and 'max |Δ|' in out and (tmp_path/'r.onnx').is_file()
    assert main(['export', 'siamese-v1', str(tmp_path/'d.onnx')]) == 0
    assert 'max |Δ score|' in capsys.readouterr().out and OnnxPairDetector(tmp_path/'d.onnx').name == 'siamese_v1'
    assert main(['export', 'label-compare', str(tmp_path/'lc.onnx')]) == 2 and 'no network to export' in capsys.readouterr().err
    runs = {'torch': ['--model', 'fer2013_fernet_s'], 'onnx file': ['--model', str(tmp_path/'r.onnx')],
            'onnx backend': ['--model', 'fer2013_fernet_s', '--backend', 'onnx']}
    res = {}
    for k, argv in runs.items():
        assert main(['predict', '--json', '--crops', *argv, str(tmp_path/'face.png')]) == 0, k
        res[k] = json.loads(capsys.readouterr().out)
    for k in ('onnx file', 'onnx backend'):   # the JSON lines agree: probabilities (rounded to 4 decimals) within one step
        x, y = res['torch'], res[k]
        assert set(x) == set(y) and [x[c] for c in ('path', 'emotion', 'box', 'n_faces', 'error')] == [y[c] for c in ('path', 'emotion', 'box', 'n_faces', 'error')]
        assert max(abs(x['probs'][e] - y['probs'][e]) for e in EMOTIONS) <= 1.01e-4, (x, y)

def test_cli_without_the_extra(tmp_path, capsys, monkeypatch):
    from avatar_anomaly.cli import main
    sample_crops()[0].save(tmp_path/'face.png')
    for m in ('onnx', 'onnxruntime'): monkeypatch.setitem(sys.modules, m, None)   # as if not installed
    for argv in (['export', 'fer2013_fernet_s', str(tmp_path/'r.onnx')], ['predict', '--backend', 'onnx', str(tmp_path/'face.png')],
                 ['check', '--backend', 'onnx', str(tmp_path/'face.png'), str(tmp_path/'face.png')]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert 'pip install "avatar-anomaly[onnx]"' in err and 'Traceback' not in err, err

def test_bench_tiny(tmp_path):
    require_dataset('fer2013'); require_dataset('taiwan_faces')
    sys.path.insert(0, str(Path(__file__).parents[1]/'bench'))
    import onnx_backend
    fig = onnx_backend.main(['--models', 'fer2013_fernet_s', '--n-fer', '16', '--n-taiwan', '2', '--n-bs1', '2', '--n-bs64', '32',
                             '--rounds', '1', '--detectors', 'siamese-v2', '--out', str(tmp_path/'b.json')])
    r = fig['models']['fer2013_fernet_s']
    assert r['parity']['probs'] <= parity_tolerance() and all(v > 0 for b in r['crops_per_s'].values() for v in b.values())
    assert json.loads((tmp_path/'b.json').read_text())['models'] == json.loads(json.dumps(fig['models']))
    d = fig['detectors']['figures']['siamese_v2']
    assert d['parity']['n'] == 16 and d['parity']['score'] <= parity_tolerance() and all(v > 0 for b in d['pairs_per_s'].values() for v in b.values())
