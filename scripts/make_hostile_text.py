#!/usr/bin/env python3
"""Writes Tests/Fixtures/tokenizers/hostile.txt: a seeded, reproducible, hostile multilingual test file.

Lines are separated by '\n' only; a line may contain '\r', '\x0b', '\x0c', U+0085, U+2028 and other
characters that some libraries treat as line breaks. Run from the package root:
    /work/venv/bin/python scripts/make_hostile_text.py
"""
import random, unicodedata, os, sys

rng = random.Random(20261124)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SST2 = os.path.join(ROOT, "..", "shared", "datasets", "sst2_glue", "train.tsv")

def pick(s): return s[rng.randrange(len(s))]
def rchars(lo, hi, n): return "".join(chr(rng.randint(lo, hi)) for _ in range(n))

WORDS = ("the movie was great but a little too long ; i loved every minute of it and the acting "
         "is superb . not bad at all , really ! who knew ? café naïve façade résumé coöperate "
         "Zürich São Paulo Ελληνικά Москва straße ﬁnance İstanbul ΣΊΣΥΦΟΣ Øresund Łódź Ångström").split()
SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t\x0b\x0c\r\x85\u2028\u2029\x1c\x1d\x1e\x1f"
ZERO = "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u180e\ufe0f\ufe0e"
CONTROLS = "".join(chr(c) for c in list(range(0, 9)) + [0x7f] + list(range(0x80, 0xa0)) + [0xfffd, 0xfffc, 0xe000, 0xf8ff])
COMBINING = [chr(c) for c in range(0x300, 0x370)] + ["\u0483", "\u05b0", "\u064b", "\u0903", "\u093c", "\u0e31", "\u20dd", "\u20e3", "\u1ab0", "\u1dc0", "\ufe20"]
SPECIALS = ["[MASK]", "[CLS]", "[SEP]", "[UNK]", "[PAD]", "<mask>", "<s>", "</s>", "<pad>", "<unk>", "[mask]", "<MASK>", "[MASK", "MASK]"]
EMOJI = ["😀", "👍", "👍🏻", "👍🏽", "👍🏿", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🏳️‍🌈", "🏴‍☠️", "🇫🇷", "🇯🇵", "🇺🇸🇬🇧", "1️⃣", "#️⃣", "❤️", "❤", "☺️",
         "🫠", "🫶🏼", "🪿", "🫨", "🩷", "🧑‍🤝‍🧑", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🤷‍♀️", "🙇🏾‍♂️", "👁️‍🗨️", "🐈‍⬛", "🦀", "🥲", "🧌", "🪼", "🫎"]
SCRIPTS = {
    "cjk": (0x4E00, 0x9FFF), "cjkA": (0x3400, 0x4DBF), "cjkB": (0x20000, 0x2A6DF), "cjkCompat": (0xF900, 0xFAFF),
    "hiragana": (0x3041, 0x3096), "katakana": (0x30A1, 0x30FA), "hangul": (0xAC00, 0xD7A3), "jamo": (0x1100, 0x11FF),
    "thai": (0x0E01, 0x0E5B), "devanagari": (0x0900, 0x097F), "arabic": (0x0600, 0x06FF), "hebrew": (0x0591, 0x05F4),
    "cyrillic": (0x0400, 0x04FF), "greek": (0x0370, 0x03FF), "armenian": (0x0531, 0x0587), "georgian": (0x10A0, 0x10FF),
    "cherokee": (0x13A0, 0x13FD), "fullwidth": (0xFF01, 0xFF5E), "halfwidth": (0xFF61, 0xFFDC), "math": (0x1D400, 0x1D7FF),
    "letterlike": (0x2100, 0x214F), "roman": (0x2160, 0x2188), "enclosed": (0x2460, 0x24FF), "latinExtB": (0x0180, 0x024F),
    "latinExtD": (0xA720, 0xA7FF), "glagolitic": (0x2C00, 0x2C5F), "vithkuqi": (0x10570, 0x105BF), "ipa": (0x0250, 0x02AF),
    "tamil": (0x0B80, 0x0BFF), "ethiopic": (0x1200, 0x137F), "mongolian": (0x1800, 0x18AF), "tibetan": (0x0F00, 0x0FFF),
    "symbols": (0x2190, 0x23FF), "boxdraw": (0x2500, 0x25FF), "dingbats": (0x2700, 0x27BF), "emojiBlock": (0x1F300, 0x1FAFF),
    "superscripts": (0x2070, 0x209F), "ligatures": (0xFB00, 0xFB4F), "arabicPres": (0xFB50, 0xFDFF), "cjkSymbols": (0x3000, 0x303F),
}
THAI = "ภาษาไทยเป็นภาษาที่ไม่มีการเว้นวรรคระหว่างคำ"
HINDI = "हिन्दी भाषा में क्षत्रिय और ज्ञान शब्द हैं। नमस्ते दुनिया"
ARABIC = "\u200fمرحبا بالعالم\u200e (hello) \u202bنص عربي\u202c ١٢٣ ۴۵۶"
HEBREW = "\u200fשָׁלוֹם עוֹלָם\u200e abc \u2067עברית\u2069"

def word():
    w = pick(WORDS)
    r = rng.random()
    if r < 0.2: w = w.upper()
    elif r < 0.3: w = w.capitalize()
    return w

def sentence(n=None):
    n = n or rng.randint(3, 12)
    return " ".join(word() for _ in range(n))

def gen_line(kind):
    if kind == 0:  # accents: precomposed vs decomposed vs stacked marks
        s = sentence()
        form = pick(["NFC", "NFD", "NFKC", "NFKD", "zalgo", "mixed"])
        if form == "zalgo":
            return "".join(c + "".join(pick(COMBINING) for _ in range(rng.randint(0, 4))) if c.isalpha() else c for c in s)
        if form == "mixed":
            return "".join(unicodedata.normalize(pick(["NFC", "NFD"]), c) for c in s) + " " + pick(COMBINING) + "x" + pick(COMBINING) * 3
        return unicodedata.normalize(form, s)
    if kind == 1:  # script soup
        parts = []
        for _ in range(rng.randint(1, 5)):
            lo, hi = SCRIPTS[pick(list(SCRIPTS))]
            parts.append(rchars(lo, hi, rng.randint(1, 12)))
            if rng.random() < 0.5: parts.append(word())
        return pick([" ", "", "\u3000", ", "]).join(parts)
    if kind == 2:  # natural-ish multilingual
        return pick([THAI, HINDI, ARABIC, HEBREW, "日本語のテキスト、漢字とかなカナ。", "中文句子，没有空格。", "한국어 문장입니다.",
                     "Ελληνικά: ΣΊΣΥΦΟΣ σίσυφος ς", "Кириллица и ЁЖ ёж", "İstanbul'da ıIiİ", "Straße STRASSE ß ẞ"]) + " " + sentence(rng.randint(0, 4))
    if kind == 3:  # emoji
        return " ".join(pick(EMOJI) + ("" if rng.random() < 0.5 else pick(EMOJI)) + (word() if rng.random() < 0.3 else "") for _ in range(rng.randint(1, 8)))
    if kind == 4:  # zero-width, controls, odd spaces inside text
        out = []
        for w in sentence().split(" "):
            out.append(w)
            r = rng.random()
            out.append(pick(SPACES) if r < 0.4 else pick(ZERO) if r < 0.7 else pick(CONTROLS) if r < 0.85 else " ")
        return "".join(out)
    if kind == 5:  # special tokens in text
        toks = []
        for _ in range(rng.randint(2, 8)):
            r = rng.random()
            toks.append(pick(SPECIALS) if r < 0.4 else word())
        sep = pick([" ", "", "  ", "\u00a0"])
        return sep.join(toks)
    if kind == 6:  # very long words and repeated chars
        r = rng.random()
        if r < 0.3: return "".join(pick("abcdefghij") for _ in range(rng.randint(90, 130)))
        if r < 0.5: return pick(["a", "ab", "é", "日", "😀", "!", "-", "ß", "ﬁ"]) * rng.randint(50, 260)
        if r < 0.7: return "supercalifragilisticexpialidocious" * rng.randint(2, 5)
        return "x" * 99 + " " + "y" * 100 + " " + "z" * 101 + " " + "ü" * 100
    if kind == 7:  # empty and blank lines
        return pick(["", " ", "  ", "\t", "\u00a0", "\u3000", "\u200b", "\r", " \t \u2003 ", "\ufeff", "\x00"])
    if kind == 8:  # random code points from the whole range (unassigned, private use, newer Unicode)
        cps = []
        for _ in range(rng.randint(1, 20)):
            while True:
                c = rng.choice([rng.randint(0x20, 0x2FFF), rng.randint(0x3000, 0xFFFD), rng.randint(0x10000, 0x1FFFF),
                                rng.randint(0x20000, 0x3134F), rng.randint(0xE0000, 0xE01EF), rng.randint(0xF0000, 0x10FFFF)])
                if not (0xD800 <= c <= 0xDFFF) and c != 0x0A: break
            cps.append(chr(c))
        return "".join(cps)
    if kind == 9:  # punctuation, numbers, code, urls
        return pick(["https://example.com/a?b=c&d=e#f", "x = y**2 + f(a[i], {k: v}) // comment", "3.14159 1,000,000 -42 +7e-3 ½ ¾ ²³",
                     "“Smart quotes” ‘single’ «guillemets» „low“ — – … •", "$100 €50 £30 ¥2000 ₹500 ₿", "email@example.org #hashtag @mention",
                     "C++ C# F# .NET node.js", "((([[[{{{<<<>>>}}}]]])))", "!!!???...,,,;;;:::", "don't won't can't it's I'm they're"]) + " " + sentence(rng.randint(0, 3))
    raise ValueError(kind)

def main():
    lines = []
    for i in range(2200):
        lines.append(gen_line(i % 10 if rng.random() < 0.7 else rng.randrange(10)))
    # Deterministic single-character sweeps of tricky ranges.
    for lo, hi in [(0x00C0, 0x024F), (0x0370, 0x03FF), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0xFF00, 0xFFEF), (0x1F1E6, 0x1F1FF), (0x1D400, 0x1D4FF)]:
        for start in range(lo, hi + 1, 48):
            lines.append(" ".join(chr(c) for c in range(start, min(start + 48, hi + 1)) if not 0xD800 <= c <= 0xDFFF))
    with open(SST2, encoding="utf-8") as f:
        sst = [l.rstrip("\n").split("\t")[0] for l in f][1:]
    sample = rng.sample(sst, 500)
    lines += sample
    rng.shuffle(lines)
    out = os.path.join(ROOT, "Tests", "Fixtures", "tokenizers", "hostile.txt")
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} lines to {out}")

if __name__ == "__main__":
    main()
