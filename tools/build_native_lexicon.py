"""Build `arshif/data/native_words.txt.gz`, the lexicon of native Arabic words that spelling
variants never fold (see `arshif.variants`), from a Hunspell Arabic dictionary.

The shipped file was made from Debian's `hunspell-ar` (Ayaspell 3.2, GPL 2.0 / LGPL 2.1 /
MPL 1.1), with `apt-get install hunspell-ar`, then:

    python tools/build_native_lexicon.py /usr/share/hunspell/ar.dic

Each entry is normalised as Arshif normalises text; flags and the file's header are dropped.
"""

from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

from arshif.arabic import normalize

OUT = Path(__file__).resolve().parent.parent / "arshif" / "data" / "native_words.txt.gz"
_ARABIC_WORD = re.compile("^[\u0621-\u064a]{2,}$")


def entries(dic: Path) -> set[str]:
    """The dictionary's words, normalised, without affix flags."""
    words = set()
    for line in dic.read_text(encoding="utf-8").splitlines():
        word = normalize(line.split("/", 1)[0].strip())
        if _ARABIC_WORD.match(word):
            words.add(word)
    return words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dic", type=Path, help="a Hunspell .dic file (Arabic)")
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    args = parser.parse_args()
    words = sorted(entries(args.dic))
    # mtime=0: the same dictionary gives a byte-identical file.
    with open(args.output, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(("\n".join(words) + "\n").encode("utf-8"))
    print(f"{len(words):,} words -> {args.output}")


if __name__ == "__main__":
    main()
