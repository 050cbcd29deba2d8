"""Packaging for the near-duplicate dedup job (images, text, video; packages `jobs` and `udfs`)."""
from setuptools import find_packages, setup

INSTALL_REQUIRES = [
    "pyspark>=4.0,<4.4",
    # pyspark 4.x warns on pandas 3; pin the 2.x line that it supports.
    "pandas>=2.2,<3",
    "pyarrow>=15",
    "numpy>=1.26",
    "pillow>=10",
    "imagehash>=4.3",
    "faiss-cpu>=1.8",
    "torch>=2.2",
    "transformers>=4.40",
    "pyyaml>=6",
    # the built-in example corpus is made from scikit-image's bundled photographs
    "scikit-image>=0.22",
    # the HTML report and the notebooks' figures
    "matplotlib>=3.8",
    # the video kind: decoding (its wheels bundle FFmpeg) and the generated example clips
    "av>=12",
]

setup(
    name="image-dedup",
    version="0.1.0",
    description="Corpus-wide near-duplicate image detection as a Spark batch job",
    packages=find_packages(include=["jobs", "jobs.*", "udfs", "udfs.*"]),
    python_requires=">=3.10",
    install_requires=INSTALL_REQUIRES,
    extras_require={
        # faiss-gpu replaces faiss-cpu on GPU clusters (uninstall faiss-cpu first).
        "gpu": ["faiss-gpu>=1.8"],
        "test": ["pytest>=8", "duckdb>=1.0", "nbclient>=0.10", "nbformat>=5.9", "ipykernel>=6"],
    },
    entry_points={"console_scripts": ["dedup=jobs.dedup:main"]},
)
