"""Declaring a private upstream name with the versions it was checked on."""
import functools
from dataclasses import dataclass
from importlib import metadata
from typing import Callable, Dict, List, Optional, TypeVar

from packaging.specifiers import SpecifierSet
from packaging.version import Version

F = TypeVar('F', bound=Callable)


class UpstreamVersionError(RuntimeError):
    """A private upstream name is used with a version it was not checked on."""


@dataclass(frozen=True)
class PrivateName:
    """One private or internal upstream name we depend on.

    Attributes:
        package: The distribution (``'mmengine'`` or ``'mmpretrain'``).
        name: The dotted name, e.g. ``'mmpretrain.models.heads.ClsHead.'
            '_get_predictions'``.
        versions: The PEP 440 range it was checked on, e.g.
            ``'>=0.10.0,<=0.10.7'``.
        why: What we use it for.
        fallback: What happens outside the range, when not an error.
    """
    package: str
    name: str
    versions: str
    why: str
    fallback: Optional[str] = None

    def installed(self) -> str:
        return installed_version(self.package)

    def supported(self, version: Optional[str] = None) -> bool:
        version = self.installed() if version is None else version
        return SpecifierSet(self.versions).contains(
            Version(version), prereleases=True)

    def check(self, version: Optional[str] = None) -> None:
        """Raise :class:`UpstreamVersionError` outside :attr:`versions`."""
        version = self.installed() if version is None else version
        if not self.supported(version):
            raise UpstreamVersionError(
                f'fgvc_aam uses the private name {self.name} of '
                f'{self.package}, checked on {self.package}{self.versions}; '
                f'{self.package} {version} is installed. Install a checked '
                f'version, or check the name against {self.package} '
                f'{version} and widen its range in '
                f'projects/fgvc_aam/compat/{self.package}.py.')


def installed_version(package: str) -> str:
    """The installed version of ``package`` (tests replace it)."""
    return metadata.version(package)


#: Every declared private name, by dotted name.
PRIVATE_NAMES: Dict[str, PrivateName] = {}


def declare(package: str,
            name: str,
            versions: str,
            why: str,
            fallback_text: Optional[str] = None) -> PrivateName:
    """Record that compat reaches the private ``name``; returns its entry.

    For a name that no single function wraps: one that several functions
    share (:func:`uses`) or a compat class relies on
    (:func:`private_class`).
    """
    entry = PrivateName(package, name, versions, why, fallback_text)
    if name in PRIVATE_NAMES:
        raise ValueError(f'{name} is declared twice in compat')
    PRIVATE_NAMES[name] = entry
    return entry


def uses(entry: PrivateName,
         fallback: Optional[Callable] = None) -> Callable[[F], F]:
    """Guard the decorated function with the declared ``entry``.

    Each call checks the installed version once (the result is cached):
    inside ``entry.versions`` the function runs; outside it ``fallback``
    runs when one is given (with the same arguments), else
    :class:`UpstreamVersionError` is raised.
    """

    def decorate(func: F) -> F:

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if not _supported(entry):
                if fallback is not None:
                    return fallback(*args, **kwargs)
                entry.check()
            return func(*args, **kwargs)

        wrapper.private_name = entry  # type: ignore[attr-defined]
        wrapper.fallback = fallback  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def private(package: str,
            name: str,
            versions: str,
            why: str,
            fallback: Optional[Callable] = None,
            fallback_text: Optional[str] = None) -> Callable[[F], F]:
    """Declare that the decorated function reaches the private ``name``.

    :func:`declare` and :func:`uses` in one: outside ``versions`` the
    function raises :class:`UpstreamVersionError`, or runs ``fallback``
    (which ``fallback_text`` describes) when one is given.
    """
    if fallback is not None and not fallback_text:
        raise ValueError(f'{name}: say what the fallback does '
                         '(fallback_text)')
    entry = declare(package, name, versions, why,
                    fallback_text if fallback is not None else None)
    return uses(entry, fallback)


C = TypeVar('C', bound=type)


def private_class(*entries: PrivateName) -> Callable[[C], C]:
    """Declare that a compat class reaches ``entries`` and the names of its
    methods wrapped by :func:`private` / :func:`uses`.

    Building an instance (of it or a subclass) outside the range of one of
    those names without a fallback raises :class:`UpstreamVersionError`:
    e.g. a checkpoint hook fails when the runner builds it, not at its
    first save hours later. ``cls.private_names`` lists them.
    """

    def decorate(cls: C) -> C:
        methods = [
            value.private_name for value in vars(cls).values()
            if hasattr(value, 'private_name')
        ]
        names = tuple(entries) + tuple(methods)
        strict = [e for e in names if e.fallback is None]
        init = cls.__init__

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            for entry in strict:
                if not _supported(entry):
                    entry.check()
            init(self, *args, **kwargs)

        cls.__init__ = __init__  # type: ignore[misc]
        cls.private_names = names  # type: ignore[attr-defined]
        return cls

    return decorate


@functools.lru_cache(maxsize=None)
def _supported(entry: PrivateName) -> bool:
    return entry.supported()


def clear_version_cache() -> None:
    """Forget the cached version checks (after the installed version, or
    :func:`installed_version`, changed)."""
    _supported.cache_clear()


def declared_names() -> Dict[str, PrivateName]:
    """Every declared name: :data:`PRIVATE_NAMES` once both upstream
    modules of compat are imported."""
    import importlib
    for module in ('mmengine', 'mmpretrain'):
        importlib.import_module(f'{__package__}.{module}')
    return PRIVATE_NAMES


def check_private_names(strict: bool = True) -> List[PrivateName]:
    """The declared names outside their range (raises the first if strict)."""
    declared_names()
    bad = [entry for entry in PRIVATE_NAMES.values()
           if not entry.supported()]
    if bad and strict:
        bad[0].check()
    return bad
