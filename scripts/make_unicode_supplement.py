#!/usr/bin/env python3
"""Generates Sources/ClozeTokenizers/UnicodeSupplement.swift: the code points where HF `tokenizers`
(Rust std, the unicode_categories crate, Oniguruma) classify characters differently from the
utf8proc library Cloze uses. Truth comes from HF itself, character by character; utf8proc is read
through ctypes. Run from the package root: /work/venv/bin/python scripts/make_unicode_supplement.py
"""
import ctypes, ctypes.util, os
from tokenizers import normalizers, pre_tokenizers, Regex

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
lib = ctypes.CDLL(ctypes.util.find_library("utf8proc") or "libutf8proc.so.2")
lib.utf8proc_category.restype = ctypes.c_int; lib.utf8proc_category.argtypes = [ctypes.c_int32]
lib.utf8proc_tolower.restype = ctypes.c_int32; lib.utf8proc_tolower.argtypes = [ctypes.c_int32]
lib.utf8proc_version.restype = ctypes.c_char_p
Cn, Lu, Lo, Mn, Nd, No, Pc, Po, Cc, Cf, Cs, Co = 0, 1, 5, 6, 9, 11, 12, 18, 26, 27, 28, 29

clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
strip = normalizers.StripAccents()
bert_strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
nfd, nfkd = normalizers.NFD(), normalizers.NFKD()
lib.utf8proc_NFD.restype = ctypes.c_void_p; lib.utf8proc_NFD.argtypes = [ctypes.c_char_p]
lib.utf8proc_NFKD.restype = ctypes.c_void_p; lib.utf8proc_NFKD.argtypes = [ctypes.c_char_p]
libc = ctypes.CDLL(None)
def u8(f, ch):
    p = f(ch.encode("utf-8"))
    r = ctypes.string_at(p).decode("utf-8"); libc.free(ctypes.c_void_p(p)); return r
Mc, Me = 7, 8
lower = normalizers.Lowercase()
bert_pre = pre_tokenizers.BertPreTokenizer()
letter = pre_tokenizers.Split(Regex(r"\p{L}"), "removed")
number = pre_tokenizers.Split(Regex(r"\p{N}"), "removed")
space = pre_tokenizers.Split(Regex(r"\s"), "removed")
ws_pre = pre_tokenizers.Whitespace()
digits = pre_tokenizers.Digits(individual_digits=True)
Lm, Nl, Mc_, Me_ = 4, 10, 7, 8
WS = {9, 10, 11, 12, 13, 32, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000} | set(range(0x2000, 0x200B))

tables = {k: [] for k in ["otherTrue", "otherFalse", "punctTrue", "punctFalse", "mnTrue", "mnFalse",
                          "letterTrue", "letterFalse", "numberTrue", "numberFalse", "spaceTrue", "spaceFalse", "combTrue", "combFalse", "keepNFD", "keepNFKD", "wordTrue", "wordFalse", "numericTrue", "numericFalse"]}
lower_map = []
problems = []
for c in range(0x80, 0x110000):
    if 0xD800 <= c <= 0xDFFF: continue
    ch = chr(c)
    cat = lib.utf8proc_category(c)
    # clean_text: removed iff other (Cc/Cf/Cn/Co) or U+FFFD; whitespace becomes ' '.
    r = clean.normalize_str(ch)
    truth_other = (r == "") and c != 0xFFFD
    pred_other = cat in (Cc, Cf, Cn, Co, Cs)
    if truth_other != pred_other: tables["otherTrue" if truth_other else "otherFalse"].append(c)
    if (r == " ") != (c in WS) and not truth_other: problems.append(f"whitespace {c:04X}")
    toks = [t for t, _ in bert_pre.pre_tokenize_str("a" + ch + "a")]
    truth_p = toks == ["a", ch, "a"]
    pred_p = Pc <= cat <= Po
    if c not in WS and truth_p != pred_p: tables["punctTrue" if truth_p else "punctFalse"].append(c)
    if c >= 0x300:
        truth_mn = bert_strip.normalize_str(ch) == ""
        if truth_mn != (cat == Mn): tables["mnTrue" if truth_mn else "mnFalse"].append(c)
        truth_comb = strip.normalize_str(ch) == ""
        if truth_comb != (cat in (Mn, Mc, Me)): tables["combTrue" if truth_comb else "combFalse"].append(c)
    for f, hf, name in ((lib.utf8proc_NFD, nfd, "keepNFD"), (lib.utf8proc_NFKD, nfkd, "keepNFKD")):
        h, u = hf.normalize_str(ch), u8(f, ch)
        if h != u:
            if h == ch: tables[name].append(c)
            else: problems.append(f"{name} {c:04X}")
    lw = lower.normalize_str(ch)
    pl = lib.utf8proc_tolower(c)
    if c != 0x130:
        if len(lw) != 1: problems.append(f"lowercase {c:04X} -> {len(lw)} chars")
        elif ord(lw) != pl: lower_map.append((c, ord(lw)))
    tl = letter.pre_tokenize_str(ch) == []
    if tl != (Lu <= cat <= Lo): tables["letterTrue" if tl else "letterFalse"].append(c)
    tn = number.pre_tokenize_str(ch) == []
    if tn != (Nd <= cat <= No): tables["numberTrue" if tn else "numberFalse"].append(c)
    # \w of the Whitespace pre-tokenizer (Rust regex: Alphabetic, marks, Nd, Pc, Join_Control).
    wt = [t for t, _ in ws_pre.pre_tokenize_str("a" + ch + "a")] == ["a" + ch + "a"]
    wp = (Lu <= cat <= Lo) or cat in (Mn, 7, 8, Nd, Nl, Pc) or c in (0x200C, 0x200D)
    if c not in WS and wt != wp: tables["wordTrue" if wt else "wordFalse"].append(c)
    # char::is_numeric (Digits pre-tokenizer).
    dt = [t for t, _ in digits.pre_tokenize_str("a" + ch + "a")] == ["a", ch, "a"]
    if dt != (Nd <= cat <= No): tables["numericTrue" if dt else "numericFalse"].append(c)
    ts = space.pre_tokenize_str(ch) == []
    if ts != (c in WS): tables["spaceTrue" if ts else "spaceFalse"].append(c)

def ranges(cps):
    out = []
    for c in cps:
        if out and out[-1][1] == c - 1: out[-1][1] = c
        else: out.append([c, c])
    return out

def fmt(name, cps):
    rs = ranges(cps)
    body = ", ".join(f"0x{a:X}, 0x{b:X}" for a, b in rs)
    return f"    static let {name}: [UInt32] = [{body}]\n"

src = open(os.path.join(ROOT, "Sources", "ClozeTokenizers", "UnicodeSupplement.swift")).read()
head = src[:src.index("    static let otherTrue")]
tail = "".join(fmt(k, v) for k, v in tables.items())
tail += "    static let lowerFrom: [UInt32] = [" + ", ".join(f"0x{a:X}" for a, _ in lower_map) + "]\n"
tail += "    static let lowerTo: [UInt32] = [" + ", ".join(f"0x{b:X}" for _, b in lower_map) + "]\n}\n"
open(os.path.join(ROOT, "Sources", "ClozeTokenizers", "UnicodeSupplement.swift"), "w").write(head + tail)
print("utf8proc", lib.utf8proc_version().decode())
for k, v in tables.items(): print(k, len(v), "code points in", len(ranges(v)), "ranges")
print("lowercase overrides", len(lower_map))
print("problems", problems[:20], len(problems))
