"""How the files in this folder were made (not run by the tests; pyAgrum is not a
dependency of riskchain). Run with pyAgrum 3.3.1 installed, from this folder:

    python make_files.py ../networks/asia.bif.gz

``demo``: a small network with a three-state child of two parents whose table is not
symmetric in them (so a reversed parent order shows) and numbers of 1/3 and 2/3,
which pyAgrum writes with six decimals in UAI, XDSL and BIFXML.
``asia``: the shared asia network, read from BIF and written back by pyAgrum.
"""

import gzip
import sys
import tempfile
from pathlib import Path

import pyagrum as gum

demo = gum.fastBN("a{yes|no}->c{low|mid|high}<-b{yes|no};a->d{yes|no}")
demo.cpt("a").fillWith([1 / 3, 2 / 3])
demo.cpt("b").fillWith([0.3, 0.7])
# rows in pyAgrum's order (a varies fastest): (a=yes,b=yes), (no,yes), (yes,no), (no,no)
demo.cpt("c").fillWith([1 / 3, 1 / 3, 1 / 3, 0.2, 0.3, 0.5, 0.1, 0.6, 0.3, 0.7, 0.2, 0.1])
demo.cpt("d").fillWith([0.9, 0.1, 1 / 3, 2 / 3])
for ext in ("bif", "net", "uai", "bifxml", "xdsl"):
    gum.saveBN(demo, f"demo.{ext}")

with tempfile.NamedTemporaryFile(suffix=".bif") as tmp:
    tmp.write(gzip.decompress(Path(sys.argv[1]).read_bytes()))
    tmp.flush()
    asia = gum.loadBN(tmp.name)
for ext in ("net", "uai", "bifxml", "xdsl"):
    gum.saveBN(asia, f"asia.{ext}")
