"""Build step for the one native module, keys.gost._native (Streebog).

Metadata lives in pyproject.toml; this file only adds the extension. It is
optional: without a C compiler and the Python headers the install still
succeeds and keys.gost falls back to the pure-Python Streebog, which is
about a hundred times slower (docs/DECISIONS.md, "GOST (issue 7)").
"""

from setuptools import Extension, setup

setup(
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
