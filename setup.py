"""The wheel carries the example scenarios and the scenario JSON Schema, which live at
the top of the repository: ``build_py`` copies them into the package it builds
(``atscale_mock/examples/*.yaml`` and ``atscale_mock/atscale-mock-scenario.schema.json``,
where the examples' ``$schema=../...`` comment finds it). Everything else is in
pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent


class BuildWithExamples(build_py):
    def run(self) -> None:
        super().run()
        package = Path(self.build_lib) / "atscale_mock"
        examples = package / "examples"
        examples.mkdir(parents=True, exist_ok=True)
        for scenario in sorted((ROOT / "scenarios").glob("*.yaml")):
            shutil.copy2(scenario, examples / scenario.name)
        schema = ROOT / "atscale-mock-scenario.schema.json"
        shutil.copy2(schema, package / schema.name)


setup(cmdclass={"build_py": BuildWithExamples})
