"""Prints Piper's own phonemes for each line of standard input (run with a Python that has `piper-tts`).

    python piper_phonemes.py VOICE [--json] < sentences.txt

Default output, one line per input line: the text, then each sentence's phonemes, separated by tabs; this is the
golden file format of crates/voxmill-phonemize/tests/golden/<voice>.tsv. With --json: one JSON array of the
sentences per line (the format of `cargo run -p voxmill-phonemize --example phonemize`). The phonemes are what
Piper's trainer writes to an utterance's phonemes.txt: piper.phonemize_espeak.EspeakPhonemizer().phonemize(voice,
text), each sentence's codepoints joined.
"""

import json
import sys

from piper.phonemize_espeak import EspeakPhonemizer


def main() -> None:
    voice = sys.argv[1]
    as_json = "--json" in sys.argv[2:]
    phonemizer = EspeakPhonemizer()
    for line in sys.stdin:
        text = line.rstrip("\n")
        if not text:
            continue
        sentences = ["".join(s) for s in phonemizer.phonemize(voice, text)]
        if as_json:
            print(json.dumps(sentences, ensure_ascii=False))
        else:
            print("\t".join([text, *sentences]))


main()
