"""Two fresh machines get the same versions: what is installed is what constraints.txt
pins, and every dependency is pinned there."""

from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).parent.parent.parent


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_normal(name)] = version.strip()
    return pins


def _normal(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def test_every_installed_package_is_at_its_pinned_version():
    pins = _pins()
    installed = {_normal(d.metadata["Name"]): d.version for d in metadata.distributions()
                 if _normal(d.metadata["Name"]) in pins}
    assert installed == pins


def test_every_dependency_of_relance_is_pinned_within_its_range():
    pins = _pins()
    for text in metadata.requires("relance") or []:
        requirement = Requirement(text.split(";")[0])
        assert _normal(requirement.name) in pins, requirement.name
        assert requirement.specifier.contains(pins[_normal(requirement.name)]), requirement
