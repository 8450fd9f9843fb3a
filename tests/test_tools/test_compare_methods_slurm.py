"""compare_methods.py --slurm on a real Slurm cluster (issue 23): a
2-method x 2-seed, 1-epoch plan submitted as 4 jobs; a rerun picks up the
running jobs instead of submitting them again; a cancelled job is named
with its log by --report-only and submitted again by the next rerun; the
table is the mean of the runs' own results."""
import csv
import json
import os.path as osp
import statistics
import subprocess
import time

import pytest

from fgvc_aam_tools.compare import cli
from fgvc_aam_tools.compare.results import ResultFileError, write_result
from fgvc_aam_tools.compare.slurm import JOB_FILE, read_job, sbatch_command

BASE = 'configs/baseline/finetune_resnet18-w16_1xb16-30e_synthetic-fgvc.py'
TWO = ('configs/two_branch/'
       'two-branch-aam-step_resnet18-w16_1xb16-30e_synthetic-fgvc.py')
TINY = ['--regime', 'scratch', '--seeds', '0', '1', '--epochs', '1',
        '--input-size', '48', '--synthetic-params', 'num_classes=4',
        'images_per_class=6', 'train_per_class=4', 'image_size=48']


def _compare(capsys, work: str, partition: str, *extra: str):
    """compare_methods.py in this process: (exit code, what it printed)."""
    code = cli.main([BASE, TWO, *TINY, '--work-dir', work, '--slurm',
                     partition, *extra])
    return code, capsys.readouterr().out


def _jobs(work: str) -> dict:
    """(config slug, seed) -> recorded job."""
    out = {}
    for config in (BASE, TWO):
        slug = osp.splitext(osp.basename(config))[0]
        for seed in (0, 1):
            path = osp.join(work, 'runs', slug, f'seed_{seed}', JOB_FILE)
            if osp.isfile(path):
                with open(path) as f:
                    out[slug, seed] = json.load(f)
    return out


def _wait_until_ended(job_ids, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = subprocess.run(['squeue', '-h', '-j', ','.join(job_ids),
                              '-o', '%i'], capture_output=True,
                             text=True).stdout.split()
        if not out:
            return
        time.sleep(1)
    subprocess.run(['scancel', *job_ids])
    pytest.fail(f'jobs {job_ids} did not end in {timeout} s')


def test_slurm_arguments_are_checked():
    with pytest.raises(SystemExit):
        cli.parse_args([BASE, '--gpus-per-run', '2'])  # without --slurm
    args = cli.parse_args([BASE, '--slurm', 'p', '--gpus-per-run', '2',
                           '--slurm-args=--time=1:00:00 --qos=q'])
    assert args.gpus == 2  # the local plan's --gpus: same configs
    assert args.slurm_args == ['--time=1:00:00', '--qos=q']


def test_sbatch_command_asks_for_gpus_only_when_given(tmp_path):
    run = dict(name='two-branch AAM (thesis)', seed=1,
               run_dir=str(tmp_path))
    args = cli.parse_args([BASE, '--slurm', 'cpu'])
    cmd = sbatch_command(run, args)
    assert cmd[:4] == ['sbatch', '--parsable', '-p', 'cpu']
    assert '--cpus-per-task=1' in cmd and '--ntasks=1' in cmd
    assert not any(c.startswith('--gres') for c in cmd)
    assert '--job-name=cmp-two-branch-AAM-thesis-s1' in cmd
    assert f'--output={tmp_path}/slurm-%j.out' in cmd
    # the job runs the recorded run through the package's entry point
    assert cmd[-2] == '--wrap' and cmd[-1].endswith(
        f'-m fgvc_aam_tools.compare.slurm {tmp_path}/slurm_run.json')
    args = cli.parse_args([BASE, '--slurm', 'gpu', '--gpus-per-run', '2',
                           '--slurm-args=--time=1:00:00'])
    cmd = sbatch_command(run, args)
    assert '--gres=gpu:2' in cmd and '--cpus-per-task=10' in cmd
    assert cmd.index('--time=1:00:00') < cmd.index('--wrap')


def test_job_record_is_written_whole_and_never_through_a_link(tmp_path):
    write_result(str(tmp_path / JOB_FILE), dict(job_id='7'))
    assert read_job(str(tmp_path)) == dict(job_id='7')
    target = tmp_path / 'elsewhere.json'
    target.write_text('keep')
    (tmp_path / JOB_FILE).unlink()
    (tmp_path / JOB_FILE).symlink_to(target)
    with pytest.raises(ResultFileError, match=JOB_FILE):
        write_result(str(tmp_path / JOB_FILE), dict(job_id='8'))
    assert target.read_text() == 'keep'
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'elsewhere.json', JOB_FILE]  # no temporary file left


def test_damaged_job_record_is_refused_naming_it(tmp_path):
    assert read_job(str(tmp_path)) is None
    (tmp_path / JOB_FILE).write_text('{"job_id": ')  # a cut write
    with pytest.raises(ValueError, match=JOB_FILE):
        read_job(str(tmp_path))


@pytest.mark.slurm
@pytest.mark.slow
@pytest.mark.e2e
def test_comparison_on_slurm(slurm_partition, tmp_path, capsys):
    work = str(tmp_path / 'cmp')
    code, out = _compare(capsys, work, slurm_partition)
    assert code == 0, out[-4000:]
    assert '4 runs on Slurm partition' in out and '4 submitted now' in out
    jobs = _jobs(work)
    assert len(jobs) == 4
    ids = [j['job_id'] for j in jobs.values()]
    assert len(set(ids)) == 4
    # a job that ends without a result: cancelled at once (a run's imports
    # alone take longer than this)
    two = osp.splitext(osp.basename(TWO))[0]
    cancelled = jobs[two, 1]
    subprocess.run(['scancel', cancelled['job_id']], check=True)
    _wait_until_ended([cancelled['job_id']])
    code, out = _compare(capsys, work, slurm_partition, '--report-only')
    assert code == 1, out[-4000:]
    assert (f'FAILED: job {cancelled["job_id"]} ended (CANCELLED) without '
            f'a result; see {cancelled["log"]}') in out
    assert '0 submitted now, 1 failed' in out
    # a rerun submits that run only: the others are running or finished
    code, out = _compare(capsys, work, slurm_partition)
    assert code == 0, out[-4000:]
    assert '1 submitted now, 0 failed' in out
    now = _jobs(work)
    assert now[two, 1]['job_id'] not in ids
    assert {k: v for k, v in now.items() if k != (two, 1)} == {
        k: v for k, v in jobs.items() if k != (two, 1)}
    _wait_until_ended(ids + [now[two, 1]['job_id']])
    code, out = _compare(capsys, work, slurm_partition, '--report-only')
    assert code == 0, out[-4000:]
    with open(osp.join(work, 'comparison.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [r['method'] for r in rows] == [
        'softmax baseline', 'two-branch AAM step (thesis)']
    # oracle: each row is the mean of its runs' own result.json
    for row, config in zip(rows, (BASE, TWO)):
        assert row['seeds'] == '0 1'
        top1 = []
        for seed in (0, 1):
            with open(osp.join(work, 'runs',
                               osp.splitext(osp.basename(config))[0],
                               f'seed_{seed}', 'result.json')) as f:
                top1.append(json.load(f)['top1'])
        assert float(row['top1']) == pytest.approx(statistics.mean(top1))
