"""Packages the addon so `pip install .` makes it importable as odoo.addons.bind_amazon_connector."""
import ast
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent
ADDON = "bind_amazon_connector"
manifest = ast.literal_eval((HERE / ADDON / "__manifest__.py").read_text())


def package_tree(root):
    """Every folder of the addon as a package under odoo.addons, with all its files as data."""
    packages, package_dir, package_data = [], {}, {}
    def shipped(path):
        return path.is_dir() and not any(part == "__pycache__" or part.startswith(".") for part in path.parts)

    for folder in sorted(p for p in (HERE / root).rglob("*") if shipped(p)):
        rel = folder.relative_to(HERE)
        name = "odoo.addons." + ".".join(rel.parts)
        packages.append(name)
        package_dir[name] = str(rel)
        package_data[name] = [f.name for f in folder.iterdir() if f.is_file() and f.suffix != ".pyc"]
    top = "odoo.addons." + root
    packages.insert(0, top)
    package_dir[top] = root
    package_data[top] = [f.name for f in (HERE / root).iterdir() if f.is_file()]
    return packages, package_dir, package_data


packages, package_dir, package_data = package_tree(ADDON)
# The SP-API simulator the addon's tests drive: installed beside the addon, so that its tests import wherever
# the addon is installed (Odoo imports every installed addon's tests in any test run).
packages += ["spapi_simulator"]
package_dir["spapi_simulator"] = "spapi_simulator"
package_data["spapi_simulator"] = ["scenarios/*.json"]
setup(
    name="odoo-addon-" + ADDON,
    version=manifest["version"],
    description=manifest["summary"],
    long_description=(HERE / "README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    license=manifest["license"],
    packages=packages,
    package_dir=package_dir,
    package_data=package_data,
    include_package_data=True,
    python_requires=">=3.10",
    install_requires=["python-amazon-sp-api>=2.1.35", "httpx"],
    classifiers=["Framework :: Odoo", "Framework :: Odoo :: 19.0",
                 "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)"],
)
