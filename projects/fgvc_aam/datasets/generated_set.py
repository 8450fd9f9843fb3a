"""A generated (synthetic) data set is whole or it is refused.

``fgvc_aam_tools/synthetic_fgvc.py`` writes a marker file first and a
manifest (size and SHA-256 of every file) last. A data root that holds the
marker but no manifest (an interrupted generation, or one made before
manifests) or whose files do not match the manifest is refused, naming the
first differing file in the manifest's (sorted) order. Cost: sizes of every
file always (one ``stat`` each); SHA-256 of the annotation and meta files
always (a few kB); SHA-256 of the images only with ``hash_images`` (e.g.
``verify_images='full'``, which decodes them anyway). A data root without
the marker (real CUB-200-2011) is not concerned.
"""
import hashlib
import json
import os.path as osp
import posixpath

from .validation import DataValidationError

MARKER_FILE = '.synthetic_fgvc_generator'
MANIFEST_FILE = 'synthetic_fgvc_manifest.json'
MANIFEST_FORMAT = 'fgvc_aam synthetic set manifest 1'
REGENERATE = ('regenerate it (tools/dataset_converters/make_synthetic_fgvc.py'
              ' --force)')


def _read_manifest(path: str) -> dict:
    try:
        with open(path, 'rb') as f:
            manifest = json.loads(f.read().decode('utf-8'))
        files = manifest['files']
        ok = manifest['format'] == MANIFEST_FORMAT and isinstance(
            files, dict) and all(
                isinstance(e, dict) and isinstance(e.get('size'), int)
                for e in files.values())
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataValidationError(
            f'{path}: unreadable manifest of a generated data set '
            f'({type(e).__name__}: {e}); {REGENERATE}') from None
    if not ok:
        raise DataValidationError(
            f'{path}: not a manifest in the format {MANIFEST_FORMAT!r}; '
            f'{REGENERATE}')
    return files


def check_generated_set(data_root: str, hash_images: bool = False) -> None:
    """Refuse a generated data set that is not whole (see the module doc).

    Raises:
        DataValidationError: naming the manifest and the first file that is
            missing or whose size or SHA-256 differs.
    """
    manifest = osp.join(data_root, MANIFEST_FILE)
    if not osp.isfile(manifest):
        if osp.lexists(osp.join(data_root, MARKER_FILE)):
            raise DataValidationError(
                f'{data_root}: made by the synthetic data generator '
                f'({MARKER_FILE}) but has no {MANIFEST_FILE}: its generation '
                f'was interrupted or predates manifests; {REGENERATE}')
        return
    for rel, entry in sorted(_read_manifest(manifest).items()):
        norm = posixpath.normpath(rel)
        if norm != rel or rel.startswith(('/', '../')):
            raise DataValidationError(
                f'{manifest}: file name {rel!r} is not a plain relative path')
        path = osp.join(data_root, rel)
        where = f'{path} (listed in {manifest})'
        if osp.islink(path) or not osp.isfile(path):
            raise DataValidationError(
                f'{where} is missing or not a plain file: the set is not '
                f'whole; {REGENERATE}')
        size = osp.getsize(path)
        if size != entry['size']:
            raise DataValidationError(
                f'{where} has {size} bytes, the manifest says '
                f'{entry["size"]}: the set is not whole; {REGENERATE}')
        if 'sha256' not in entry or not (
                hash_images or not rel.startswith('images/')):
            continue
        with open(path, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != entry['sha256']:
            raise DataValidationError(
                f'{where}: its SHA-256 differs from the manifest\'s: the set '
                f'is not whole; {REGENERATE}')
