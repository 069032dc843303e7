"""Build `arshif/data/native_words.txt.gz` and `native_stems.txt.gz`, the lexicon of native Arabic words that spelling
variants never fold (see `arshif.variants`), from a Hunspell Arabic dictionary.

The shipped file was made from Debian's `hunspell-ar` (Ayaspell 3.2, GPL 2.0 / LGPL 2.1 /
MPL 1.1), with `apt-get install hunspell-ar`, then:

    python tools/build_native_lexicon.py /usr/share/hunspell/ar.dic

Each entry is normalised as Arshif normalises text; flags and the file's header are dropped.
The stems are the words' light stems, kept so that no process stems 100,000 words at start;
run it again when `arshif.arabic.stem` changes (a test checks they agree).
"""

from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

from arshif.arabic import normalize, stem

DATA = Path(__file__).resolve().parent.parent / "arshif" / "data"
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
    parser.add_argument("-o", "--output", type=Path, default=DATA, help="folder")
    args = parser.parse_args()
    words = sorted(entries(args.dic))
    write(args.output / "native_words.txt.gz", words)
    write(args.output / "native_stems.txt.gz", sorted({stem(word) for word in words}))
    print(f"{len(words):,} words -> {args.output}")


def write(path: Path, lines: list[str]) -> None:
    """One item a line, gzipped with mtime 0: the same dictionary gives byte-identical files."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(("\n".join(lines) + "\n").encode("utf-8"))


if __name__ == "__main__":
    main()
