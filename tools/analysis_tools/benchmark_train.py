"""Training and inference throughput of the thesis model against MMPretrain's
own classifier, measured side by side in one run.

Four models on the same ResNet, input size and batch, built from our configs
through MMPretrain's registry:

- ``baseline``: MMPretrain's ``ImageClassifier`` + ``LinearClsHead``
  (``configs/baseline/finetune_resnet50_2xb8-100e_cub.py``);
- ``aam``: single-branch, our ``AngularMarginHead``
  (``configs/aam/aam-step_resnet50_2xb8-100e_cub.py``);
- ``two_branch_softmax``: ``TwoBranchClassifier`` with the baseline's head;
- ``two_branch_aam``: the thesis model
  (``configs/two_branch/two-branch-aam-step_resnet50_2xb8-100e_cub.py``).

A training step is MMEngine's ``model.train_step(data, optim_wrapper)``
(data preprocessor, forward, backward, SGD step), an inference step
``model.test_step(data)`` under ``no_grad``. The models take turns within
every round (the order reverses each round) so that load drifts on a shared
machine hit all alike; ratios are medians of the per-round ratios. The
localizer's (and the crop's) share is its median time on the two-branch
model's own feature maps over the median two-branch training step.

    python tools/analysis_tools/benchmark_train.py --depth 50 --img-size 448 \
        --batch 4 --iters 5 --json work_dirs/benchmark_train.json

Our caching-malloc setting (``enable_caching_malloc``) is applied unless
``FGVC_AAM_CACHING_MALLOC=0``; ``--compare-malloc`` runs the whole benchmark
twice in subprocesses, with and without it, and prints both.
"""
import argparse
import copy
import json
import math
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional

os.environ.setdefault('KINETO_LOG_LEVEL', '5')  # quiet CPU memory profiling
import fgvc_aam_tools.quiet_warnings  # noqa: E402,F401
import torch  # noqa: E402  (after KINETO_LOG_LEVEL)
from mmengine.config import Config  # noqa: E402
from mmengine.optim import OptimWrapper  # noqa: E402
from mmengine.runner.amp import autocast  # noqa: E402
from mmpretrain.registry import MODELS  # noqa: E402
from mmpretrain.structures import DataSample  # noqa: E402

import projects.fgvc_aam  # noqa: F401,E402
from fgvc_aam_tools.caching_malloc import (  # noqa: E402
    OPT_OUT_ENV, caching_malloc_skip_reason, enable_caching_malloc)
from projects.fgvc_aam.models.localizers import \
    localizer_inputs  # noqa: E402

# the repository: the benchmarked configs are read from it
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

CONFIGS = dict(
    baseline='configs/baseline/finetune_resnet50_2xb8-100e_cub.py',
    aam='configs/aam/aam-step_resnet50_2xb8-100e_cub.py',
    two_branch_aam=(
        'configs/two_branch/two-branch-aam-step_resnet50_2xb8-100e_cub.py'),
)
MODEL_NAMES = ('baseline', 'aam', 'two_branch_softmax', 'two_branch_aam')
# Goals of issue 16 (train-step ratios; the localizer's share).
GOALS = dict(two_over_single_max=2.05, aam_over_linear_max=1.03,
             localizer_share_max=0.005)
AAM_MARGIN = 0.5  # the step schedule's last margin (eq. 56)
# wall: elapsed time; cpu: this process's CPU time (user + system, all its
# threads), insensitive to other processes on a shared CPU
CLOCKS = dict(wall=time.perf_counter, cpu=time.process_time)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu', help='cpu | cuda')
    parser.add_argument('--depth', type=int, default=50,
                        help='ResNet depth (18, 34, 50, 101, 152)')
    parser.add_argument('--img-size', type=int, default=448)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--iters', type=int, default=10,
                        help='timed rounds (after --warmup rounds)')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--num-classes', type=int, default=200)
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: MMEngine AmpOptimWrapper '
                        '(fp16 + loss scaling, CUDA only)')
    parser.add_argument('--channels-last', action='store_true',
                        help='models (and so activations) in channels-last '
                        'memory format')
    parser.add_argument('--clock', choices=tuple(CLOCKS), default='wall',
                        help='what the table and ratios use: wall time, or '
                        'the process\'s CPU time (CPU device; with '
                        '--threads 1 it equals wall time on an idle '
                        'machine and ignores other processes on a shared '
                        'one). JSON has both.')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch\'s choice)')
    parser.add_argument('--json', default=None, metavar='OUT',
                        help='write the results to this JSON file')
    parser.add_argument('--compare-malloc', action='store_true',
                        help='run twice in subprocesses, with and without '
                        'our caching-malloc setting, and compare')
    return parser.parse_args(argv)


# ---------------------------------------------------------------- models
def model_configs(depth: int, num_classes: int) -> Dict[str, dict]:
    """The four model configs, from our method configs, at ``depth``."""
    models = {}
    for name, path in CONFIGS.items():
        cfg = Config.fromfile(osp.join(ROOT, path))
        model = copy.deepcopy(cfg.model.to_dict())
        model['backbone'].update(depth=depth, init_cfg=None)  # no download
        model['head'].update(num_classes=num_classes,
                             in_channels=512 if depth < 50 else 2048)
        for key in ('margin', 'margins'):  # margins: the deprecated name
            if key in model['head']:
                model['head'][key] = AAM_MARGIN
        preprocessor = dict(cfg.data_preprocessor.to_dict(),
                            num_classes=num_classes)
        model.setdefault('data_preprocessor', preprocessor)
        models[name] = model
    two_softmax = copy.deepcopy(models['two_branch_aam'])
    two_softmax['head'] = copy.deepcopy(models['baseline']['head'])
    models['two_branch_softmax'] = two_softmax
    return {name: models[name] for name in MODEL_NAMES}


def state_bytes(model: torch.nn.Module, optimizer) -> int:
    """Bytes of the parameters, buffers and optimizer state."""
    tensors = list(model.parameters()) + list(model.buffers())
    for state in optimizer.state.values():
        tensors += [v for v in state.values() if torch.is_tensor(v)]
    return sum(t.numel() * t.element_size() for t in tensors)


def make_optim_wrapper(model: torch.nn.Module, amp: bool) -> OptimWrapper:
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9,
                                weight_decay=1e-4)
    if amp:
        from mmengine.optim import AmpOptimWrapper
        return AmpOptimWrapper(optimizer=optimizer)
    return OptimWrapper(optimizer=optimizer)


# --------------------------------------------------------------- timing
def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


class Meter:
    """Times one step function; on CUDA also its peak memory."""

    def __init__(self, fn: Callable[[], None], device: torch.device,
                 resident: Callable[[], int]):
        self.fn, self.device, self.resident = fn, device, resident
        self.times: Dict[str, List[float]] = {clock: [] for clock in CLOCKS}
        self.peak: Optional[int] = None

    def __call__(self, record: bool) -> None:
        cuda = self.device.type == 'cuda'
        sync(self.device)
        if cuda:
            torch.cuda.reset_peak_memory_stats(self.device)
            before = torch.cuda.memory_allocated(self.device)
        start = {clock: now() for clock, now in CLOCKS.items()}
        self.fn()
        sync(self.device)
        if record:
            for clock, now in CLOCKS.items():
                self.times[clock].append(now() - start[clock])
        if cuda:
            extra = torch.cuda.max_memory_allocated(self.device) - before
            peak = self.resident() + extra
            self.peak = peak if self.peak is None else max(self.peak, peak)


def cpu_peak_bytes(fn: Callable[[], None], resident: int) -> int:
    """Peak of the tensors alive during ``fn`` on CPU: ``resident`` plus the
    running sum, in start order, of every profiled op's own allocations
    minus frees (PyTorch's profiler, ``profile_memory=True``)."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU],
                 profile_memory=True) as prof:
        fn()
    events = sorted(prof.events(), key=lambda e: e.time_range.start)
    live = top = 0
    for event in events:
        live += event.self_cpu_memory_usage
        top = max(top, live)
    return resident + top


def median_time(fn: Callable[[], object], device: torch.device, reps: int,
                clock: str = 'wall') -> float:
    now = CLOCKS[clock]
    fn()
    times = []
    for _ in range(reps):
        sync(device)
        start = now()
        fn()
        sync(device)
        times.append(now() - start)
    return statistics.median(times)


def device_name(device: torch.device) -> str:
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f'{cpu}, {torch.get_num_threads()} torch threads'


# ------------------------------------------------------------------ run
def benchmark(args: argparse.Namespace) -> dict:
    """Run the interleaved benchmark; returns the results dict."""
    malloc = enable_caching_malloc()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.amp and device.type != 'cuda':
        raise SystemExit('--amp needs CUDA (MMEngine AmpOptimWrapper)')
    if args.clock == 'cpu' and device.type != 'cpu':
        raise SystemExit('--clock cpu is for the CPU device')
    torch.manual_seed(0)
    size, batch = args.img_size, args.batch
    fmt = torch.channels_last if args.channels_last else \
        torch.contiguous_format
    data = dict(
        inputs=torch.randint(0, 256, (batch, 3, size, size),
                             dtype=torch.uint8).to(device,
                                                   memory_format=fmt),
        data_samples=[DataSample().set_gt_label(i % args.num_classes)
                      for i in range(batch)])

    models, train, infer = {}, {}, {}
    for name, cfg in model_configs(args.depth, args.num_classes).items():
        model = MODELS.build(cfg).to(device, memory_format=fmt)
        wrapper = make_optim_wrapper(model, args.amp)

        def train_step(model=model, wrapper=wrapper):
            model.train()
            model.train_step(data, wrapper)

        def infer_step(model=model):
            model.eval()
            with torch.no_grad(), autocast(enabled=args.amp):
                model.test_step(data)

        def resident(model=model, wrapper=wrapper):
            return state_bytes(model, wrapper.optimizer)

        models[name] = (model, resident)
        train[name] = Meter(train_step, device, resident)
        infer[name] = Meter(infer_step, device, resident)

    order = list(MODEL_NAMES)
    for rnd in range(args.warmup + args.iters):
        record = rnd >= args.warmup
        for meters in (train, infer):
            for name in order:
                meters[name](record)
        order.reverse()

    clock = args.clock
    results = dict(
        device=device_name(device), torch=torch.__version__,
        depth=args.depth, img_size=size, batch=batch, iters=args.iters,
        clock=clock, amp=args.amp, channels_last=args.channels_last,
        caching_malloc=malloc,
        caching_malloc_skipped=caching_malloc_skip_reason(), models={},
        goals=GOALS)
    for kind, meters in (('train', train), ('infer', infer)):
        for name in MODEL_NAMES:
            entry = results['models'].setdefault(name, {})
            for clk in CLOCKS:
                times = meters[name].times[clk]
                base = meters['baseline'].times[clk]
                suffix = '' if clk == clock else f'_{clk}'
                step = statistics.median(times)
                entry[f'{kind}_step_ms{suffix}'] = 1e3 * step
                entry[f'{kind}_images_per_s{suffix}'] = batch / step
                entry[f'{kind}_vs_baseline{suffix}'] = statistics.median(
                    t / b for t, b in zip(times, base))
            peak = meters[name].peak
            if peak is None:  # CPU: one profiled step
                model, resident = models[name]
                peak = cpu_peak_bytes(
                    lambda m=meters[name]: m.fn(), resident())
            entry[f'{kind}_peak_mib'] = peak / 2**20

    # the localizer and the crop on the two-branch model's feature maps
    model = models['two_branch_aam'][0]
    model.eval()
    with torch.no_grad():
        inputs = model.data_preprocessor(data, False)['inputs']
        outs = model.backbone(inputs)
    t_loc = median_time(lambda: model.localize(outs, (size, size)), device,
                        max(args.iters, 20), clock)
    boxes = model.localize(outs, (size, size))
    feat, _ = localizer_inputs(model.localizer, outs)  # the map it reads
    t_crop = median_time(lambda: model.crop(inputs, boxes), device,
                         max(args.iters, 5), clock)
    two_step = results['models']['two_branch_aam']['train_step_ms'] / 1e3
    single = train['aam'].times[clock]
    other = [c for c in CLOCKS if c != clock][0]
    results[f'two_over_single_{other}'] = statistics.median(
        t / s for t, s in zip(train['two_branch_aam'].times[other],
                              train['aam'].times[other]))
    results[f'aam_over_linear_{other}'] = results['models']['aam'][
        f'train_vs_baseline_{other}']
    results.update(
        feature_map=list(feat.shape[1:]),
        localizer_ms=1e3 * t_loc, localizer_share=t_loc / two_step,
        crop_ms=1e3 * t_crop, crop_share=t_crop / two_step,
        two_over_single=statistics.median(
            t / s for t, s in zip(train['two_branch_aam'].times[clock],
                                  single)),
        two_softmax_over_baseline=results['models']['two_branch_softmax'][
            'train_vs_baseline'],
        aam_over_linear=results['models']['aam']['train_vs_baseline'])
    results['goals_met'] = dict(
        two_over_single=results['two_over_single'] <=
        GOALS['two_over_single_max'],
        aam_over_linear=abs(results['aam_over_linear'] - 1) <=
        GOALS['aam_over_linear_max'] - 1,
        localizer_share=results['localizer_share'] <=
        GOALS['localizer_share_max'])
    return results


def format_table(res: dict) -> str:
    lines = [
        f"ResNet-{res['depth']}, {res['img_size']} px, batch {res['batch']}, "
        f"{res['iters']} interleaved rounds, {res['clock']} time, "
        f"amp={res['amp']}, "
        f"channels_last={res['channels_last']}, caching malloc="
        f"{res['caching_malloc']}; {res['device']}",
        '| model | train img/s | train x baseline | train peak MiB '
        '| infer img/s | infer x baseline | infer peak MiB |',
        '|---|---|---|---|---|---|---|'
    ]
    for name, m in res['models'].items():
        lines.append(
            f"| {name} | {m['train_images_per_s']:.2f} | "
            f"{m['train_vs_baseline']:.3f} | {m['train_peak_mib']:.0f} | "
            f"{m['infer_images_per_s']:.2f} | {m['infer_vs_baseline']:.3f} "
            f"| {m['infer_peak_mib']:.0f} |")
    met = res['goals_met']
    goals = res['goals']

    def mark(ok):
        return 'met' if ok else 'NOT met'

    lines += [
        f"two-branch AAM / single-branch AAM train step: "
        f"{res['two_over_single']:.3f} (goal <= "
        f"{goals['two_over_single_max']}: {mark(met['two_over_single'])})",
        f"AAM head / LinearClsHead train step: {res['aam_over_linear']:.3f} "
        f"(goal within {100 * (goals['aam_over_linear_max'] - 1):.0f} %: "
        f"{mark(met['aam_over_linear'])})",
        f"localizer: {res['localizer_ms']:.3f} ms = "
        f"{100 * res['localizer_share']:.3f} % of the two-branch step (goal "
        f"<= {100 * goals['localizer_share_max']:.1f} %: "
        f"{mark(met['localizer_share'])}); crop {res['crop_ms']:.3f} ms = "
        f"{100 * res['crop_share']:.3f} %",
    ]
    return '\n'.join(lines)


def compare_malloc(argv: List[str]) -> dict:
    """The benchmark in two subprocesses: caching malloc on, then off."""
    argv = [a for a in argv if a != '--compare-malloc']
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, value in (('caching_malloc', '1'), ('glibc_default', '0')):
            out = osp.join(tmp, f'{label}.json')
            env = dict(os.environ, **{OPT_OUT_ENV: value})
            subprocess.run([sys.executable, osp.abspath(__file__), *argv,
                            '--json', out], env=env, check=True)
            with open(out) as f:
                runs[label] = json.load(f)
    return runs


def strip_json_arg(argv: List[str]) -> List[str]:
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == '--json':
            skip = True
        elif not a.startswith('--json='):
            out.append(a)
    return out


def main(argv: Optional[List[str]] = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.compare_malloc:
        runs = compare_malloc(strip_json_arg(argv))
        on, off = runs['caching_malloc'], runs['glibc_default']
        other = [c for c in CLOCKS if c != args.clock][0]
        print('\ncaching malloc off / on (two runs, one after the other; '
              f'{args.clock} time, {other} time in brackets):')
        print('| malloc | two / single | AAM / linear | two-branch AAM train '
              'img/s |\n|---|---|---|---|')
        for label, r in (('glibc default', off), ('caching', on)):
            m = r['models']['two_branch_aam']
            print(f"| {label} | {r['two_over_single']:.3f} "
                  f"({r[f'two_over_single_{other}']:.3f}) | "
                  f"{r['aam_over_linear']:.3f} "
                  f"({r[f'aam_over_linear_{other}']:.3f}) | "
                  f"{m['train_images_per_s']:.3f} "
                  f"({m[f'train_images_per_s_{other}']:.3f}) |")
        results = dict(compare_malloc=runs)
    else:
        results = benchmark(args)
        print(format_table(results))
    for value in _ratios(results):
        if not math.isfinite(value):
            raise SystemExit(f'non-finite ratio {value}')
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
    return results


def _ratios(results: dict) -> List[float]:
    runs = results.get('compare_malloc', {'run': results}).values()
    return [r[k] for r in runs
            for k in ('two_over_single', 'aam_over_linear',
                      'localizer_share')]


if __name__ == '__main__':
    main()
