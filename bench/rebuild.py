"""Rebuild everything built on the photo reader, in order, by one command: the teacher's readings, the photo reader, the
112-px aligned student and its ensemble with the photo reader, their benchmarks, the London smile study, every style's
avatars, the avatar reader and its studies (images read whole, each generator family left out, anime search tags as weak
labels), the label-compare threshold, the pair detectors (Siamese v1/v2 and the checker's default), the end-to-end detector
(its fine-tuned readers, the checker's default again), every detector's calibration, Table 4, the live settings and
label-compare on White-box avatars. Like `dvc repro`, each stage
names its inputs (`deps`) and its products (`outs`); a stage runs only when the sha256 of an input or product differs from
`bench/chain.lock.json`, the record of the last run, so a changed photo reader reruns everything after it and an unchanged
one nothing. The lock is written after each stage: a killed rebuild goes on where it stopped.

    python bench/rebuild.py --dry-run        # what would run, and why
    python bench/rebuild.py                  # run what is out of date
    python bench/rebuild.py --force avatar_reader   # rerun one stage (and so everything built on it)

A rebuild longer than the machine is lent for goes on elsewhere: `--park DIR` copies the lock and every file the rebuild
changed (against git's HEAD) into DIR, which can be committed beside the models it would replace; in a fresh checkout
`--unpark DIR` puts them back, and the next `python bench/rebuild.py` skips the stages the lock records as done.

    python bench/rebuild.py --park bench/chain_parked      # keep an unfinished rebuild
    python bench/rebuild.py --unpark bench/chain_parked    # take it up again
"""
import argparse, hashlib, json, shutil, subprocess, time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT/'bench'/'chain.lock.json'
M, C = 'avatar_anomaly/models', 'avatar_anomaly/cards'
FAMILIES = list(json.loads((ROOT/C/'avatar_styles.json').read_text())['families'])   # the generator families, each left out once
CHOSEN = f"import json; print(*json.load(open('{C}/soft_targets.json'))['chosen']['options'])"   # the ablation's chosen training options

@dataclass
class Stage:
    "One step of the chain: shell commands run from the checkout, the files they read and the files they make"
    name:str
    cmds:list
    deps:list
    outs:list

STAGES = [
    Stage('teacher', ['python bench/teacher.py --write-card'], ['bench/teacher.py'], [f'{C}/teacher.json']),   # readings cached for training
    Stage('soft_target_ablation', ['python bench/distill.py --epochs 2 --fraction 0.25 --out ../runs/ablation --write-card'],
          ['bench/distill.py', 'bench/train_reader.py', f'{M}/fer2013_dan_fernet_s.safetensors'], [f'{C}/soft_targets.json']),
    Stage('photo_reader', [f'python bench/train_reader.py $(python -c "{CHOSEN}") --out avatar_anomaly/models/photos_dan_fernet_s'],
          ['bench/train_reader.py', f'{C}/teacher.json', f'{C}/soft_targets.json', f'{M}/fer2013_dan_fernet_s.safetensors'],
          [f'{M}/photos_dan_fernet_s.safetensors']),
    Stage('aligned_student', ['python bench/aligned_student.py --epochs 10 --out ../runs/aligned_student --write-card --export'],
          ['bench/aligned_student.py', f'{C}/teacher.json', f'{M}/photos_dan_fernet_s.safetensors'],   # the student, and its average with the DAN
          [f'{C}/aligned_student.json', f'{M}/photos_aligned_resnet10t.safetensors', f'{M}/photos_ensemble.json']),
    Stage('photo_reader_figures', ['python bench/readers.py --models photos_ensemble photos_aligned_resnet10t photos_dan_fernet_s fer2013_dan_fernet_s '
                                   'avatar_anomaly/models/photos_dan_fernet_s_votes --write-card',   # every photo reader beside one peer run (chapter 95)
                                   'python bench/fer2013.py --split test --model photos_dan_fernet_s --write-card',
                                   'python bench/fer2013.py --split test --model photos_ensemble --write-card'],
          ['bench/readers.py', 'bench/fer2013.py', f'{M}/photos_dan_fernet_s.safetensors', f'{M}/photos_aligned_resnet10t.safetensors',
           f'{M}/photos_ensemble.json'], []),
    Stage('smile_gap', ['python bench/smile_gap.py --models photos_dan_fernet_s avatar_anomaly/models/photos_dan_fernet_s_votes --write-card'],
          ['bench/smile_gap.py', f'{M}/photos_dan_fernet_s.safetensors'], []),   # where the photo network's London smiles go (chapter 02a)
    Stage('avatars', ['python bench/avatar_reader.py build'], ['bench/avatar_reader.py'], []),   # every style's avatars (cached): what the stages after read
    Stage('avatar_reader', ['python bench/avatar_reader.py train --out avatar_anomaly/models/avatars_dan_fernet_s',
                            'python bench/avatar_reader.py evaluate --models photos_dan_fernet_s avatar_anomaly/models/avatars_dan_fernet_s --write-card'],
          ['bench/avatar_reader.py', f'{M}/photos_dan_fernet_s.safetensors'], [f'{M}/avatars_dan_fernet_s.safetensors']),
    Stage('avatar_studies', ['python bench/avatar_reader.py wholes --models photos_dan_fernet_s avatar_anomaly/models/avatars_dan_fernet_s --write-card',
                             *[f'python bench/avatar_reader.py train --leave-out {f} --out ../runs/loso_{f}' for f in FAMILIES],
                             f"python bench/avatar_reader.py loso {' '.join(f'../runs/loso_{f}' for f in FAMILIES)} --write-card",
                             'python bench/avatar_reader.py train --weak anime_danbooru --out ../runs/avatars_weak',
                             'python bench/avatar_reader.py weak ../runs/avatars_weak --write-card'],   # the avatar card's whole_images, loso, weak_data
          ['bench/avatar_reader.py', f'{M}/photos_dan_fernet_s.safetensors', f'{M}/avatars_dan_fernet_s.safetensors'], []),
    Stage('label_compare', ['python bench/check_baseline.py --choose-threshold'],   # it reads photos with the default reader, the ensemble
          ['bench/check_baseline.py', f'{M}/photos_ensemble.json', f'{M}/photos_dan_fernet_s.safetensors', f'{M}/photos_aligned_resnet10t.safetensors',
           f'{M}/avatars_dan_fernet_s.safetensors'], [f'{C}/label_compare.json']),
    Stage('pair_detectors', ['python bench/pairs.py --write-cards --out ../runs/pairs'],
          ['bench/pairs.py', f'{M}/photos_dan_fernet_s.safetensors', f'{M}/avatars_dan_fernet_s.safetensors', f'{C}/label_compare.json'],
          [f'{M}/siamese_v1.safetensors', f'{M}/siamese_v2.safetensors', f'{C}/checker.json']),
    Stage('end_to_end', ['python bench/pairs.py --end-to-end --write-cards', 'python bench/pairs.py --speed --threads 2 --write-cards'],
          ['bench/pairs.py', 'avatar_anomaly/end_to_end.py', f'{M}/photos_dan_fernet_s.safetensors', f'{M}/avatars_dan_fernet_s.safetensors',
           f'{M}/siamese_v1.safetensors', f'{M}/siamese_v2.safetensors'],
          [f'{M}/siamese_e2e.safetensors', f'{M}/pairs_photo_dan_fernet_s.safetensors', f'{M}/pairs_avatar_dan_fernet_s.safetensors']),
    Stage('calibration', ['python bench/pairs.py --calibrate --write-cards'],
          ['bench/pairs.py', f'{C}/label_compare.json', f'{M}/siamese_v1.safetensors', f'{M}/siamese_v2.safetensors', f'{M}/siamese_e2e.safetensors'], []),
    Stage('table4', ['python bench/table4.py'], ['bench/table4.py', f'{M}/photos_dan_fernet_s.safetensors', f'{M}/avatars_dan_fernet_s.safetensors'],
          [f'{C}/table4.json']),
    Stage('live', ['python bench/live.py --choose --write-card'],
          ['bench/live.py', f'{C}/checker.json', f'{M}/siamese_e2e.safetensors', f'{M}/siamese_v2.safetensors', f'{M}/photos_dan_fernet_s.safetensors'], []),
    Stage('label_compare_whitebox', ['python bench/check_baseline.py --generator whitebox --checkpoint whitebox_cartoon_gan_fp16.tflite'],
          ['bench/check_baseline.py', f'{M}/photos_ensemble.json', f'{M}/photos_dan_fernet_s.safetensors', f'{M}/photos_aligned_resnet10t.safetensors',
           f'{M}/avatars_dan_fernet_s.safetensors'], []),   # label-compare's White-box benchmark (a section of its card; last, so nothing reads it)
]

def sha256(path:Path) -> str|None:
    "Hex sha256 of a file, None where it does not exist"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None

def stamp(stage:Stage, root:Path) -> dict:
    "What the lock records of a stage: its commands and the sha256 of each input and product"
    return dict(cmds=stage.cmds, deps={d: sha256(root/d) for d in stage.deps}, outs={o: sha256(root/o) for o in stage.outs})

def why_run(stage:Stage, lock:dict, root:Path) -> str:
    "Why `stage` is out of date ('' when it is not)"
    old, now = lock.get(stage.name), stamp(stage, root)
    if old is None: return 'never run'
    if old['cmds'] != now['cmds']: return 'its commands changed'
    changed = [p for kind in ('deps', 'outs') for p in now[kind] if now[kind][p] != old[kind].get(p)]
    missing = [p for p in now['outs'] if now['outs'][p] is None]
    return f"missing {', '.join(missing)}" if missing else (f"changed {', '.join(changed)}" if changed else '')

def tracked(stages:list, root:Path) -> dict:
    "sha256 of every file a stage names (inputs and products)"
    return {p: sha256(root/p) for s in stages for p in (*s.deps, *s.outs)}

def absorb(lock:dict, changed:dict, earlier:list):
    """Record in the entries of the `earlier` stages the files a stage just changed (`{path: sha256}`): a later stage that writes on an earlier
    product (a benchmark adding its section to a card) does not make the earlier stage out of date"""
    for entry in (lock[n] for n in earlier if n in lock):
        for kind in ('deps', 'outs'):
            entry[kind].update({p: h for p, h in changed.items() if p in entry[kind]})

def rebuild(stages:list=STAGES, root:Path=ROOT, lock_file:Path=LOCK, force:tuple=(), dry_run:bool=False, log=print) -> list:
    "Run the out-of-date stages of `stages` in order (a forced stage makes every later one run too); the names of the stages run"
    lock = json.loads(lock_file.read_text()) if lock_file.exists() else {}
    ran, forcing = [], False
    for s in stages:
        forcing = forcing or s.name in force
        reason = 'forced' if forcing else why_run(s, lock, root)
        if not reason: log(f"= {s.name}: up to date"); continue
        log(f"> {s.name}: {reason}")
        if dry_run: ran.append(s.name); continue
        t0, before = time.time(), tracked(stages, root)
        for cmd in s.cmds:
            log(f"  $ {cmd}")
            r = subprocess.run(cmd, shell=True, cwd=root)
            if r.returncode: raise SystemExit(f"stage {s.name}: `{cmd}` exited {r.returncode}; the lock keeps the stages before it")
        absorb(lock, {p: h for p, h in tracked(stages, root).items() if h != before[p]}, [e.name for e in stages[:stages.index(s)]])
        lock[s.name] = dict(stamp(s, root), minutes=round((time.time() - t0)/60, 1))
        lock_file.write_text(json.dumps(lock, indent=2) + '\n')
        ran.append(s.name)
    return ran

def accept(name:str, stages:list=STAGES, root:Path=ROOT, lock_file:Path=LOCK) -> dict:
    """Record stage `name` as done with its inputs and products as they are now, without running it: for a product remade by a cheaper
    command than the stage's (an export from a model the stage already trained, after a fix to the export alone). The entry says so"""
    lock = json.loads(lock_file.read_text()) if lock_file.exists() else {}
    if name not in lock: raise SystemExit(f"{name}: never run, so nothing to accept; run it")
    s = next(s for s in stages if s.name == name)
    missing = [o for o, h in stamp(s, root)['outs'].items() if h is None]
    if missing: raise SystemExit(f"{name}: cannot accept, missing {', '.join(missing)}")
    lock[name] = dict(stamp(s, root), minutes=lock[name]['minutes'], accepted=True)
    lock_file.write_text(json.dumps(lock, indent=2) + '\n')
    return lock[name]

def changed_files(root:Path) -> list:
    "Files under `root` that differ from git's HEAD or are new (ignored ones left out), as paths relative to `root`"
    out = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=all', '-z', '.'], cwd=root, capture_output=True, text=True, check=True).stdout
    return sorted(e[3:] for e in out.split('\0') if e and e[:2] != ' D' and (root/e[3:]).is_file())

def park(folder:Path, root:Path=ROOT) -> list:
    "Copy the lock and every changed file of `root` (outside `folder`) into `folder`, at the same relative paths; the paths copied"
    if not (root/LOCK.relative_to(ROOT)).exists(): raise SystemExit(f"{root}: no lock, so no rebuild to park")
    folder = folder.resolve()
    files = [f for f in changed_files(root) if not (root/f).resolve().is_relative_to(folder)]
    if folder.exists(): shutil.rmtree(folder)
    for f in files: (folder/f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(root/f, folder/f)
    return files

def unpark(folder:Path, root:Path=ROOT) -> list:
    "Put the files parked in `folder` back into `root`; the paths restored"
    if not folder.is_dir(): raise SystemExit(f"{folder}: no parked rebuild there")
    files = sorted(str(f.relative_to(folder)) for f in folder.rglob('*') if f.is_file())
    for f in files: (root/f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(folder/f, root/f)
    return files

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--dry-run', action='store_true', help='say what would run, run nothing')
    ap.add_argument('--force', nargs='*', default=[], choices=[s.name for s in STAGES], help='rerun these stages and all after them')
    ap.add_argument('--park', type=Path, metavar='DIR', help='copy the lock and the changed files into DIR, run nothing')
    ap.add_argument('--unpark', type=Path, metavar='DIR', help='put the files parked in DIR back, run nothing')
    ap.add_argument('--accept', choices=[s.name for s in STAGES], help='record this stage as done with its files as they are, run nothing')
    ap.add_argument('--root', type=Path, default=ROOT, help='the checkout to park from or unpark into (default: this one)')
    a = ap.parse_args(argv)
    if a.park or a.unpark:
        files = park(a.park, a.root.resolve()) if a.park else unpark(a.unpark, a.root.resolve())
        print(f"{'parked' if a.park else 'unparked'} {len(files)} files:", *files, sep='\n  ')
        return files
    if a.accept: return print(f"accepted {a.accept} as it is now:", json.dumps(accept(a.accept, root=a.root.resolve()), indent=2))
    return rebuild(force=tuple(a.force), dry_run=a.dry_run)

if __name__ == '__main__': main()
