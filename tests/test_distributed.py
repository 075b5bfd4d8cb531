"""Data-parallel training proved on CPU: `avatar-anomaly train` started by `torchrun` as two gloo processes (the way a user
starts it on several GPUs, see nbs/01_backbones.ipynb, "Training on several devices") trains a tiny EmotionNet and a tiny DAN
on a dataset the test writes; Accelerate must see both processes, and only process 0 writes the weights, the card and the log."""
import json, os, subprocess, sys
import pytest
from avatar_anomaly.data import EMOTIONS, write_image
from avatar_anomaly.serve import free_port

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    "A 48-px gray dataset: 6 training and 2 validation images per emotion"
    root = tmp_path_factory.mktemp('tiny')
    for i, e in enumerate(EMOTIONS):
        for j in range(8): write_image(root/('train' if j < 6 else 'valid')/e/f'{j}.png', size=(48, 48), mode='L', seed=100*i + j)
    return root

def train(data, out, preset:str, processes:int):
    "Run `avatar-anomaly train` (one epoch, batch 8) in `processes` processes; `(exit status, output)`"
    launch = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', str(processes), '--nnodes', '1',
              '--master_port', str(free_port()), '-m'] if processes > 1 else [sys.executable, '-m']
    p = subprocess.run([*launch, 'avatar_anomaly.cli', 'train', str(data), '--out', str(out), '--preset', preset, '--epochs', '1',
                        '--bs', '8', '--quiet'], capture_output=True, text=True, timeout=600,
                       env={**os.environ, 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1'})
    return p.returncode, p.stdout + p.stderr

@pytest.mark.parametrize('preset', ['fernet_s', 'dan_fernet_s'])
def test_two_gloo_processes(tiny, tmp_path, preset):
    status, out = train(tiny, tmp_path/'m', preset, 2)
    assert status == 0, out[-3000:]
    card = json.loads((tmp_path/'m.json').read_text())
    assert card['training']['processes'] == 2 and card['training']['train_images'] == 42, card['training']
    log = (tmp_path/'m.log.csv').read_text().splitlines()
    assert log[0].startswith('epoch,') and len(log) == 2, log      # one header and one epoch: written by one process
    assert out.count('wrote ') == 1 and sorted(f.name for f in tmp_path.iterdir()) == ['m.json', 'm.log.csv', 'm.safetensors']

def test_one_process_is_not_distributed(tiny, tmp_path):
    status, out = train(tiny, tmp_path/'m', 'fernet_s', 1)
    assert status == 0, out[-3000:]
    assert json.loads((tmp_path/'m.json').read_text())['training']['processes'] == 1
