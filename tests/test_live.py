"Live checking (avatar_anomaly.live) on videos made here from real photos: an avatar whose emotion changes halfway is caught within `persist` frames, reports stream as they go, files are closed, bad videos are named, and memory stays flat over 5,000 frames"
import json, os, subprocess, sys, textwrap
import psutil, pytest
from PIL import Image
from conftest import require_dataset
from avatar_anomaly.live import check_live, check_stream, live_settings, read_report
from avatar_anomaly.video import VideoError, face_frames, probe_video, video_frames, write_video

@pytest.fixture(scope='module')
def faces():
    "A happy and a sad photo of one performer (taiwan_faces test split) that the shipped model reads right"
    tw = require_dataset('taiwan_faces')/'test'
    return Image.open(tw/'happy'/'subj17_1721b08.jpg'), Image.open(tw/'sad'/'subj17_1721c16.jpg')

@pytest.fixture(scope='module')
def checker():
    from avatar_anomaly.check import AnomalyChecker
    return AnomalyChecker()

SIZE = (160, 120)

def test_change_halfway(faces, checker, tmp_path):
    "The avatar turns sad at 1 s (real: MP4 at 10 fps; avatar: Matroska at 20 fps): the summary's anomaly starts within `persist` frames of it"
    happy, sad = faces
    real = write_video(tmp_path/'real.mp4', face_frames([(happy, 20)], size=SIZE, drift=0), fps=10)
    avatar = write_video(tmp_path/'avatar.mkv', face_frames([(happy, 20), (sad, 20)], size=SIZE, drift=0), fps=20)
    s = check_live(real, avatar, checker, report=tmp_path/'r.csv').summary()
    m, step = live_settings()['persist'], 0.1
    assert s['pairs'] == 20 and s['errors'] == {}
    assert len(s['anomalies']) == 1, s['anomalies']
    assert abs(s['anomalies'][0]['start'] - 1.0) <= m*step, s['anomalies']
    assert s['anomalies'][0]['end'] == pytest.approx(2.0)
    assert sum(s['confusion']['happiness'].get(e, 0) for e in ('sadness', 'anger', 'fear', 'disgust')) >= 10 - m
    assert len(read_report(tmp_path/'r.csv')) == 20

def test_consistent_pair(faces, checker):
    "The same emotion on both sides, at different rates and a late avatar start: no anomaly, every real frame paired"
    happy, _ = faces
    real = ((i/10, im) for i, im in enumerate(face_frames([(happy, 20)], size=SIZE, drift=0)))
    avatar = ((0.03 + i/8, im) for i, im in enumerate(face_frames([(happy, 20)], size=SIZE, drift=0.06)))
    results = list(check_stream(real, avatar, checker))
    assert len(results) == 20 and not any(r.anomaly for r in results) and all(r.error is None for r in results)
    assert all(abs(r.time - r.avatar_time) <= live_settings()['max_gap'] for r in results)

def test_report_streams(faces, checker, tmp_path):
    "Each result is in the report file before the next one is computed"
    happy, _ = faces
    frames = [(i/10, im) for i, im in enumerate(face_frames([(happy, 4)], size=SIZE))]
    from avatar_anomaly.live import LiveReport
    with LiveReport(tmp_path/'r.jsonl') as rep:
        for n, r in enumerate(check_stream(frames, frames, checker, batch=1), 1):
            rep.write(r)
            assert len((tmp_path/'r.jsonl').read_text().splitlines()) == n
    assert json.loads((tmp_path/'r.jsonl').read_text().splitlines()[0])['real_emotion'] == 'happiness'

def test_closed_on_error(faces, checker, tmp_path):
    "A caller that fails mid-stream leaves no video file open"
    happy, _ = faces
    vid = write_video(tmp_path/'v.mp4', face_frames([(happy, 30)], size=SIZE, drift=0), fps=10)
    fds = psutil.Process().num_fds()
    for _ in range(2):
        with pytest.raises(ZeroDivisionError):
            for r in check_stream(video_frames(vid), video_frames(vid), checker, batch=4): 1/0
    assert psutil.Process().num_fds() == fds

def test_bad_videos(faces, checker, tmp_path):
    "Missing, empty, non-video and faceless inputs: errors name the file, or frames are reported without a face"
    (tmp_path/'empty.mp4').write_bytes(b'')
    (tmp_path/'text.mp4').write_text('hello')
    for f in ('nowhere.mp4', 'empty.mp4', 'text.mp4'):
        with pytest.raises(VideoError, match=str(tmp_path/f)): probe_video(tmp_path/f)
        with pytest.raises(VideoError, match=str(tmp_path/f)): check_live(tmp_path/f, tmp_path/f, checker)
    blank = write_video(tmp_path/'blank.mp4', [Image.new('RGB', SIZE, 'gray')]*10, fps=10)
    real = write_video(tmp_path/'real.mp4', face_frames([(faces[0], 10)], size=SIZE, drift=0), fps=10)
    s = check_live(real, blank, checker).summary()
    assert s['pairs'] == 10 and s['errors'] == {'avatar: no face found': 10} and s['anomalies'] == []

MEMORY = textwrap.dedent('''
    import json, resource, sys, psutil, torch
    from PIL import Image
    from avatar_anomaly.check import AnomalyChecker
    from avatar_anomaly.live import check_live, StageTimer, LiveReport, LiveSummary, check_stream
    from avatar_anomaly.video import face_frames, write_video, video_frames
    torch.manual_seed(0); torch.set_num_threads(1)
    face, out = Image.open(sys.argv[1]), sys.argv[2]
    vid = write_video(out + '/long.mp4', face_frames([(face, 5000)], size=(128, 96), drift=0), fps=25)
    checker = AnomalyChecker(detector='label-compare')
    # a cheap reader in place of the emotion model: everything around it (decode, detect, crop, batch, score, report, summary) is what grows or not
    checker.real.features = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
    checker.real.classifier = torch.nn.Linear(1, 7).eval()
    live, peaks = LiveSummary(checker.threshold, StageTimer()), {}
    with LiveReport(out + '/long.jsonl') as rep:
        for r in check_stream(video_frames(vid), video_frames(vid), checker, every=1000, batch=32, timer=live.timer):
            live.add(r); rep.write(r)
            if r.frame + 1 in (500, 5000):
                peaks[r.frame + 1] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024, psutil.Process().memory_info().rss/2**20
    print(json.dumps(dict(peaks=peaks, pairs=live.summary()['pairs'])))
''')

def test_memory_flat(faces, tmp_path):
    "Peak RSS (and RSS now) after 5,000 frame pairs is within 50 MB of that after 500 (in a fresh process)"
    tw = require_dataset('taiwan_faces')/'test'
    p = subprocess.run([sys.executable, '-c', MEMORY, str(tw/'happy'/'subj17_1721b08.jpg'), str(tmp_path)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    res = json.loads(p.stdout.strip().splitlines()[-1])
    peaks = {int(k): v for k, v in res['peaks'].items()}
    print(f"peak RSS, RSS (MB): {peaks[500]} after 500 pairs, {peaks[5000]} after 5,000")
    assert res['pairs'] == 5000 and peaks[5000][0] - peaks[500][0] <= 50 and peaks[5000][1] - peaks[500][1] <= 50, peaks
