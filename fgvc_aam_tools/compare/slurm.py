"""The comparison on a Slurm cluster (``compare_methods.py --slurm``).

Each (config, seed) run of the local plan (same effective configs, same
run folders) becomes one ``sbatch`` job that runs
:func:`.runs.execute` on that run, i.e. the local run's own commands
(``tools/train.py``, ``torchrun`` for ``--gpus-per-run`` > 1, then the
evaluation) and its ``result.json``. The job id is recorded in the run
folder (``slurm_job.json``, written atomically), so a rerun reads finished
runs, leaves pending and running jobs alone and submits only the rest
(again for a job that ended without a result). ``--report-only`` makes
the table from the finished runs and names the failed jobs with their
logs.
"""
import argparse
import contextlib
import io
import json
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
import time
from typing import List, Optional, Sequence, Tuple

from .results import write_result
from .runs import ROOT, Progress, execute, run_all

JOB_FILE = 'slurm_job.json'
RUN_FILE = 'slurm_run.json'
# states of a job that has not ended (squeue's long names)
ACTIVE_STATES = ('PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING',
                 'SUSPENDED', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED',
                 'RESIZING', 'SIGNALING', 'STAGE_OUT')


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``--slurm`` options of ``compare_methods.py``."""
    p.add_argument('--slurm', metavar='PARTITION',
                   help='submit every (method, seed) run as a Slurm job '
                   'of this partition instead of training here; rerun to '
                   'pick up finished / running jobs, --report-only once '
                   'they have ended')
    p.add_argument('--gpus-per-run', type=int, default=0,
                   help='with --slurm: GPUs of each job (0: CPU, no '
                   '--gres; > 1: torchrun data parallel, as --gpus)')
    p.add_argument('--slurm-args', default='', type=shlex.split,
                   help="with --slurm: more sbatch options, one string, "
                   "e.g. --slurm-args='--time=2:00:00 --qos=normal'")


def check_arguments(p: argparse.ArgumentParser,
                    args: argparse.Namespace) -> None:
    """Refuse options that mean nothing without ``--slurm``; make the
    local plan's ``--gpus`` the jobs' GPUs (same effective configs)."""
    if not args.slurm:
        if args.gpus_per_run or args.slurm_args:
            p.error('--gpus-per-run and --slurm-args need --slurm')
        return
    if args.gpus_per_run < 0:
        p.error('--gpus-per-run must be >= 0')
    if args.gpus and args.gpus != args.gpus_per_run:
        p.error('with --slurm, give the GPUs of a run as --gpus-per-run')
    args.gpus = args.gpus_per_run


def read_job(run_dir: str) -> Optional[dict]:
    """The recorded job of a run folder, or ``None``; a damaged record is
    refused, naming it."""
    path = osp.join(run_dir, JOB_FILE)
    if not osp.isfile(path):
        return None
    try:
        with open(path) as f:
            job = json.load(f)
        str(int(job['job_id']))
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f'compare_methods: {path} is not a job record '
                         f'({e}); remove it to submit the run again') from e
    return job


def job_state(job: dict) -> str:
    """The recorded job's state from ``squeue``: ``'GONE'`` once Slurm has
    forgotten it (an ended job after ``MinJobAge``), or when the id now
    names another job (ids restart with a new cluster)."""
    proc = subprocess.run(['squeue', '--states=all', '-h', '-j',
                           str(job['job_id']), '-o', '%T %j'],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 and 'Invalid job id' not in proc.stderr:
        raise RuntimeError(f'squeue -j {job["job_id"]} failed: '
                           f'{proc.stderr.strip()}')
    fields = proc.stdout.split()
    if proc.returncode != 0 or len(fields) < 2 or \
            fields[1] != job.get('name'):
        return 'GONE'
    return fields[0]


def job_name(run: dict) -> str:
    slug = re.sub(r'[^A-Za-z0-9._-]+', '-', run['name']).strip('-')
    return f'cmp-{slug}-s{run["seed"]}'


def sbatch_command(run: dict, args: argparse.Namespace) -> List[str]:
    """The ``sbatch`` call of one run: one task with ``--threads`` CPUs
    (default 1 on CPU, 5 per GPU as MMPretrain's ``CPUS_PER_TASK``) and
    ``--gpus-per-run`` GPUs, its log in the run folder."""
    gpus = args.gpus_per_run
    cpus = args.threads or (5 * gpus if gpus else 1)
    cmd = ['sbatch', '--parsable', '-p', args.slurm,
           f'--job-name={job_name(run)}', '--ntasks=1',
           f'--cpus-per-task={cpus}', f'--chdir={ROOT}',
           f'--output={osp.join(run["run_dir"], "slurm-%j.out")}']
    if gpus:
        cmd.append(f'--gres=gpu:{gpus}')
    cmd += list(args.slurm_args)
    job = [sys.executable, '-m', 'fgvc_aam_tools.compare.slurm',
           osp.join(run['run_dir'], RUN_FILE)]
    return cmd + ['--wrap', shlex.join(job)]


def submit(run: dict, args: argparse.Namespace) -> dict:
    """Submit one run; returns (and records) its job."""
    write_result(osp.join(run['run_dir'], RUN_FILE), run)
    cmd = sbatch_command(run, args)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f'compare_methods: sbatch for {run["label"]} '
                           f'failed ({proc.returncode}): '
                           f'{proc.stderr.strip()}\n{shlex.join(cmd)}')
    job_id = proc.stdout.strip().split(';')[0]
    job = dict(job_id=job_id, partition=args.slurm, name=job_name(run),
               signature=run['signature'], submitted=time.time(),
               log=osp.join(run['run_dir'], f'slurm-{job_id}.out'),
               train_log=osp.join(run['run_dir'], 'train.log'))
    write_result(osp.join(run['run_dir'], JOB_FILE), job)
    return job


def finished_results(runs: List[dict]) -> List[dict]:
    """The results of the finished runs, read as the local plan reads them
    (:func:`.runs.run_all` in report-only mode, its listing silenced)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return run_all(runs, 1, report_only=True)


def run_on_slurm(runs: List[dict],
                 args: argparse.Namespace) -> Tuple[List[dict], str]:
    """Submit the runs that are neither finished nor in the queue (none
    with ``--report-only`` / ``--dry-run``); returns the finished runs'
    results and ``'done'`` (every run finished), ``'waiting'`` (jobs
    pending or running) or ``'failed'`` (a job ended without a result, with
    ``--report-only``)."""
    results = finished_results(runs)
    finished = {r['run_dir'] for r in results}
    unique = list({r['run_dir']: r for r in runs}.values())
    waiting, failed, submitted = [], [], []
    for run in unique:
        if run['run_dir'] in finished:
            continue
        job = read_job(run['run_dir'])
        state = job_state(job) if job else None
        if state in ACTIVE_STATES:
            waiting.append(run)
            print(f'{run["label"]}: job {job["job_id"]} {state.lower()} '
                  f'(log {job["log"]})')
            continue
        if job is not None:
            print(f'{run["label"]}: FAILED: job {job["job_id"]} ended '
                  f'({state}) without a result; see {job["log"]} and '
                  f'{job["train_log"]}')
            if args.report_only:
                failed.append(run)
                continue
        if args.report_only:
            print(f'{run["label"]}: not submitted')
            waiting.append(run)
        elif args.dry_run:
            print(shlex.join(sbatch_command(run, args)))
        else:
            job = submit(run, args)
            submitted.append(run)
            print(f'{run["label"]}: submitted job {job["job_id"]} '
                  f'(log {job["log"]})')
    print(f'{len(unique)} runs on Slurm partition {args.slurm}: '
          f'{len(finished)} finished, {len(waiting)} pending or running, '
          f'{len(submitted)} submitted now, {len(failed)} failed',
          flush=True)
    if failed:
        return results, 'failed'
    if waiting or submitted or args.dry_run:
        return results, 'waiting'
    return results, 'done'


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The job: run the recorded run (``slurm_run.json``) as the local
    plan does, with the job's CPUs as threads."""
    (path, ) = argv if argv is not None else sys.argv[1:]
    with open(path) as f:
        run = json.load(f)
    threads = int(os.environ.get('SLURM_CPUS_PER_TASK', '1'))
    result = execute(run, Progress([run]), threads)
    return 0 if result['returncode'] == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
