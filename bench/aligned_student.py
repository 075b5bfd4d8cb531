"""A 112-px colour student (#25) on the teacher's own input: every FER2013 and taiwan_faces image aligned on YuNet's five
landmarks to the 112-px template (FER2013's gray crops upscaled first, as `bench/teacher.py` measured best), a timm backbone
from scratch with two heads on one body: head A learns people's targets alone (the label; taiwan_faces' observer ratings at half
share), head B the same mixed half and half with the RAF-DB teacher (T²·KL at temperature 2, `soft_target_ce`). Class-balanced
sampling, taiwan_faces train repeated, flips and small affines (`PairShift`), bf16 autocast. Then each head, the teacher, the
default photo reader and their probability averages on FER2013 valid/test (flip TTA), taiwan_faces valid/test and london_faces
test; with `--write-card` the figures go on `avatar_anomaly/cards/aligned_student.json`. Choose on valid; the test rows are read
once. Each head is read as the package reads it (`EmotionPredictor`'s default: one pass, no flip TTA), so an average on the card
is the ensemble that ships. `--export` ships the reader that card chose on valid: its student head as a model of the package
(`STUDENT`, crop rule `align: yunet5`) and the default photo reader's card (`ENSEMBLE`: the chosen reader's members, averaged).
Only readers that keep the 48-px DAN can ship (`SHIPPABLE`). `--from` reads
(and exports) a student this script trained, without training it again.

    python bench/aligned_student.py --epochs 10 --out ../runs/aligned_student --write-card --export
    python bench/aligned_student.py --out ../runs/aligned_student --from ../runs/aligned_student.pt --write-card --export
"""
import argparse, time
from pathlib import Path
import numpy as np
import pandas as pd
import timm
import torch
from torch import nn
from fastai.vision.all import Learner, DataLoaders, ChannelsLast
from avatar_anomaly.data import EMOTIONS, cache_dir, dataset_path, read_dataset, usable_rows, load_image
from avatar_anomaly.weights import CARDS_DIR, MODELS_DIR, write_card, read_card, command_line
from avatar_anomaly.backbones import Evaluation, Preset, create_model, save_model
from avatar_anomaly.dan import soft_target_ce
from avatar_anomaly.dls import TEACHER_COLUMNS, SoftTarget
from avatar_anomaly.predict import ENSEMBLE_FORMAT
from avatar_anomaly.targets import Teacher, with_ratings, with_teacher, softmax
from avatar_anomaly.train import CPUAutocast
from avatar_anomaly.end_to_end import PairShift
from readers import ours_eval

STUDENT, ENSEMBLE = 'photos_aligned_resnet10t', 'photos_ensemble'   # the names `--export` ships
PHOTO_DAN = 'photos_dan_fernet_s'   # the 48-px photo reader (chapter 02a) the student is averaged with: 'default' on the card
SETS = [('fer2013', 'valid', True), ('taiwan_faces', 'valid', False), ('fer2013', 'test', True), ('taiwan_faces', 'test', False),
        ('london_faces', 'test', False)]   # (dataset, split, the images are face crops)

def aligned(name:str, teacher:Teacher) -> tuple:
    "`(table, faces)`: a dataset's usable rows and their 112×112 RGB faces aligned as the teacher aligns (cached per dataset)"
    t = usable_rows(read_dataset(dataset_path(name)), ['train', 'valid', 'test']).reset_index(drop=True)
    f = cache_dir('aligned', teacher.sha256[:16])/f'{name}.npz'
    if f.is_file():
        with np.load(f) as z:
            if list(z['path']) == list(t.path): return t.assign(found=z['found']), z['faces']
    faces, found = zip(*(teacher.align(load_image(p)) for p in t.path))
    np.savez(f, path=np.array(list(t.path), dtype=str), faces=np.stack(faces), found=np.array(found))
    return t.assign(found=found), np.stack(faces)

def people_targets(t:pd.DataFrame, ratings:float) -> np.ndarray:
    "Each row's people-target as `SoftTarget` makes it for training rows (the label, mixed with its observer ratings at `ratings` share), valid rows too"
    target = SoftTarget(ratings=ratings)
    return np.stack([target(dict(r, is_valid=False))[:len(EMOTIONS)].numpy() for r in t.to_dict('records')])

class Faces(torch.utils.data.Dataset):
    "uint8 CHW faces with their 14-value targets (people, then the teacher's logits)"
    def __init__(self, faces, targets): self.faces, self.targets = faces, targets
    def __len__(self): return len(self.faces)
    def __getitem__(self, i):
        return torch.from_numpy(np.ascontiguousarray(self.faces[i].transpose(2, 0, 1))), torch.from_numpy(self.targets[i])

class TwoHeads(nn.Module):
    "A timm body with 14 outputs on 0-255 RGB input: head A's seven logits, then head B's"
    def __init__(self, arch:str, drop:float=0.3):
        super().__init__()
        self.net = timm.create_model(arch, pretrained=False, num_classes=2*len(EMOTIONS), drop_rate=drop)
    def forward(self, x): return self.net((x.float()/255 - 0.5)/0.5)

class TwoHeadLoss:
    "Head A: people's targets alone; head B: people's and the teacher's, `teacher` share"
    def __init__(self, teacher:float=0.5, temperature:float=2.): self.teacher, self.temperature = teacher, temperature
    def __call__(self, out, soft):
        c = len(EMOTIONS)
        return (soft_target_ce(out[:, :c], soft) + soft_target_ce(out[:, c:], soft, self.teacher, self.temperature))

def balanced_b(out, soft):
    "Balanced accuracy of head B against the label in one batch (fastai averages it over the validation batches: a training curve, not the set's figure)"
    c = len(EMOTIONS); pred, y = out[:, c:].argmax(1), soft[:, :c].argmax(1)
    return torch.tensor(np.mean([(pred[y == k] == k).float().mean().item() for k in range(c) if (y == k).any()]))

def training_data(teacher:Teacher, ratings:float, repeat:int, fraction:float=1.) -> tuple:
    "`(train Faces, valid Faces, train labels)`: FER2013 and taiwan_faces train (repeated) / valid with people's and the teacher's targets"
    parts = []
    for name in ('fer2013', 'taiwan_faces'):
        t, faces = aligned(name, teacher)
        if name == 'taiwan_faces': t = with_ratings(t, dataset_path(name))
        keep = t.split.isin(['train', 'valid']).to_numpy()
        t, faces = t[keep].reset_index(drop=True), faces[keep]
        t, _ = with_teacher(t, teacher, progress=False)
        targets = np.concatenate([people_targets(t, ratings), t[TEACHER_COLUMNS].to_numpy()], 1).astype(np.float32)
        train = np.where(t.split == 'train')[0]
        if name == 'fer2013' and fraction < 1: train = np.sort(np.random.default_rng(0).permutation(train)[:int(fraction*len(train))])
        train = np.concatenate([train]*(repeat if name == 'taiwan_faces' else 1))
        parts.append((faces, targets, t.label.map(EMOTIONS.index).to_numpy(), train, np.where(t.split == 'valid')[0]))
    pick = lambda k, which: np.concatenate([p[k][p[which]] for p in parts])
    return Faces(pick(0, 3), pick(1, 3)), Faces(pick(0, 4), pick(1, 4)), pick(2, 3)

def train(a, teacher:Teacher) -> tuple:
    "`(model, training figures)`"
    torch.manual_seed(a.seed)
    tr, va, y = training_data(teacher, a.ratings, a.repeat, a.fraction)
    sampler = torch.utils.data.WeightedRandomSampler(torch.tensor(1/np.bincount(y)[y]), len(y), generator=torch.Generator().manual_seed(a.seed))
    dls = DataLoaders(torch.utils.data.DataLoader(tr, a.bs, sampler=sampler, drop_last=True), torch.utils.data.DataLoader(va, 256))
    model = TwoHeads(a.arch)
    learn = Learner(dls, model, loss_func=TwoHeadLoss(a.teacher, a.temperature), metrics=[balanced_b],
                    cbs=[PairShift(seed=a.seed), CPUAutocast(), ChannelsLast()])
    t0 = time.time(); learn.fit_one_cycle(a.epochs, a.lr, wd=a.wd); minutes = (time.time() - t0)/60
    hist = [dict(zip(['train_loss', 'valid_loss', 'valid_balanced_b'], map(lambda v: round(float(v), 4), r))) for r in learn.recorder.values]
    return model.eval(), dict(arch=a.arch, epochs=a.epochs, lr=a.lr, wd=a.wd, bs=a.bs, seed=a.seed, teacher=a.teacher, temperature=a.temperature,
                              ratings=a.ratings, repeat=a.repeat, fraction=a.fraction, train_images=len(tr), valid_images=len(va),
                              minutes=round(minutes, 1), train_images_per_s=round(a.epochs*len(y)/(minutes*60), 1), history=hist)

@torch.no_grad()
def heads(model:TwoHeads, faces:np.ndarray) -> tuple:
    "`(A, B)` probabilities, each head's softmax as the package reads a face (`EmotionPredictor`'s default: no flip TTA)"
    out = [model(torch.from_numpy(np.ascontiguousarray(faces[i:i + 256].transpose(0, 3, 1, 2)))).float() for i in range(0, len(faces), 256)]
    o, c = torch.cat(out), len(EMOTIONS)
    return o[:, :c].softmax(1).numpy(), o[:, c:].softmax(1).numpy()

def readings(model:TwoHeads, teacher:Teacher) -> tuple:
    "`(rows, speeds)`: every reader and average on every set of `SETS`"
    rows, speeds = [], {}
    for name, split, crops in SETS:
        t, faces = aligned(name, teacher)
        keep = np.where(t.split == split)[0]; t, faces = t.iloc[keep], faces[keep]
        t0 = time.time(); A, B = heads(model, faces); s = time.time() - t0
        t0 = time.time(); T = np.stack([softmax(teacher.logits(f)) for f in faces]); ts = time.time() - t0
        S = ours_eval(PHOTO_DAN, t, crops)[0].probs   # the 48-px photo reader
        speeds[f'{name}_{split}'] = dict(student_crops_per_s=round(len(t)/s, 1), teacher_crops_per_s=round(len(t)/ts, 1))
        y = t.label.map(EMOTIONS.index).to_numpy()
        for reader, p in dict(A=A, B=B, teacher=T, default=S, A_B=(A + B)/2, B_teacher=(B + T)/2, B_default=(B + S)/2,
                              A_default=(A + S)/2, default_teacher=(S + T)/2).items():
            m = Evaluation(p, y, list(t.path)).metrics()
            rows.append(dict(set=f'{name}_{split}', reader=reader, accuracy=round(m['accuracy'], 4), balanced_accuracy=round(m['balanced_accuracy'], 4),
                             recall={k: round(v, 3) for k, v in m['recall'].items()}))
        print(name, split, speeds[f'{name}_{split}'], flush=True)
    return rows, speeds

def student_preset(arch:str) -> Preset:
    "How the package rebuilds a student head: the timm body from scratch, 112-px RGB scaled to [-1, 1], the aligned face as it comes"
    return Preset(arch, 112, channels=3, drop=0.3, recipe='aligned_student', pretrained=False, mean=(.5,)*3, std=(.5,)*3, resize=112)

def one_head(model:TwoHeads, head:str, arch:str) -> nn.Module:
    "Head `head` ('A' or 'B') of `model` as the package's `EmotionNet` (the same body, that head's seven outputs)"
    net, state, c = create_model(student_preset(arch)), dict(model.net.state_dict()), len(EMOTIONS)
    w, b = state.pop('fc.weight'), state.pop('fc.bias')
    part = slice(0, c) if head == 'A' else slice(c, 2*c)
    net.body.load_state_dict(state); net.head[-1].load_state_dict(dict(weight=w[part], bias=b[part]))
    return net.eval()

SHIPPABLE = ("the readers that keep the 48-px DAN ('default': the network the avatar reader, the pair detectors, Table 4 and the ONNX "
             "export build on, so the checker reads photos with what its detectors learned on) and leave out the teacher (whose file does not ship)")

def valid_means(rows:list) -> pd.Series:
    "Each reader's mean of FER2013 valid and taiwan_faces valid balanced accuracy, from the card's rows"
    t = pd.DataFrame(rows).pivot(index='reader', columns='set', values='balanced_accuracy')
    return t[['fer2013_valid', 'taiwan_faces_valid']].mean(axis=1)

def valid_choice(rows:list) -> tuple:
    "`(reader, mean valid balanced accuracy)`: the best of `valid_means` among the readers that can ship (`SHIPPABLE`)"
    mean = valid_means(rows)
    ok = [r for r in mean.index if 'default' in r.split('_') and 'teacher' not in r.split('_')]
    if not ok: raise SystemExit(f"no reader on the card can ship as the default photo reader: only {SHIPPABLE} can")
    best = mean[ok].idxmax()
    return best, round(float(mean[best]), 4)

def export(model:TwoHeads, card:dict) -> list:
    "Ship the reader `card` chose on valid: its student heads as models and the default photo reader's card (`ENSEMBLE`); the names written"
    reader, valid = valid_choice(card['rows'])
    mean = valid_means(card['rows'])
    parts = reader.split('_')
    tr = card['training']
    heads = {'A': STUDENT, 'B': f'{STUDENT}_teacher'}
    names = sorted((PHOTO_DAN if p == 'default' else heads[p] for p in parts), key=lambda n: n != PHOTO_DAN)   # the box: MTCNN's
    for p in parts:
        if p == 'default': continue
        own = dict(people=1., ratings=tr['ratings']) if p == 'A' else dict(people=1 - tr['teacher'], teacher=tr['teacher'], temperature=tr['temperature'], ratings=tr['ratings'])
        save_model(one_head(model, p, tr['arch']), MODELS_DIR/heads[p], student_preset(tr['arch']), side='photo',
                   crop=dict(align='yunet5', detector='yunet', how="the OpenCV Zoo FER model's input: YuNet's 5 landmarks onto its 112-px template (chapter 00b)"),
                   training=dict(tr, head=p, loss=own, labels=dict(teacher=tr['teacher'], shared_body=p == 'A'), teacher=card['teacher'],
                                 note=("head A's loss has no teacher term, but its body was trained with head B, which learned from the teacher "
                                       "at the share in `labels`" if p == 'A' else "head B learned from the teacher at the share in `loss`")),
                   reproduce=card['reproduce'], exported_by=command_line('bench/aligned_student.py'))
    write_card(MODELS_DIR/f'{ENSEMBLE}.json', dict(
        format=ENSEMBLE_FORMAT, classes=list(EMOTIONS), side='photo', members=names, weights=[1/len(names)]*len(names),
        chosen=dict(reader=reader, valid_mean=valid, rule=f'the highest mean of FER2013 valid and taiwan_faces valid balanced accuracy '
                    f'among {SHIPPABLE}, on the aligned_student card', best_of_all=dict(reader=mean.idxmax(), valid_mean=round(float(mean.max()), 4))),
        teacher=card['teacher'], reproduce=card['reproduce'], exported_by=command_line('bench/aligned_student.py')))
    return [n for n in names if n != PHOTO_DAN] + [ENSEMBLE]

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', type=Path, required=True, help='the student goes to OUT.pt')
    ap.add_argument('--arch', default='resnet10t'); ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--lr', type=float, default=2e-3); ap.add_argument('--wd', type=float, default=0.05)
    ap.add_argument('--bs', type=int, default=128); ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--teacher', type=float, default=0.5, help="head B: the teacher's share of the loss")
    ap.add_argument('--temperature', type=float, default=2.)
    ap.add_argument('--ratings', type=float, default=0.5, help="the observer ratings' share of a taiwan_faces photo's people-target")
    ap.add_argument('--repeat', type=int, default=8, help='copies of the taiwan_faces training photos')
    ap.add_argument('--fraction', type=float, default=1., help="the share of FER2013's training faces used (a quick look: less)")
    ap.add_argument('--write-card', action='store_true')
    ap.add_argument('--from', dest='trained', type=Path, help='a student OUT.pt this script trained: export it, do not train')
    ap.add_argument('--export', action='store_true', help="ship the aligned_student card's valid choice into the package")
    a = ap.parse_args(argv)
    if a.export and not (a.trained or a.write_card): ap.error('--export after training needs --write-card (the choice is read from the card)')
    torch.set_num_threads(2)
    teacher = Teacher()
    if a.trained:   # the student of an earlier run of this script: its card's training section and command stay
        old = read_card('aligned_student')
        model = TwoHeads(old['training']['arch']).eval()
        model.load_state_dict(torch.load(a.trained, weights_only=True))
        training, reproduce = old['training'], dict(reproduce=old['reproduce'], evaluated_by=command_line('bench/aligned_student.py', argv))
    else:
        model, training = train(a, teacher)
        a.out.parent.mkdir(parents=True, exist_ok=True); torch.save(model.state_dict(), f'{a.out}.pt')
        reproduce = dict(reproduce=command_line('bench/aligned_student.py', argv))
    rows, speeds = readings(model, teacher)
    table = pd.DataFrame(rows).pivot(index='reader', columns='set', values='balanced_accuracy')
    print(f"balanced accuracy (training {training['minutes']} min):\n{table.to_string()}", flush=True)
    if a.write_card:
        write_card(CARDS_DIR/'aligned_student.json', dict(teacher=teacher.card, default_reader=PHOTO_DAN, training=training,
                                                           rows=rows, speeds=speeds, **reproduce))
    if a.export: print('exported:', ', '.join(export(model, read_card('aligned_student'))))

if __name__ == '__main__': main()
