"""Real tabular data from Debian's R data packages, read without R.

Debian's ``r-cran-mlbench`` and ``r-cran-kernlab`` ship classic data sets (Shuttle,
LetterRecognition, spam, ...) as ``.rda`` files. ``apt-get download`` fetches a package
without root and without installing it, ``dpkg -x`` unpacks it into a cache folder and
PyPI's pure-Python ``rdata`` turns each file into pandas DataFrames::

    from rdata_sets import load_r_dataset
    frame = load_r_dataset("mlbench", "Shuttle")   # 58,000 x 10 DataFrame

The cache is ``$SKNUMPY_MLP_RDATA`` or ``~/.cache/sknumpy_mlp/rdata``. This lives in
``benchmarks/`` (extra ``bench``), never in the package or its tests.
"""

import os
import subprocess
import tempfile
import warnings
from pathlib import Path

PACKAGES = {"mlbench": "r-cran-mlbench", "kernlab": "r-cran-kernlab"}


def cache_dir():
    """Where unpacked packages are kept between runs."""
    default = Path.home() / ".cache" / "sknumpy_mlp" / "rdata"
    return Path(os.environ.get("SKNUMPY_MLP_RDATA", default))


def package_data_dir(package):
    """The ``data/`` folder of R package ``package``, fetched and unpacked once.

    Raises
    ------
    FileNotFoundError
        When neither the cache nor ``apt-get download`` can provide it.
    """
    unpacked = cache_dir() / package
    data = unpacked / "usr" / "lib" / "R" / "site-library" / package / "data"
    if data.is_dir():
        return data
    installed = Path("/usr/lib/R/site-library") / package / "data"
    if installed.is_dir():
        return installed
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run(["apt-get", "download", PACKAGES[package]], cwd=tmp,
                           check=True, capture_output=True, timeout=300)
            (deb,) = Path(tmp).glob("*.deb")
            unpacked.mkdir(parents=True, exist_ok=True)
            subprocess.run(["dpkg", "-x", str(deb), str(unpacked)], check=True,
                           capture_output=True, timeout=300)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            raise FileNotFoundError(
                f"R package {package} is not available: `apt-get download "
                f"{PACKAGES[package]}` failed ({exc!r}). Install it with apt-get, or "
                f"unpack it under {cache_dir()}.") from exc
    return data


def load_r_dataset(package, name):
    """The data set ``name`` of R package ``package`` as a pandas DataFrame."""
    import rdata

    path = package_data_dir(package) / f"{name}.rda"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Unknown encoding. Assumed ASCII."
        frames = rdata.conversion.convert(rdata.parser.parse_file(path))
    return frames[name]
