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
        return metadata.version(self.package)

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


#: Every declared private name, by dotted name.
PRIVATE_NAMES: Dict[str, PrivateName] = {}


def private(package: str,
            name: str,
            versions: str,
            why: str,
            fallback: Optional[Callable] = None,
            fallback_text: Optional[str] = None) -> Callable[[F], F]:
    """Declare that the decorated function reaches the private ``name``.

    Each call checks the installed version once (the result is cached):
    inside ``versions`` the function runs; outside it ``fallback`` runs
    when one is given (with the same arguments), else
    :class:`UpstreamVersionError` is raised.
    """
    entry = PrivateName(package, name, versions, why,
                        fallback_text if fallback is not None else None)
    if name in PRIVATE_NAMES:
        raise ValueError(f'{name} is declared twice in compat')
    PRIVATE_NAMES[name] = entry

    def decorate(func: F) -> F:

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if not _supported(entry):
                if fallback is not None:
                    return fallback(*args, **kwargs)
                entry.check()
            return func(*args, **kwargs)

        wrapper.private_name = entry  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


@functools.lru_cache(maxsize=None)
def _supported(entry: PrivateName) -> bool:
    return entry.supported()


def check_private_names(strict: bool = True) -> List[PrivateName]:
    """The declared names outside their range (raises the first if strict)."""
    bad = [entry for entry in PRIVATE_NAMES.values()
           if not entry.supported()]
    if bad and strict:
        bad[0].check()
    return bad
