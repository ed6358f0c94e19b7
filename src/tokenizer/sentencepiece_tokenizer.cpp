// tokenizer.model (SentencePiece) through libsentencepiece.
//
// libsentencepiece encodes the text between added tokens; the vocabulary
// (pieces, scores, types) is read from the model proto so decode, GGUF and
// tokenizer.json export share the BPE path. The public SentencePiece API has
// no IsUserDefined(), and Debian ships no sentencepiece_model.pb.h, so the
// few proto fields needed are read from the serialized model directly
// (protobuf wire format: ModelProto.pieces = 1 {piece = 1, score = 2,
// type = 3}, trainer_spec = 2 {model_type = 3}, normalizer_spec = 3
// {name = 1, add_dummy_prefix = 3, remove_extra_whitespaces = 4}).
#include <sentencepiece_processor.h>

#include <cstring>
#include <filesystem>

#include "base/error.h"
#include "tokenizer/gemma_tokenizer.h"

namespace qat {

using tok::Kind;
using tok::VocabData;

namespace {

// Minimal protobuf wire reader over a byte range; every read is bounds checked.
class Wire {
 public:
  Wire(std::string_view s, const std::string& path) : s_(s), path_(path) {}
  bool done() const { return pos_ >= s_.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      QAT_CHECK(pos_ < s_.size(), path_, ": truncated SentencePiece model (varint)");
      const uint8_t b = uint8_t(s_[pos_++]);
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    fail(path_, ": malformed SentencePiece model (varint too long)");
  }
  std::string_view bytes() {
    const uint64_t n = varint();
    QAT_CHECK(n <= s_.size() - pos_, path_, ": truncated SentencePiece model (field of ", n, " bytes)");
    const std::string_view r = s_.substr(pos_, size_t(n));
    pos_ += size_t(n);
    return r;
  }
  uint32_t fixed32() {
    QAT_CHECK(s_.size() - pos_ >= 4, path_, ": truncated SentencePiece model (fixed32)");
    uint32_t v;
    std::memcpy(&v, s_.data() + pos_, 4);
    pos_ += 4;
    return v;
  }
  void skip(uint32_t wire_type) {
    switch (wire_type) {
      case 0: varint(); break;
      case 1:
        QAT_CHECK(s_.size() - pos_ >= 8, path_, ": truncated SentencePiece model (fixed64)");
        pos_ += 8;
        break;
      case 2: bytes(); break;
      case 5: fixed32(); break;
      default: fail(path_, ": malformed SentencePiece model (wire type ", wire_type, ")");
    }
  }

 private:
  std::string_view s_;
  const std::string& path_;
  size_t pos_ = 0;
};

struct ProtoInfo {
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<Kind> kinds;
  int model_type = 1;  // UNIGRAM unless the trainer spec says otherwise
  std::string normalizer = "nmt_nfkc";
  bool add_dummy_prefix = true, remove_extra_whitespaces = true;
};

ProtoInfo read_proto(std::string_view s, const std::string& path) {
  ProtoInfo info;
  Wire w(s, path);
  while (!w.done()) {
    const uint64_t tag = w.varint();
    const uint32_t field = uint32_t(tag >> 3), wt = uint32_t(tag & 7);
    if (field == 1 && wt == 2) {  // SentencePiece
      Wire p(w.bytes(), path);
      std::string piece;
      float score = 0;
      uint64_t type = 1;
      while (!p.done()) {
        const uint64_t t = p.varint();
        const uint32_t f = uint32_t(t >> 3), pt = uint32_t(t & 7);
        if (f == 1 && pt == 2) piece = std::string(p.bytes());
        else if (f == 2 && pt == 5) {
          const uint32_t bits = p.fixed32();
          std::memcpy(&score, &bits, 4);
        } else if (f == 3 && pt == 0) type = p.varint();
        else p.skip(pt);
      }
      QAT_CHECK(type >= 1 && type <= 6, path, ": piece ", info.pieces.size(), " has type ", type,
                ", expected 1..6");
      info.pieces.push_back(std::move(piece));
      info.scores.push_back(score);
      info.kinds.push_back(Kind(type));
    } else if (field == 2 && wt == 2) {  // TrainerSpec
      Wire t(w.bytes(), path);
      while (!t.done()) {
        const uint64_t tg = t.varint();
        if ((tg >> 3) == 3 && (tg & 7) == 0) info.model_type = int(t.varint());
        else t.skip(uint32_t(tg & 7));
      }
    } else if (field == 3 && wt == 2) {  // NormalizerSpec
      Wire n(w.bytes(), path);
      while (!n.done()) {
        const uint64_t tg = n.varint();
        const uint32_t f = uint32_t(tg >> 3), nt = uint32_t(tg & 7);
        if (f == 1 && nt == 2) info.normalizer = std::string(n.bytes());
        else if (f == 3 && nt == 0) info.add_dummy_prefix = n.varint() != 0;
        else if (f == 4 && nt == 0) info.remove_extra_whitespaces = n.varint() != 0;
        else n.skip(nt);
      }
    } else {
      w.skip(wt);
    }
  }
  return info;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_sentencepiece(const std::string& path) {
  QAT_CHECK(std::filesystem::is_regular_file(path), path, ": no such file");
  auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = sp->Load(path);
  QAT_CHECK(status.ok(), path, ": not a SentencePiece model: ", status.ToString());
  ProtoInfo info = read_proto(sp->serialized_model_proto(), path);
  QAT_CHECK(int(info.pieces.size()) == sp->GetPieceSize(), path, ": read ", info.pieces.size(),
            " pieces from the proto, sentencepiece reports ", sp->GetPieceSize());

  VocabData d;
  d.source = path;
  d.pieces = std::move(info.pieces);
  d.scores = std::move(info.scores);
  d.kinds = std::move(info.kinds);
  const size_t n = d.pieces.size();
  d.special.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const Kind k = d.kinds[i];
    // As transformers' GemmaConverter: control pieces and <unk> are special,
    // and so are Gemma's turn markers even when trained as user-defined.
    const bool turn = d.pieces[i] == "<start_of_turn>" || d.pieces[i] == "<end_of_turn>";
    if (k == Kind::Control || k == Kind::Unknown || k == Kind::UserDefined) {
      d.added.push_back({d.pieces[i], int32_t(i), false});
      d.special[i] = k != Kind::UserDefined || turn;
    }
  }
  d.ids.bos = sp->bos_id();
  d.ids.eos = sp->eos_id();
  d.ids.pad = sp->pad_id();
  d.ids.unk = sp->unk_id();
  auto id_of = [&](const std::string& s) -> int32_t {
    for (size_t i = 0; i < n; ++i)
      if (d.pieces[i] == s) return int32_t(i);
    return -1;
  };
  tok::apply_tokenizer_config(d, std::filesystem::path(path).parent_path().string(), id_of);
  tok::guess_special_ids(d);
  if (info.model_type != 2)
    d.export_blocker = "only SentencePiece BPE models can be written as tokenizer.json or GGUF (this one has "
                       "model_type " + std::to_string(info.model_type) + ")";
  else if (info.add_dummy_prefix || info.remove_extra_whitespaces || info.normalizer != "identity")
    d.export_blocker = "the SentencePiece normalizer (\"" + info.normalizer +
                       "\", add_dummy_prefix / remove_extra_whitespaces) has no Gemma tokenizer.json equivalent";
  auto t = std::make_unique<tok::GemmaTokenizer>(std::move(d));
  t->use_sentencepiece(std::move(sp));
  return t;
}

}  // namespace qat
