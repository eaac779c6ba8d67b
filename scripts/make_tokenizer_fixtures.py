#!/usr/bin/env python3
"""Trains the small test tokenizers and writes HF `tokenizers` expected outputs for Cloze's parity tests.

Run from the package root (needs /work/venv: tokenizers, transformers, sentencepiece, protobuf):
    /work/venv/bin/python scripts/make_hostile_text.py
    /work/venv/bin/python scripts/make_tokenizer_fixtures.py
Outputs in Tests/Fixtures/tokenizers/:
  <name>/tokenizer.json                    (trained tokenizers; bert-uncased is read from ../shared/models)
  <name>.ids.txt       one line per hostile.txt line: space-separated ids of encode(line) (special tokens added)
  <name>.offsets.txt   one line per line: per token "len", or "gap:len" when it does not start where the previous
                       token ended (offsets are Unicode scalar (code point) offsets into the line)
  <name>.decoded.txt   one line per line: decode(ids, skip_special_tokens=True)
  <name>.pairs.txt     pair encodings with truncation: "strategy max_len<TAB>ids<TAB>type_ids" or "ERROR"
Lines of hostile.txt are separated by '\n' only.
"""
import os, json, random, sys, shutil, tempfile
from tokenizers import Tokenizer, AddedToken, processors, pre_tokenizers, decoders, normalizers, models, trainers
import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests", "Fixtures", "tokenizers")
SHARED_BERT = os.path.join(ROOT, "..", "shared", "models", "minilm-l6-mlm", "tokenizer.json")
SST2 = os.path.join(ROOT, "..", "shared", "datasets", "sst2_glue", "train.tsv")

def read_lines():
    with open(os.path.join(FIX, "hostile.txt"), encoding="utf-8", newline="") as f:
        text = f.read()
    assert text.endswith("\n")
    return text[:-1].split("\n")

def training_text(lines):
    with open(SST2, encoding="utf-8") as f:
        sst = [l.rstrip("\n").split("\t")[0] for l in f][1:30001]
    return sst + lines[::2]

def train_cased_wordpiece(corpus):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tr = trainers.WordPieceTrainer(vocab_size=4000, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], limit_alphabet=1500)
    tok.train_from_iterator(corpus, tr)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.BertProcessing(("[SEP]", sep), ("[CLS]", cls))
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    return tok

def train_bytelevel_bpe(corpus):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=3000, min_frequency=2, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, tr)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False, special=True)])
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")),
                                                      trim_offsets=True, add_prefix_space=False)
    return tok

def train_unigram(corpus, workdir):
    inp = os.path.join(workdir, "corpus.txt")
    with open(inp, "w", encoding="utf-8") as f:
        for l in corpus:
            l = l.replace("\r", " ").replace("\u2028", " ").replace("\u2029", " ").replace("\x85", " ")
            if l.strip(): f.write(l + "\n")
    prefix = os.path.join(workdir, "spiece")
    spm.SentencePieceTrainer.train(input=inp, model_prefix=prefix, vocab_size=3000, model_type="unigram",
                                   character_coverage=0.9995, pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
                                   control_symbols=["[CLS]", "[SEP]", "[MASK]"], num_threads=1)
    import importlib
    conv = importlib.import_module("transformers.convert_slow_tokenizer")
    proto_tok = spm.SentencePieceProcessor(model_file=prefix + ".model")
    class Orig:  # what AlbertConverter reads from an AlbertTokenizer
        vocab_file = prefix + ".model"
        keep_accents = False
        do_lower_case = True
        def convert_tokens_to_ids(self, t): return proto_tok.piece_to_id(t)
    tok = conv.AlbertConverter(Orig()).converted()
    tok.add_special_tokens([AddedToken("<pad>", special=True), AddedToken("<unk>", special=True), AddedToken("[CLS]", special=True),
                            AddedToken("[SEP]", special=True),
                            AddedToken("[MASK]", lstrip=True, rstrip=False, normalized=False, special=True)])
    return tok, prefix + ".model"

def compact_offsets(offsets):
    """Per token "len" if it starts where the previous token ended, else "gap:len" (gap may be negative)."""
    out, prev_end = [], 0
    for s, e in offsets:
        out.append(str(e - s) if s == prev_end else f"{s - prev_end}:{e - s}")
        prev_end = e
    return " ".join(out)

def mixed_wordpiece():
    """Cased WordPiece vocab behind other components: NFC, Replace, Strip, Whitespace, Template post-processor."""
    tok = Tokenizer.from_file(os.path.join(FIX, "bert-cased", "tokenizer.json"))
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace("''", '"'), normalizers.Strip(),
                                           normalizers.Prepend("\u2581"), normalizers.Replace("\u2581", "")])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=True)])
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    # Added tokens: single_word, normalized (matched after NFC), lstrip/rstrip on raw text.
    tok.add_tokens([AddedToken("great", single_word=True, normalized=True), AddedToken("é", normalized=True),
                    AddedToken("[MASK", lstrip=True, rstrip=True, normalized=False), AddedToken("Zürich", normalized=False)])
    return tok

def mixed_bpe():
    """Byte-level BPE vocab behind NFKC, Lowercase, Punctuation/WhitespaceSplit/Split, ByteLevel(use_regex=False)."""
    tok = Tokenizer.from_file(os.path.join(FIX, "bpe", "tokenizer.json"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(" ", behavior="merged_with_next"), pre_tokenizers.Punctuation(behavior="isolated"),
        pre_tokenizers.Digits(individual_digits=False), pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False)])
    tok.post_processor = processors.Sequence([processors.ByteLevel(trim_offsets=True),
        processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
                                      special_tokens=[("<s>", 0), ("</s>", 2)])])
    return tok

def mixed_nfd_metaspace():
    """Unigram vocab behind NFD + StripAccents + Metaspace(first) and a Strip/Replace decoder chain."""
    tok = Tokenizer.from_file(os.path.join(FIX, "unigram", "tokenizer.json"))
    tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.NFKD(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(prepend_scheme="first")])
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.Strip(" ", 1, 0)])
    return tok

def train_byte_fallback_bpe(corpus):
    """Llama-style BPE: Metaspace, a small alphabet, <0xHH> byte tokens, byte_fallback, ByteFallback/Fuse decoders."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first")
    tr = trainers.BpeTrainer(vocab_size=1500, min_frequency=2, limit_alphabet=120,
                             special_tokens=["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)])
    tok.train_from_iterator(corpus, tr)
    data = json.loads(tok.to_str())
    data["model"]["byte_fallback"] = True
    data["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
        {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    tok = Tokenizer.from_str(json.dumps(data))
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", tok.token_to_id("<s>"))])
    return tok

def dump(name, tok, lines):
    ids_f = open(os.path.join(FIX, name + ".ids.txt"), "w", encoding="utf-8", newline="")
    off_f = open(os.path.join(FIX, name + ".offsets.txt"), "w", encoding="utf-8", newline="")
    dec_f = open(os.path.join(FIX, name + ".decoded.txt"), "w", encoding="utf-8", newline="")
    for line in lines:
        e = tok.encode(line)
        ids_f.write(" ".join(map(str, e.ids)) + "\n")
        off_f.write(compact_offsets(e.offsets) + "\n")
        d = tok.decode(e.ids, skip_special_tokens=True)
        assert "\n" not in d
        dec_f.write(d + "\n")
    for f in (ids_f, off_f, dec_f): f.close()
    # Pairs with truncation.
    rng = random.Random(5)
    with open(os.path.join(FIX, name + ".pairs.txt"), "w", encoding="utf-8", newline="") as f:
        for k in range(300):
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            strategy = ["longest_first", "only_first", "only_second"][k % 3]
            max_len = rng.choice([8, 12, 16, 24, 40])
            tok.enable_truncation(max_len, strategy=strategy)
            try:
                e = tok.encode(lines[i], lines[j])
                res = " ".join(map(str, e.ids)) + "\t" + " ".join(map(str, e.type_ids)) + "\t" + " ".join(map(str, e.attention_mask))
            except Exception:
                res = "ERROR"
            tok.no_truncation()
            f.write(f"{i} {j} {strategy} {max_len}\t{res}\n")

def main():
    lines = read_lines()
    corpus = training_text(lines)
    only = set(sys.argv[1:])
    def want(n): return not only or n in only
    if want("bert-uncased"):
        dump("bert-uncased", Tokenizer.from_file(SHARED_BERT), lines)
    if want("bert-cased"):
        tok = train_cased_wordpiece(corpus)
        os.makedirs(os.path.join(FIX, "bert-cased"), exist_ok=True)
        tok.save(os.path.join(FIX, "bert-cased", "tokenizer.json"))
        tok.model.save(os.path.join(FIX, "bert-cased"))  # vocab.txt
        dump("bert-cased", tok, lines)
    if want("bpe"):
        tok = train_bytelevel_bpe(corpus)
        os.makedirs(os.path.join(FIX, "bpe"), exist_ok=True)
        tok.save(os.path.join(FIX, "bpe", "tokenizer.json"))
        tok.model.save(os.path.join(FIX, "bpe"))  # vocab.json + merges.txt
        dump("bpe", tok, lines)
    if want("unigram"):
        with tempfile.TemporaryDirectory() as wd:
            tok, model_path = train_unigram(corpus, wd)
            os.makedirs(os.path.join(FIX, "unigram"), exist_ok=True)
            shutil.copy(model_path, os.path.join(FIX, "unigram", "spiece.model"))
        tok.save(os.path.join(FIX, "unigram", "tokenizer.json"))
        dump("unigram", tok, lines)

    if want("bpe-bytefallback"):
        tok = train_byte_fallback_bpe(corpus)
        os.makedirs(os.path.join(FIX, "bpe-bytefallback"), exist_ok=True)
        tok.save(os.path.join(FIX, "bpe-bytefallback", "tokenizer.json"))
        dump("bpe-bytefallback", tok, lines[::4])
    # Component mixes over the trained vocabularies, on every 4th line. To keep fixtures small, only the part of
    # tokenizer.json before "model" is stored (<name>.head.json); the test appends the base tokenizer's model.
    for name, base, make in (("mix-wp", "bert-cased", mixed_wordpiece), ("mix-bpe", "bpe", mixed_bpe),
                             ("mix-unigram", "unigram", mixed_nfd_metaspace)):
        if want(name):
            tok = make()
            text = tok.to_str(pretty=True)
            cut = text.index('\n  "model":')
            base_text = open(os.path.join(FIX, base, "tokenizer.json"), encoding="utf-8").read()
            assert Tokenizer.from_str(text[:cut] + base_text[base_text.index('\n  "model":'):]).to_str() == tok.to_str()
            with open(os.path.join(FIX, name + ".head.json"), "w", encoding="utf-8") as f:
                f.write(text[:cut])
            dump(name, tok, lines[::4])

if __name__ == "__main__":
    main()
