"""pyproject.toml as a packaging index and a build backend read it: the license as
an SPDX expression (PEP 639; the `{text = ...}` table is deprecated) with a
setuptools that understands it, project URLs, and classifiers that agree with it.

Built for real by hand (pip wheel with build isolation): setuptools 84 writes
`License-Expression: MIT`; setuptools 65 refuses the string form, hence >=77."""

from __future__ import annotations

import re

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from packaging.licenses import canonicalize_license_expression
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from shop import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def test_license_is_an_spdx_expression_and_the_license_file_says_the_same():
    assert isinstance(PROJECT["license"], str)
    assert canonicalize_license_expression(PROJECT["license"]) == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    # PEP 639: with a license expression, License :: classifiers are an error
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]


def test_build_backend_understands_the_license_string():
    setuptools = [Requirement(r) for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    assert len(setuptools) == 1
    spec = setuptools[0].specifier
    assert not spec.contains("76.1.0") and spec.contains("77.0.3") and spec.contains("84.2.1")


def test_project_urls():
    urls = PROJECT["urls"]
    assert urls["Homepage"] == urls["Repository"] == "https://github.com/flux-migrate/flux"
    assert urls["Issues"] == "https://github.com/flux-migrate/flux/issues"


def test_classifiers_agree_with_requires_python():
    classifiers = PROJECT["classifiers"]
    assert len(classifiers) == len(set(classifiers)) >= 5
    assert all(re.fullmatch(r"[A-Z][^:]*( :: [^:]+)+", c) for c in classifiers), classifiers
    versions = [c.rsplit(" :: ", 1)[1] for c in classifiers if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    supported = SpecifierSet(PROJECT["requires-python"])
    assert versions and all(Version(v) in supported for v in versions)
    assert f"Programming Language :: Python :: {min(versions, key=Version)}" in classifiers
    assert min(versions, key=Version) == str(Version(PROJECT["requires-python"].lstrip(">=")))
    assert "Topic :: Database" in classifiers
