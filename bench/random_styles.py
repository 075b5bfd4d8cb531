"""Random styles for the avatar reader (issue 30): the reader fine-tuned on the four styles' mix with a share of its training
images given a random style on the fly (chapter 03a's `StyleRandomizer`), against the shipped reader (trained on the four styles
alone) on every style's test avatars and on Tom & Jerry (never trained on). With `--leave-out`, one generator family is left
out of the mix; `bench/avatar_reader.py loso RUN ... --card CARD` scores such runs on the family left out.

    python bench/random_styles.py train --styles 0.5 --out ../runs/avatars_styles
    python bench/random_styles.py compare ../runs/avatars_styles ../runs/avatars_taught --write-card   # the shipped card's random_styles section
    python bench/random_styles.py train --styles 0.5 --leave-out toon --out ../runs/styles_loso_toon
    python bench/random_styles.py train --styles 0.5 --teacher 0.5 --teacher-on agree --out ../runs/avatars_taught   # + the teacher on each photo
"""
import argparse, json
from avatar_anomaly.weights import read_card, update_card, command_line
from avatar_anomaly.finetune import training_mix, train_avatar_reader
from avatar_anomaly.predict import DEFAULT_AVATAR_MODEL
from avatar_anomaly.targets import TEACHER_RULES
from avatar_reader import photo_sets, held_out_tables

SHIPPED = f'avatar_anomaly/models/{DEFAULT_AVATAR_MODEL}'

def command(argv) -> str: return command_line('bench/random_styles.py', argv)

def train(a, argv):
    "The avatar reader on the mix (a family left out, if asked) with `styles` of its training images in a random style"
    table = training_mix(photo_sets(['train', 'valid']), leave_out=a.leave_out, weak=a.weak)
    train_avatar_reader(table, a.out, epochs=a.epochs, leave_out=a.leave_out, weak=a.weak, styles=a.styles, teacher=a.teacher, teacher_on=a.teacher_on,
                        reproduce=command(argv))

def run_settings(model:str) -> dict:
    "What a run changed against the shipped recipe, and its last epoch's valid balanced accuracy (the choosing figure), from its card"
    c = read_card(f'{model}.json')
    labels = c['training'].get('labels')   # 'labels' alone, or the soft targets' shares
    return dict(random_styles=c.get('random_styles', 0.), leave_out=c.get('leave_out'), weak=c.get('weak') or [], teacher=labels.get('teacher', 0.) if isinstance(labels, dict) else 0.,
                teacher_on=c.get('teacher_on'), valid_balanced_accuracy=round(c['training']['history'][-1]['balanced_accuracy_score'], 4))

def compare(a, argv):
    "The runs against the shipped avatar reader: every style's test (FER2013, taiwan_faces), Tom & Jerry, and each one's valid figure"
    res, tj = held_out_tables([SHIPPED, *a.models])
    runs = {m: run_settings(m) for m in [SHIPPED, *a.models]}
    print(json.dumps(runs, indent=1))
    if a.write_card: update_card(SHIPPED, random_styles=dict(rows=res.to_dict('records'), tomjerry=tj, runs=runs, command=command(argv)))

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('train'); p.add_argument('--out', required=True); p.add_argument('--styles', type=float, default=0., help='share of training images in a random style')
    p.add_argument('--leave-out', default=None); p.add_argument('--epochs', type=int, default=None)
    p.add_argument('--teacher', type=float, default=0., help="the RAF-DB teacher's share of the loss, reading each avatar's photo")
    p.add_argument('--teacher-on', choices=TEACHER_RULES, default='all', help='the rows the teacher teaches (`teach_only`)')
    p.add_argument('--weak', nargs='+', default=None, help='weakly labelled avatar sets added to train, e.g. anime_danbooru (search tags)')
    p = sub.add_parser('compare'); p.add_argument('models', nargs='+'); p.add_argument('--write-card', action='store_true')
    a = ap.parse_args(argv)
    dict(train=train, compare=compare)[a.cmd](a, argv)

if __name__ == '__main__': main()
