#!/usr/bin/env python3
"""Golden fixtures for the C++ tokenizer (tests/tokenizer), from the HF oracles.

Run from the repository root with the oracle venv:
    .venv-ref/bin/python tools/reference/make_tokenizer_fixtures.py

Writes tests/fixtures/tokenizer/:
  gemma3_encode.jsonl   one object a line: text, ids (no <bos>), ids_bos
                        (add_special_tokens=True), decode / decode_skip (HF
                        decode of ids_bos with and without skip_special_tokens)
  gemma3_decode.jsonl   id sequences that encode() never makes (bare byte
                        tokens, invalid UTF-8, specials mid-text) with HF decode
  chat_template.json    transformers' apply_chat_template (jinja) renderings,
                        and conversations it rejects
  spm_test.model        a small SentencePiece BPE model (byte fallback,
                        user-defined <start_of_turn>/<end_of_turn>) trained here
  spm_encode.jsonl      python sentencepiece ids for the same strings
  spm_llamacpp.gguf,    llama.cpp's convert_hf_to_gguf.py --vocab-only output for
  spm_llamacpp_gemma4.gguf  spm_test.model as Gemma 3 ("llama" model) and as
                        Gemma 4 ("gemma4" model), when a llama.cpp checkout is
                        given with --llama-cpp (the converter is run, not copied)

Oracles: tokenizers.Tokenizer.from_file (the HF `tokenizers` package) for ids
and decode; transformers for the chat template; sentencepiece for spm ids.
The shared data folder (../shared/data) must be present.

    .venv-ref/bin/python tools/reference/make_tokenizer_fixtures.py --check-hf DIR...
checks instead that HF tokenizers and transformers load each DIR (written by
the C++ write_hf; test_tokenizer writes some when QAT_TOKENIZER_EXPORT_DIR is
set) and give the fixtures' ids and decodings.
"""
import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "..", "shared", "data")
GEMMA3 = os.path.join(DATA, "tokenizers", "gemma3")
OUT = os.path.join(ROOT, "tests", "fixtures", "tokenizer")


def hand_strings():
    s = [
        "", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n ", "a", "A", "Hello", "Hello world",
        "Hello, world!", " leading space", "trailing space ", "  two leading", "two trailing  ",
        "multiple   spaces   between", "tab\tseparated\tvalues", "line1\nline2\nline3",
        "windows\r\nline\r\nendings", "para one\n\npara two\n\n\npara three",
        "The quick brown fox jumps over the lazy dog.",
        "It's a beautiful day; isn't it? Yes—absolutely…",
        "I've been 'told' he's there, 'RE you sure? We'Ve a'lL",
        "UPPERCASE lowercase MiXeD CaSe",
        # numbers and finance
        "0", "1", "12", "123", "1234", "12345", "123456789", "3.14159", "-42", "+1", "1e-9", "6.022e23",
        "$1,234.56", "$0.99", "USD 1,000,000.00", "€1.234,56", "€ 99", "¥10,000", "£5.50", "₹2,50,000",
        "CHF 1'234.50", "₿0.0042", "-$12.30 (refund)", "APR 19.99%", "interest: 4.5% p.a.",
        "IBAN DE89 3704 0044 0532 0130 00", "GB29NWBK60161331926819", "FR14 2004 1010 0505 0001 3M02 606",
        "Card 4111 1111 1111 1111 exp 12/29 CVV 123", "5500-0000-0000-0004", "378282246310005",
        "SWIFT/BIC: DEUTDEFF500", "Routing 021000021 Acct 000123456789",
        "2024-03-15", "15/03/2024", "03/15/24", "March 15, 2024 at 14:30:00 UTC", "2024-03-15T14:30:00.123Z",
        "Q3 FY2025 revenue up 12.5% YoY", "TXN#A1B2C3D4E5 amount=-250.00 merchant=\"ACME Corp\"",
        # scripts
        "日本語のテキストです。", "中文文本，包括标点符号。", "我想在apple工作1314151天～", "한국어 텍스트입니다.",
        "Русский текст с пунктуацией.", "нещо на Български", "Ελληνικά γράμματα", "עברית מימין לשמאל",
        "النص العربي من اليمين إلى اليسار", "مبلغ ١٢٣٤٫٥٦ ريال", "हिन्दी पाठ यहाँ है।", "বাংলা লেখা",
        "தமிழ் உரை", "ภาษาไทยไม่มีช่องว่าง", "កាន់តែពិសេសអាច", "ქართული", "Հայերեն", "አማርኛ",
        "Tiếng Việt có dấu", "Čeština, Polski: żółć, Türkçe: ığüşöç", "Ünïcödé àccénts",
        "mixed English 和中文 и русский और हिन्दी", "résumé naïve café coöperate",
        # emoji
        "🚀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸🇬🇧🇯🇵", "❤️", "😶‍🌫️", "🦙🦙", "✅ done", "1️⃣ 2️⃣",
        "emoji in text 🎉 party 🎂 cake", "🧑🏿‍💻 coding",
        # combining, invisible and unusual characters
        "e\u0301", "n\u0303", "\ufeffBOM at start", "zero\u200bwidth", "soft\u00adhyphen", "non\u00a0breaking",
        "ﬁ ligature", "ｆｕｌｌｗｉｄｔｈ", "①②③", "Ⅻ", "½ ¾ ⅞", "∑∫√∞≠≤≥", "™ © ®", "§¶†‡",
        "\u202eRLO override", "\U0001F600\U0001F601", "\U00010348 gothic", "\U0001D54F math",
        # control characters
        "\x00", "a\x00b", "\x01\x02\x03", "bell\x07", "esc\x1b[31mred\x1b[0m", "\x7f", "\x0b\x0c",
        "\u0085next line", "\u2028line sep", "\u2029para sep",
        # special tokens inline and look-alikes
        "<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>",
        "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
        "<bos><bos>", "text<eos>more", "<start_of_turn><end_of_turn>", "<start_of_turnuser>",
        "< bos >", "<BOS>", "<bos", "bos>", "<<bos>>", "<start_of_image>", "<end_of_image>",
        "<image_soft_token>", "<unused0>", "<unused99>", "<unused6241>", "<unused6242>", "[multimodal]",
        "<s>", "</s>", "<s>strike</s>", "<0x41>", "<0xZZ>", "▁", "▁▁", "a▁b", "▁▁▁leading", "x▁▁y",
        # markup and code
        "<table><tr><td>1</td></tr></table>", "<div class=\"x\">hi</div>", "<b>bold</b> <i>it</i>",
        "<h1>Title</h1>\n<p>para</p>", "<notatag>", "</unclosed", "<<>>", "<a href='x'>link</a>",
        "<html><body><img src=x></body></html>", "> </", ">▁</", "a > </b>",
        "def f(x):\n    return x * 2\n", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
        "if __name__ == \"__main__\":\n\tmain()", "SELECT * FROM accounts WHERE balance > 1000;",
        "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}", "#include <stdio.h>", "x<<=2; y>>=3; z->w",
        "    indented four", "\t\tindented tabs", "// comment\n/* block */", "`code` ```fenced```",
        "https://example.com/path?q=1&r=2#frag", "user@example.com", "C:\\Windows\\System32",
        "/usr/local/bin/python3", "0xDEADBEEF", "0b1010", "#ff00ff", "@mention #hashtag",
        # punctuation and repetition
        "!!!", "???", "...", "------======", "''''''```````\"\"\"\"......!!!!!!??????",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ababababababababababababab",
        "Supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
        "Donaudampfschifffahrtsgesellschaftskapitän", "antidisestablishmentarianism" * 3,
        "3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3",
        "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n",
    ]
    # whitespace runs, including runs longer than the 31-long added tokens
    for n in (1, 2, 3, 5, 8, 16, 30, 31, 32, 33, 40, 62, 63, 70):
        s.append(" " * n)
        s.append("x" + " " * n + "y")
        s.append("\n" * n)
        s.append("a" + "\n" * n + "b")
        s.append("\t" * n + "c")
    for n in (2, 31, 32, 45):
        s.append("▁" * n)
        s.append(" \n" * n)
        s.append(" \t" * (n // 2) + "end")
    return s


def generated_strings(rng):
    s = []
    cur = ["$", "€", "£", "¥", "₹", "USD ", "EUR ", "JPY "]
    for _ in range(40):
        amt = rng.randint(0, 10**rng.randint(1, 9))
        cents = rng.randint(0, 99)
        c = rng.choice(cur)
        s.append(f"{c}{amt:,}.{cents:02d}")
        s.append(f"Paid {c}{amt}.{cents:02d} on {rng.randint(2000, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
    for _ in range(20):
        cc = rng.choice(["DE", "GB", "FR", "NL", "ES", "IT", "CH"])
        digits = "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(14, 28)))
        s.append(f"{cc}{rng.randint(10, 99)}{digits}")
        s.append(" ".join("".join(rng.choice("0123456789") for _ in range(4)) for _ in range(4)))
    alphabet = ("abc xyz ABC 0123456789 .,;:!?-_()[]{}<>/\\'\"@#$%^&*+=~`|\t\n éüßçñ 日本語 中文 "
                "한국 русский العربية हिन्दी 🙂🚀👍🏽 ▁")
    for _ in range(60):
        n = rng.randint(1, 60)
        s.append("".join(rng.choice(alphabet) for _ in range(n)))
    return s


def corpus_strings(rng):
    s = []
    with open(os.path.join(DATA, "text", "sotu.txt"), encoding="utf-8") as f:
        text = f.read()
    for _ in range(60):
        i = rng.randrange(0, len(text) - 400)
        s.append(text[i:i + rng.randint(20, 300)])
    with gzip.open(os.path.join(DATA, "messages", "spamassassin.jsonl.gz"), "rt", encoding="utf-8") as f:
        mails = [json.loads(line)["text"] for line in f]
    for _ in range(40):
        m = rng.choice(mails)
        i = rng.randrange(0, max(1, len(m) - 300))
        s.append(m[i:i + rng.randint(30, 300)])
    return s


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def make_gemma3(strings, rng):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(GEMMA3, "tokenizer.json"))
    rows = []
    for t in strings:
        ids = tok.encode(t, add_special_tokens=False).ids
        ids_bos = tok.encode(t, add_special_tokens=True).ids
        rows.append({
            "text": t, "ids": ids, "ids_bos": ids_bos,
            "decode": tok.decode(ids_bos, skip_special_tokens=False),
            "decode_skip": tok.decode(ids_bos, skip_special_tokens=True),
        })
    write_jsonl(os.path.join(OUT, "gemma3_encode.jsonl"), rows)

    # Decode-only cases: what a model may generate, not what encode() makes.
    vocab = tok.get_vocab()
    byte = lambda b: vocab[f"<0x{b:02X}>"]
    cases = [
        [byte(0x41), byte(0x42)],                          # plain ASCII bytes
        [byte(0xE2), byte(0x82), byte(0xAC)],              # "€" as bytes
        [byte(0xE2), byte(0x82)],                          # truncated sequence
        [byte(0xFF)], [byte(0x80), byte(0x41)],            # invalid bytes
        [byte(0xF0), byte(0x9F), byte(0x98), byte(0x80), vocab["▁world"]],
        [vocab["▁world"], byte(0xE2), vocab["▁world"], byte(0x82), byte(0xAC)],
        [2, 2, 105, vocab["user"], 106, 1, 0, 3],
        [4, 5, 6, 262144, 255999, 256000],
        [vocab["▁"], vocab["▁▁"], vocab["\n"], vocab["\t"]],
        [999999, -1] if False else [vocab["hello"], 262145, vocab["▁world"]],  # out-of-range id dropped
    ]
    for _ in range(30):
        cases.append([rng.randrange(0, 262144) for _ in range(rng.randint(1, 12))])
    rows = [{"ids": c, "decode": tok.decode(c, skip_special_tokens=False),
             "decode_skip": tok.decode(c, skip_special_tokens=True)} for c in cases]
    write_jsonl(os.path.join(OUT, "gemma3_decode.jsonl"), rows)


def make_chat(rng):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(GEMMA3)
    U, A = "user", "assistant"
    m = lambda role, content: {"role": role, "content": content}
    convs = [
        [m(U, "Hello!")],
        [m("system", "You are a fraud analyst."), m(U, "Score this.")],
        [m(U, "  padded  \n"), m(A, "\n reply \t"), m(U, "next")],
        [m("system", "  sys  "), m(U, "u1"), m(A, "a1"), m(U, "u2"), m(A, "a2")],
        [m(U, "日本語 🚀 $1,234.56"), m("model", "ok")],
        [m(U, "")],
        [m("system", ""), m(U, "x")],
        [m("system", "only a system message")],
        [m(U, "a"), m(A, "b")],
        [m(U, "\u00a0\u3000unicode spaces\u2003\u00a0"), m(A, "\u200bzero width is not space\u200b")],
        [m(U, "<start_of_turn>inline markers<end_of_turn>")],
        [m(U, "a"), m("system", "late system is a turn like any other")],
        # rejected: empty, not starting with user, two users in a row
        [],
        [m(A, "starts with model")],
        [m(U, "a"), m(U, "b")],
        [m("system", "s"), m(A, "a")],
        [m(U, "a"), m(A, "b"), m(A, "c")],
    ]
    out = []
    for msgs in convs:
        for gen in (True, False):
            try:
                r = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen)
                out.append({"messages": msgs, "add_generation_prompt": gen, "rendered": r})
            except Exception as e:  # jinja raise_exception / empty conversation
                out.append({"messages": msgs, "add_generation_prompt": gen, "error": str(e)[:200]})
    with open(os.path.join(OUT, "chat_template.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)


def train_spm(workdir):
    """A small Gemma-like SentencePiece BPE model (identity normalization, no
    dummy prefix, byte fallback, Gemma's special ids)."""
    with open(os.path.join(DATA, "text", "sotu.txt"), encoding="utf-8") as f:
        text = f.read()[:400000]
    extra = "日本語のテキスト 中文文本 한국어 Русский текст 🚀👍 €£¥ $1,234.56\n" * 20
    corpus = os.path.join(workdir, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write(text + "\n" + extra)
    prefix = os.path.join(workdir, "spm_test")
    args = [f"--input={corpus}", f"--model_prefix={prefix}", "--model_type=bpe", "--vocab_size=1200",
            "--byte_fallback=true", "--user_defined_symbols=<start_of_turn>,<end_of_turn>",
            "--normalization_rule_name=identity", "--add_dummy_prefix=false",
            "--remove_extra_whitespaces=false", "--split_digits=true", "--character_coverage=0.9995",
            "--pad_id=0", "--eos_id=1", "--bos_id=2", "--unk_id=3", "--pad_piece=<pad>",
            "--eos_piece=<eos>", "--bos_piece=<bos>", "--unk_piece=<unk>", "--num_threads=1",
            "--allow_whitespace_only_pieces=true", "--max_sentence_length=100000"]
    if shutil.which("spm_train"):  # Debian's trainer: the same library version the C++ side links
        subprocess.run(["spm_train"] + args, check=True, capture_output=True)
    else:
        import sentencepiece as spm
        spm.SentencePieceTrainer.train(" ".join(args))
    return prefix + ".model"


def make_spm(strings, llama_cpp):
    import sentencepiece as spm
    work = tempfile.mkdtemp()
    model = train_spm(work)
    shutil.copy(model, os.path.join(OUT, "spm_test.model"))
    sp = spm.SentencePieceProcessor(model_file=model)
    # HF semantics: control pieces (and <unk>) written in the text are matched whole and
    # become their ids; the text between them goes through sentencepiece.
    controls = sorted((sp.id_to_piece(i) for i in range(sp.get_piece_size())
                       if sp.is_control(i) or sp.is_unknown(i)),
                      key=len, reverse=True)

    def encode(t):
        ids, i, start = [], 0, 0
        while i < len(t):
            m = next((c for c in controls if t.startswith(c, i)), None)
            if m:
                if start < i:
                    ids += sp.encode(t[start:i])
                ids.append(sp.piece_to_id(m))
                i += len(m)
                start = i
            else:
                i += 1
        if start < len(t):
            ids += sp.encode(t[start:])
        return ids

    rows = [{"text": t, "ids": encode(t)} for t in strings]
    write_jsonl(os.path.join(OUT, "spm_encode.jsonl"), rows)
    if llama_cpp:
        make_llamacpp_ggufs(model, llama_cpp, work)


def make_llamacpp_ggufs(model, llama_cpp, work):
    """Runs llama.cpp's own converter (--vocab-only) on a fake Gemma 3 / Gemma 4
    checkpoint directory holding the test tokenizer, so the C++ tests read
    exactly what llama.cpp writes."""
    from transformers import AutoTokenizer  # converting tokenizer.model needs `protobuf` too
    cfg3 = {"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "vocab_size": 1200,
            "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 1,
            "num_key_value_heads": 1, "head_dim": 64, "max_position_embeddings": 512, "sliding_window": 64,
            "rms_norm_eps": 1e-6, "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0}
    tok_cfg = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<bos>", "eos_token": "<eos>",
               "pad_token": "<pad>", "unk_token": "<unk>", "tokenizer_class": "GemmaTokenizer"}
    d3 = os.path.join(work, "gemma3")
    os.makedirs(d3)
    shutil.copy(model, os.path.join(d3, "tokenizer.model"))
    json.dump(cfg3, open(os.path.join(d3, "config.json"), "w"))
    json.dump(tok_cfg, open(os.path.join(d3, "tokenizer_config.json"), "w"))
    env = dict(os.environ, PYTHONPATH=os.path.join(llama_cpp, "gguf-py"))
    conv = os.path.join(llama_cpp, "convert_hf_to_gguf.py")
    out3 = os.path.join(OUT, "spm_llamacpp.gguf")
    subprocess.run([sys.executable, conv, d3, "--vocab-only", "--outfile", out3], check=True, env=env)

    # Gemma 4: the converter reads tokenizer.json (HF fast tokenizer) instead;
    # transformers' GemmaConverter makes it from tokenizer.model.
    d4 = os.path.join(work, "gemma4")
    os.makedirs(d4)
    fast = AutoTokenizer.from_pretrained(d3)
    fast.save_pretrained(d4)
    # an unknown model_type makes the converter read config.json as is
    cfg4 = {"architectures": ["Gemma4ForCausalLM"], "model_type": "fixture_gemma4", **{
        k: v for k, v in cfg3.items() if k not in ("architectures", "model_type")},
            "num_kv_shared_layers": 0, "hidden_size_per_layer_input": 0, "layer_types": ["full_attention"],
            "global_head_dim": 64, "moe_intermediate_size": None,
            "rope_parameters": {"full_attention": {"rope_type": "proportional", "partial_rotary_factor": 0.25,
                                                   "rope_theta": 1e6}}}
    json.dump(cfg4, open(os.path.join(d4, "config.json"), "w"))
    out4 = os.path.join(OUT, "spm_llamacpp_gemma4.gguf")
    subprocess.run([sys.executable, conv, d4, "--vocab-only", "--outfile", out4], check=True, env=env)
    shutil.copy(os.path.join(d4, "tokenizer.json"), os.path.join(OUT, "spm_test_tokenizer.json"))


def check_hf(dirs):
    """HF loads our exported directories and agrees with the fixtures."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer
    ok = True
    for d in dirs:
        fixtures = "spm_encode.jsonl" if os.path.basename(d.rstrip("/")).startswith("spm") else "gemma3_encode.jsonl"
        rows = [json.loads(line) for line in open(os.path.join(OUT, fixtures), encoding="utf-8")]
        tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        auto = AutoTokenizer.from_pretrained(d)
        bad = 0
        for r in rows:
            bad += tok.encode(r["text"], add_special_tokens=False).ids != r["ids"]
            if "ids_bos" in r:
                bad += auto(r["text"])["input_ids"] != r["ids_bos"]
                bad += tok.decode(r["ids_bos"], skip_special_tokens=False) != r["decode"]
                bad += tok.decode(r["ids_bos"], skip_special_tokens=True) != r["decode_skip"]
        print(f"{d}: {len(rows)} strings, {bad} mismatches ({type(auto).__name__})")
        ok = ok and bad == 0
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", help="a llama.cpp checkout (work tree) to run convert_hf_to_gguf.py from")
    ap.add_argument("--check-hf", nargs="+", metavar="DIR", help="check C++-exported HF tokenizer directories")
    args = ap.parse_args()
    if args.check_hf:
        sys.exit(0 if check_hf(args.check_hf) else 1)
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(20260417)
    strings = hand_strings() + generated_strings(rng) + corpus_strings(rng)
    seen, uniq = set(), []
    for t in strings:
        if t not in seen:
            seen.add(t)
            uniq.append(t)
    print(f"{len(uniq)} strings")
    make_gemma3(uniq, rng)
    make_chat(rng)
    make_spm(uniq, args.llama_cpp)


if __name__ == "__main__":
    main()
