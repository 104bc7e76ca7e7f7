"""Build steps: the one native module, keys.gost._native (Streebog), and the pages' catalogues.

Metadata lives in pyproject.toml; this file only adds the extension and
compiles the gettext catalogues. The extension is optional: without a C
compiler and the Python headers the install still succeeds and keys.gost
falls back to the pure-Python Streebog, which is about a hundred times
slower (docs/DECISIONS.md, "GOST (issue 7)"). The catalogues
(api/pages/locale/*/LC_MESSAGES/messages.po) are compiled to .mo next to
them before the package's files are copied, so a wheel carries them
(``make install`` compiles them for the editable install too).
"""

from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        try:
            from babel.messages.mofile import write_mo
            from babel.messages.pofile import read_po
        except ImportError:  # Babel comes with the service's dependencies; the pages compile at first use else
            self.announce("babel is not installed: the pages' catalogues are compiled at first use", level=3)
        else:
            for po in sorted(Path(__file__).resolve().parent.glob("api/pages/locale/*/LC_MESSAGES/*.po")):
                with po.open("rb") as source:
                    catalogue = read_po(source, locale=po.parent.parent.name)
                with po.with_suffix(".mo").open("wb") as target:
                    write_mo(target, catalogue)
        super().run()


setup(
    cmdclass={"build_py": BuildWithCatalogues},
    ext_modules=[
        Extension(
            "keys.gost._native",
            ["keys/gost/_native.c"],
            depends=["keys/gost/_streebog_tables.h"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
