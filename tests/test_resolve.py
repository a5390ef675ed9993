"""Resolver unit tests over an in-memory index (no HTTP): the provider is a pure adapter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version

from lockcheck.errors import ResolutionFailed
from lockcheck.models import CoreMetadata, DistFile, InputRequirement
from lockcheck.resolve.candidates import FormatControl, group_by_version
from lockcheck.resolve.environment import TargetEnvironment
from lockcheck.resolve.protocol import Index
from lockcheck.resolve.resolver import ExistingPin, ResolveRequest, resolve

ANY = frozenset({Tag("py3", "none", "any")})


class MemoryIndex(Index):
    """name -> {version: (deps, requires_python, yanked)}; no prefetching (the defaults)."""

    def __init__(self, projects: dict[str, dict[str, tuple]]):
        self.projects = projects
        self.metadata_calls: list[tuple[str, str]] = []

    def project_files(self, name):
        out = []
        for version, spec in self.projects.get(name, {}).items():
            _deps, rp, yanked = ([*list(spec), None, False])[:3]
            out.append(
                DistFile(
                    filename=f"{name}-{version}-py3-none-any.whl",
                    url=f"https://example.invalid/{name}-{version}.whl",
                    name=canonicalize_name(name),
                    version=Version(version),
                    is_wheel=True,
                    hashes={"sha256": f"{name}{version}".encode().hex().ljust(64, "0")[:64]},
                    requires_python=SpecifierSet(rp) if rp else None,
                    yanked=bool(yanked),
                    tags=ANY,
                )
            )
        return out

    def project_versions(self, name):
        return group_by_version(self.project_files(name))

    def metadata(self, file):
        self.metadata_calls.append((file.name, str(file.version)))
        deps, rp, _ = ([*list(self.projects[file.name][str(file.version)]), None, False])[:3]
        extras = set()
        reqs = []
        for d in deps:
            r = Requirement(d)
            reqs.append(r)
            if r.marker and "extra" in str(r.marker):
                extras.add(str(r.marker).split('"')[1])
        return CoreMetadata(
            name=file.name,
            version=file.version,
            requires_dist=tuple(reqs),
            requires_python=SpecifierSet(rp) if rp else None,
            provides_extra=frozenset(extras),
        )

    def sha256(self, file):  # pragma: no cover - every file here has a hash
        raise AssertionError("hash should come from the index")

    def direct_metadata(self, link, *, base_dir, editable=False):  # pragma: no cover
        raise AssertionError("no direct references here")


def req(line: str, source: str = "-r requirements.in", constraint: bool = False):
    return InputRequirement(Requirement(line), source, Path("requirements.in"), 1, constraint)


def pins(resolution):
    return {n: str(p.version) for n, p in resolution.packages.items()}


ENV = TargetEnvironment.for_python("3.11")

WEB = {
    "flask": {"2.0.0": (["werkzeug>=2.0", "click>=7"],), "3.0.0": (["werkzeug>=3.0", "click>=8"],)},
    "werkzeug": {"2.0.0": ([],), "3.0.0": (["markupsafe>=2.1"],)},
    "click": {"7.0": ([],), "8.0": (["colorama; sys_platform == 'win32'"],)},
    "markupsafe": {"2.1.0": ([],), "3.0.0": ([],)},
    "colorama": {"0.4.6": ([],)},
}


def test_newest_versions_and_via_annotations():
    res = resolve(ResolveRequest([req("flask")], env=ENV), MemoryIndex(WEB))
    assert pins(res) == {
        "click": "8.0",
        "flask": "3.0.0",
        "markupsafe": "3.0.0",
        "werkzeug": "3.0.0",
    }
    assert res.packages["flask"].via == ("-r requirements.in",)
    assert res.packages["markupsafe"].via == ("werkzeug",)
    assert res.python_version == "3.11"


def test_existing_pins_are_kept_and_conflicting_pins_dropped():
    existing = {
        "flask": ExistingPin("flask", Version("2.0.0")),
        "werkzeug": ExistingPin("werkzeug", Version("2.0.0")),
    }
    res = resolve(ResolveRequest([req("flask")], env=ENV, existing_pins=existing), MemoryIndex(WEB))
    assert pins(res)["flask"] == "2.0.0"
    assert pins(res)["werkzeug"] == "2.0.0"
    # A new input needing werkzeug>=3 drops only the werkzeug pin.
    res = resolve(
        ResolveRequest([req("flask"), req("werkzeug>=3")], env=ENV, existing_pins=existing),
        MemoryIndex(WEB),
    )
    assert pins(res)["werkzeug"] == "3.0.0"
    assert pins(res)["flask"] == "2.0.0"


def test_upgrade_package_and_constraints():
    existing = {"flask": ExistingPin("flask", Version("2.0.0"))}
    request = ResolveRequest(
        [req("flask")],
        constraints=[req("markupsafe<3", "-c constraints.txt", constraint=True)],
        env=ENV,
        existing_pins=existing,
        upgrade_packages={"flask": SpecifierSet()},
    )
    res = resolve(request, MemoryIndex(WEB))
    assert pins(res)["flask"] == "3.0.0"
    assert pins(res)["markupsafe"] == "2.1.0"
    assert res.packages["markupsafe"].via == ("-c constraints.txt", "werkzeug")


def test_markers_use_target_environment():
    win = TargetEnvironment.for_python("3.11")
    win.markers["sys_platform"] = "win32"
    res = resolve(ResolveRequest([req("click")], env=win), MemoryIndex(WEB))
    assert "colorama" in res.packages
    res = resolve(ResolveRequest([req("click")], env=ENV), MemoryIndex(WEB))
    assert "colorama" not in res.packages
    res = resolve(
        ResolveRequest([req("click"), req('flask; python_version < "3.0"')], env=ENV),
        MemoryIndex(WEB),
    )
    assert "flask" not in res.packages


def test_requires_python_and_yanked_and_prereleases():
    index = MemoryIndex(
        {
            "new": {"1.0": ([],), "2.0": ([], ">=3.13")},
            "yank": {"1.0": ([],), "1.1": ([], None, True)},
            "pre": {"1.0": ([],), "2.0b1": ([],)},
        }
    )
    res = resolve(ResolveRequest([req("new"), req("yank"), req("pre")], env=ENV), index)
    assert pins(res) == {"new": "1.0", "yank": "1.0", "pre": "1.0"}
    res = resolve(ResolveRequest([req("yank==1.1"), req("pre>=2.0b1")], env=ENV), index)
    assert pins(res) == {"yank": "1.1", "pre": "2.0b1"}
    res = resolve(ResolveRequest([req("pre")], env=ENV, allow_prereleases=True), index)
    assert pins(res) == {"pre": "2.0b1"}
    res = resolve(ResolveRequest([req("new")], env=TargetEnvironment.for_python("3.13")), index)
    assert pins(res) == {"new": "2.0"}


def test_extras_pull_optional_dependencies():
    index = MemoryIndex(
        {
            "requests": {"2.0": (["idna", "pysocks; extra == 'socks'"],)},
            "idna": {"3.0": ([],)},
            "pysocks": {"1.7": ([],)},
        }
    )
    res = resolve(ResolveRequest([req("requests[socks]")], env=ENV), index)
    assert set(pins(res)) == {"requests", "idna", "pysocks"}
    assert res.packages["requests"].extras == frozenset({"socks"})
    assert res.packages["pysocks"].via == ("requests",)
    assert res.packages["requests"].via == ("-r requirements.in",)


def test_conflict_is_explained_in_plain_words():
    index = MemoryIndex(
        {"a": {"1.0": (["c<2"],)}, "b": {"1.0": (["c>=2"],)}, "c": {"1.0": ([],), "2.0": ([],)}}
    )
    with pytest.raises(ResolutionFailed) as info:
        resolve(ResolveRequest([req("a"), req("b")], env=ENV), index)
    text = str(info.value) + "\n".join(info.value.causes)
    assert "conflicting requirements on c" in text
    # Each side is told as the chain from the input that asked for it.
    assert "-r requirements.in (line 1): a -> a 1.0 requires c<2" in text
    assert "-r requirements.in (line 1): b -> b 1.0 requires c>=2" in text
    assert "available versions of c: 1.0, 2.0" in text


def test_explanation_of_a_big_graph_stays_short():
    # 40 versions of a, each needing a different z, all against the root's z<1: every list
    # in the message is capped and says how much it left out.
    index = MemoryIndex(
        {
            "a": {f"{i}.0": ([f"z>={i}.0"],) for i in range(1, 41)},
            "z": {f"{i}.0": ([],) for i in range(41)},
        }
    )
    with pytest.raises(ResolutionFailed) as info:
        resolve(ResolveRequest([req("a"), req("z<1")], env=ENV), index)
    causes = info.value.causes
    text = "\n".join(causes)
    assert len(causes) <= 12, text
    assert max(map(len, causes)) <= 200, text
    assert re.search(r"^and \d+ more requirements$", text, re.M), text
    assert "(and 29 older)" in text, text


def test_versions_asking_the_same_are_one_line():
    index = MemoryIndex(
        {"a": {f"{i}.0": (["z==2.0"],) for i in range(1, 41)}, "z": {"1.0": ([],), "2.0": ([],)}}
    )
    with pytest.raises(ResolutionFailed) as info:
        resolve(ResolveRequest([req("a"), req("z==1.0")], env=ENV), index)
    assert info.value.causes[:2] == [
        "-r requirements.in (line 1) requires z==1.0",
        "-r requirements.in (line 1): a -> all 40 versions of a require z==2.0",
    ]


def test_unknown_package_is_reported():
    with pytest.raises(ResolutionFailed) as info:
        resolve(ResolveRequest([req("nope")], env=ENV), MemoryIndex({}))
    assert "no package named 'nope'" in str(info.value)


def test_hashes_cover_every_platform_but_respect_format_control():
    index = MemoryIndex({"x": {"1.0": ([],)}})
    res = resolve(ResolveRequest([req("x")], env=ENV, generate_hashes=True), index)
    assert len(res.packages["x"].hashes) == 1
    with pytest.raises(ResolutionFailed):
        resolve(
            ResolveRequest(
                [req("x")], env=ENV, formats=FormatControl(no_binary=frozenset({":all:"}))
            ),
            index,
        )


def test_unsafe_packages_are_marked():
    index = MemoryIndex({"tool": {"1.0": (["setuptools"],)}, "setuptools": {"80.0": ([],)}})
    res = resolve(ResolveRequest([req("tool")], env=ENV), index)
    assert res.packages["setuptools"].unsafe
    assert not res.packages["tool"].unsafe


def test_metadata_read_once_per_version():
    index = MemoryIndex(WEB)
    resolve(ResolveRequest([req("flask"), req("werkzeug")], env=ENV), index)
    assert len(index.metadata_calls) == len(set(index.metadata_calls))


def test_target_python_marked_incompatible_stays_out():
    # Backjumping marks the Requires-Python candidate incompatible; offering it again made
    # resolvelib re-pin it forever on every unsatisfiable input whose packages declare a
    # Requires-Python (issue 13).
    from lockcheck.resolve.provider import (
        REQUIRES_PYTHON,
        LockProvider,
        PythonCandidate,
        PythonRequirement,
        ResolveOptions,
    )

    provider = LockProvider(MemoryIndex({}), ResolveOptions(env=ENV), {})
    wanted = {REQUIRES_PYTHON: [PythonRequirement(SpecifierSet(">=3.8"))]}
    assert provider.find_matches(REQUIRES_PYTHON, wanted, {REQUIRES_PYTHON: []})
    marked = {REQUIRES_PYTHON: [PythonCandidate(ENV.version)]}
    assert provider.find_matches(REQUIRES_PYTHON, wanted, marked) == []


def test_a_pin_that_cannot_stay_moves_when_holding_it_is_impossible():
    index = MemoryIndex(
        {
            "a": {"1.0": (["b==1.0"], ">=3.8"), "2.0": (["b==2.0"], ">=3.8")},
            "b": {"1.0": ([], ">=3.8"), "2.0": ([], ">=3.8")},
            "c": {"1.0": (["b<2"], ">=3.8")},
        }
    )
    existing = {n: ExistingPin(n, Version("2.0")) for n in ("a", "b")}
    request = ResolveRequest([req("a"), req("c")], env=ENV, existing_pins=existing)
    assert pins(resolve(request, index)) == {"a": "1.0", "b": "1.0", "c": "1.0"}
    # The second run (pins as preferences) reuses what the first read.
    assert len(index.metadata_calls) == len(set(index.metadata_calls))


def test_upgrade_package_specifier_joins_the_constraints():
    request = ResolveRequest(
        [req("flask")],
        constraints=[req("markupsafe>=2", "-c constraints.txt", constraint=True)],
        env=ENV,
        upgrade_packages={canonicalize_name("markupsafe"): SpecifierSet("<3")},
    )
    res = resolve(request, MemoryIndex(WEB))
    assert pins(res)["markupsafe"] == "2.1.0"
    assert res.packages["markupsafe"].via == ("-c constraints.txt", "werkzeug")


def test_running_out_of_rounds_is_a_clean_error_naming_the_packages(monkeypatch):
    # Only a==1.0 works, found after backtracking through every newer a, b and c.
    n = 30
    index = MemoryIndex(
        {
            "a": {f"{i}.0": ([f"b=={i}.0"],) for i in range(1, n + 1)},
            "b": {f"{i}.0": ([f"c=={i}.0"],) for i in range(1, n + 1)},
            "c": {f"{i}.0": ([] if i == 1 else ["d>=2"],) for i in range(1, n + 1)},
            "d": {"1.0": ([],), "2.0": ([],)},
        }
    )
    request = ResolveRequest([req("a"), req("d<2")], env=ENV)
    assert pins(resolve(request, index))["a"] == "1.0"
    monkeypatch.setattr("lockcheck.resolve.resolver.MAX_ROUNDS", 20)
    with pytest.raises(ResolutionFailed) as info:
        resolve(request, index)
    assert str(info.value).startswith("cannot resolve: gave up after 20 rounds")
    assert str(info.value).endswith("on c, d")  # most conflicts first, then by name
    assert info.value.causes[0].startswith("c: in 6 conflicts, 6 candidate versions rejected")


def test_a_version_dropped_for_its_dependency_says_which_input_stands_in_the_way():
    # a 2.0 fits b, but its d needs z==2.0, which the root excludes: a 2.0 is accounted for.
    index = MemoryIndex(
        {
            "a": {"1.0": (["b==1.0"],), "2.0": (["b==2.0", "d"],), "3.0": (["b==3.0"],)},
            "b": {"1.0": ([],), "2.0": ([],), "3.0": ([],)},
            "d": {"1.0": (["z==2.0"],)},
            "z": {"1.0": ([],), "2.0": ([],)},
        }
    )
    with pytest.raises(ResolutionFailed) as info:
        resolve(ResolveRequest([req("a"), req("b>=2,<3"), req("z==1.0")], env=ENV), index)
    assert (
        "a 2.0 is ruled out because it requires d, and d 1.0 requires z==2.0, "
        "but -r requirements.in (line 1) requires z==1.0"
    ) in info.value.causes


def test_grown_criterion_has_only_its_added_requirements_checked_against_the_pin():
    """resolvelib grows a criterion by copying its list and appending: the pin check then
    asks only about what was added, and a pin that failed a requirement stays failed."""
    from resolvelib import BaseReporter
    from resolvelib.resolvers.criterion import Criterion
    from resolvelib.resolvers.resolution import State
    from resolvelib.structs import RequirementInformation

    from lockcheck.resolve.pin_checks import _MemoResolution

    asked: list[str] = []

    class Provider:
        def is_satisfied_by(self, requirement: str, candidate: str) -> bool:
            asked.append(requirement)
            return requirement != "bad"

    resolution = _MemoResolution(Provider(), BaseReporter())  # type: ignore[arg-type]
    pin, other = "pin", "other pin"
    resolution._states = [State(mapping={"a": pin}, criteria={}, backtrack_causes=[])]

    def criterion(*requirements: str) -> Criterion:
        return Criterion([], [RequirementInformation(r, None) for r in requirements], [])

    first = criterion("r1", "r2")
    infos = first.information
    assert resolution._is_current_pin_satisfying("a", first) and asked == ["r1", "r2"]
    asked.clear()
    grown = Criterion([], [*infos, RequirementInformation("r3", None)], [])
    assert resolution._is_current_pin_satisfying("a", grown) and asked == ["r3"]
    asked.clear()
    failed = Criterion([], [*grown.information, RequirementInformation("bad", None)], [])
    assert not resolution._is_current_pin_satisfying("a", failed) and asked == ["bad"]
    asked.clear()
    still = Criterion([], [*failed.information, RequirementInformation("r4", None)], [])
    assert not resolution._is_current_pin_satisfying("a", still) and asked == []
    # Not a continuation (a requirement dropped), or another pin: checked in full.
    dropped = Criterion([], [infos[0], grown.information[2]], [])
    assert resolution._is_current_pin_satisfying("a", dropped) and asked == ["r1", "r3"]
    asked.clear()
    resolution._states[-1].mapping["a"] = other
    assert resolution._is_current_pin_satisfying("a", Criterion([], [*infos], []))
    assert asked == ["r1", "r2"]


def test_a_pin_a_later_requirement_rules_out_drops_what_it_asked_for():
    """x==2.0 is pinned first and asks for y!=2.0; p, pinned next, needs x<2, so x moves to
    1.0, and what x 2.0 asked for must go with it: y takes its newest version.  (The
    resolver re-checks only the pins whose requirements the last pin changed: this is the
    case where one of them fails.)"""
    index = MemoryIndex(
        {
            "x": {"1.0": (["y"],), "2.0": (["y!=2.0"],)},
            "p": {"1.0": (["x<2"],)},
            "y": {"1.0": ([],), "2.0": ([],)},
        }
    )
    res = resolve(ResolveRequest([req("x"), req("p")], env=ENV), index)
    assert pins(res) == {"p": "1.0", "x": "1.0", "y": "2.0"}
    assert res.packages["y"].via == ("x",)


def test_a_pins_release_files_are_listed_when_first_read():
    """A requirements.txt without hashes never reads them: the index is asked for a pin's
    release only when its files are read, then once; they compare and pickle as a tuple."""
    import pickle

    index = MemoryIndex(WEB)
    asked: list[str] = []
    versions_of = index.project_versions

    def project_versions(name):
        asked.append(name)
        return versions_of(name)

    index.project_versions = project_versions  # type: ignore[method-assign]
    res = resolve(ResolveRequest([req("flask")], env=ENV), index)
    asked.clear()
    flask = res.packages["flask"]
    assert (
        flask.chosen_file is not None
        and flask.chosen_file.filename == "flask-3.0.0-py3-none-any.whl"
    )
    assert asked == []
    assert [f.filename for f in flask.files] == ["flask-3.0.0-py3-none-any.whl"]
    assert list(flask.files) == [flask.chosen_file]
    assert asked == ["flask"]
    assert flask.files == (flask.chosen_file,) and (flask.chosen_file,) == flask.files
    assert pickle.loads(pickle.dumps(flask)).files == (flask.chosen_file,)
    assert asked == ["flask"]
