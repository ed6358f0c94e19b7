// The GGUF v3 parser. Every read is preceded by a check that the bytes remain,
// every count and length is capped, and every size derived from the file goes
// through checked arithmetic: the GGUF CVEs (2024-21802, 2024-23605,
// 2025-53630, ...) were all unchecked lengths, counts or offsets.
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "base/error.h"
#include "formats/format_util_internal.h"
#include "formats/gguf_internal.h"
#include "formats/tensor_type.h"

namespace qat {

static_assert(std::endian::native == std::endian::little, "GGUF is read in place: little endian only");

namespace {

using fmt_detail::printable;

// Limits far above any real model, low enough that a hostile header cannot
// make us allocate or loop without bound before the file runs out.
constexpr uint64_t kMaxTensors = uint64_t(1) << 20;
constexpr uint64_t kMaxKeys = uint64_t(1) << 20;
constexpr uint64_t kMaxKeyBytes = uint64_t(1) << 16;
constexpr uint64_t kMaxNameBytes = uint64_t(1) << 16;
constexpr uint64_t kMaxStringBytes = uint64_t(64) << 20;
constexpr uint64_t kMaxArrayElements = uint64_t(1) << 28;
constexpr uint64_t kMaxAlignment = uint64_t(1) << 20;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
constexpr uint64_t kMaxInt64 = uint64_t(std::numeric_limits<int64_t>::max());

// Keys whose type llama.cpp relies on; a file with another type there is
// corrupt, and saying so at open beats a confusing error later.
struct KnownKey {
  const char* key;
  GgufType type;
  GgufType elem_type;  // arrays only
};
constexpr KnownKey kKnownKeys[] = {
    {"general.alignment", GgufType::UINT32, GgufType::UINT32},
    {"general.architecture", GgufType::STRING, GgufType::STRING},
    {"tokenizer.ggml.model", GgufType::STRING, GgufType::STRING},
    {"tokenizer.ggml.tokens", GgufType::ARRAY, GgufType::STRING},
    {"tokenizer.ggml.scores", GgufType::ARRAY, GgufType::FLOAT32},
    {"tokenizer.ggml.token_type", GgufType::ARRAY, GgufType::INT32},
    {"tokenizer.ggml.merges", GgufType::ARRAY, GgufType::STRING},
};

// A cursor over the untrusted image. `ctx_` names what is being read
// ("key 'general.name'", "tensor 'output.weight'") for error messages.
class Cursor {
 public:
  Cursor(const std::string& name, const uint8_t* data, uint64_t size)
      : name_(name), data_(data), size_(size) {}

  template <typename... Args>
  [[noreturn]] void error(Args&&... args) const {
    if (ctx_.empty()) fail(name_, ": ", std::forward<Args>(args)...);
    fail(name_, ": ", ctx_, ": ", std::forward<Args>(args)...);
  }

  void need(uint64_t n, const char* what) const {
    if (n > size_ - pos_)
      error(what, ": file truncated: needs ", n, " bytes at offset ", pos_, " but only ",
            size_ - pos_, " remain (file is ", size_, " bytes)");
  }

  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  // A u64 length and that many bytes; `what` names the string ("key", "name").
  std::string read_string(uint64_t max_bytes, const char* what) {
    if (8 > size_ - pos_)
      error(what, " length: file truncated: needs 8 bytes at offset ", pos_, " but only ",
            size_ - pos_, " remain (file is ", size_, " bytes)");
    uint64_t n;
    std::memcpy(&n, data_ + pos_, 8);
    if (n > max_bytes) error(what, " length ", n, " exceeds the limit of ", max_bytes, " bytes");
    pos_ += 8;
    need(n, what);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), size_t(n));
    pos_ += n;
    return s;
  }

  const uint8_t* here() const { return data_ + pos_; }
  void skip(uint64_t n) { pos_ += n; }  // after need()
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }
  void set_context(std::string c) { ctx_ = std::move(c); }

 private:
  const std::string& name_;
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string ctx_;
};

void check_bools(Cursor& c, const uint8_t* p, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i)
    if (p[i] > 1) c.error("bool value ", int(p[i]), " is neither 0 nor 1");
}

GgufValue read_array(Cursor& c) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  const uint32_t elem = c.read<uint32_t>("array element type");
  if (elem == uint32_t(GgufType::ARRAY))
    c.error("nested arrays (array of array) are not supported");
  if (!gguf_known_type(elem))
    c.error("unknown array element type ", elem, " (expected 0..12)");
  v.elem_type = GgufType(elem);
  const uint64_t n = c.read<uint64_t>("array length");
  if (n > kMaxArrayElements)
    c.error("array length ", n, " exceeds the limit of ", kMaxArrayElements);

  if (v.elem_type == GgufType::STRING) {
    // Every string takes at least its 8-byte length: check that before reserving.
    if (n > c.remaining() / 8)
      c.error("array of ", n, " strings: file truncated: needs at least ", n * 8,
              " bytes at offset ", c.pos(), " but only ", c.remaining(), " remain");
    v.strs.reserve(size_t(n));
    for (uint64_t i = 0; i < n; ++i) v.strs.push_back(c.read_string(kMaxStringBytes, "string"));
    return v;
  }
  const uint64_t es = gguf_scalar_size(v.elem_type);
  if (n > c.remaining() / es)
    c.error("array of ", n, " ", gguf_type_name(v.elem_type), ": file truncated: needs ", n * es,
            " bytes at offset ", c.pos(), " but only ", c.remaining(), " remain");
  const uint64_t bytes = n * es;
  if (v.elem_type == GgufType::BOOL) check_bools(c, c.here(), bytes);
  v.raw.assign(c.here(), c.here() + bytes);
  c.skip(bytes);
  return v;
}

GgufValue read_value(Cursor& c, GgufType type) {
  GgufValue v;
  v.type = type;
  switch (type) {
    case GgufType::UINT8: v.num.u = c.read<uint8_t>("value"); break;
    case GgufType::INT8: v.num.i = c.read<int8_t>("value"); break;
    case GgufType::UINT16: v.num.u = c.read<uint16_t>("value"); break;
    case GgufType::INT16: v.num.i = c.read<int16_t>("value"); break;
    case GgufType::UINT32: v.num.u = c.read<uint32_t>("value"); break;
    case GgufType::INT32: v.num.i = c.read<int32_t>("value"); break;
    case GgufType::UINT64: v.num.u = c.read<uint64_t>("value"); break;
    case GgufType::INT64: v.num.i = c.read<int64_t>("value"); break;
    case GgufType::FLOAT32: v.num.f = c.read<float>("value"); break;
    case GgufType::FLOAT64: v.num.f = c.read<double>("value"); break;
    case GgufType::BOOL: {
      const uint8_t b = c.read<uint8_t>("value");
      check_bools(c, &b, 1);
      v.num.u = b;
      break;
    }
    case GgufType::STRING: v.str = c.read_string(kMaxStringBytes, "string"); break;
    case GgufType::ARRAY: return read_array(c);
  }
  return v;
}

void check_known_keys(Cursor& c, const GgufFile& f) {
  for (const KnownKey& k : kKnownKeys) {
    const GgufValue* v = f.find(k.key);
    if (!v) continue;
    const bool ok = v->type == k.type && (k.type != GgufType::ARRAY || v->elem_type == k.elem_type);
    if (!ok) {
      GgufValue want;
      want.type = k.type;
      want.elem_type = k.elem_type;
      c.error("key '", k.key, "': expected ", gguf_describe(want), ", found ", gguf_describe(*v));
    }
  }
  // The tokenizer arrays are parallel: one score and one type per token.
  if (const GgufValue* tokens = f.find("tokenizer.ggml.tokens")) {
    for (const char* key : {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
      const GgufValue* v = f.find(key);
      if (v && v->array_size() != tokens->array_size())
        c.error("key '", key, "': ", v->array_size(), " elements, expected ",
                tokens->array_size(), " (one per entry of tokenizer.ggml.tokens)");
    }
  }
}

uint64_t read_alignment(Cursor& c, const GgufFile& f) {
  const GgufValue* v = f.find("general.alignment");
  if (!v) return 32;  // GGUF_DEFAULT_ALIGNMENT
  const uint64_t a = v->num.u;  // type checked by check_known_keys
  if (a == 0 || (a & (a - 1)) != 0 || a > kMaxAlignment)
    c.error("key 'general.alignment': ", a, " is not a power of two between 1 and ",
            kMaxAlignment);
  return a;
}

}  // namespace

void GgufParser::parse(GgufFile& out, const std::string& name, const uint8_t* data,
                       uint64_t size) {
  Cursor c(name, data, size);
  out.path_ = name;
  out.file_size_ = size;

  if (size < 4) c.error("too small to be a GGUF file (", size, " bytes)");
  if (std::memcmp(data, "GGUF", 4) != 0)
    c.error("not a GGUF file: magic is '", printable(std::string_view((const char*)data, 4)),
            "', expected 'GGUF'");
  c.skip(4);
  const uint32_t version = c.read<uint32_t>("version");
  if (version == 1 || version == 2)
    c.error("GGUF version ", version,
            " is not supported (only version 3); re-convert the model with a current "
            "llama.cpp / gguf-py");
  if (version == 0x03000000) c.error("big-endian GGUF files are not supported");
  if (version != 3) c.error("unsupported GGUF version ", version, " (expected 3)");
  out.version_ = version;

  const uint64_t n_tensors = c.read<uint64_t>("tensor count");
  if (n_tensors > kMaxTensors)
    c.error("tensor count ", n_tensors, " exceeds the limit of ", kMaxTensors);
  const uint64_t n_kv = c.read<uint64_t>("metadata key count");
  if (n_kv > kMaxKeys) c.error("metadata key count ", n_kv, " exceeds the limit of ", kMaxKeys);

  // ---- metadata ----
  for (uint64_t i = 0; i < n_kv; ++i) {
    c.set_context(cat("key #", i));
    std::string key = c.read_string(kMaxKeyBytes, "key");
    if (key.empty()) c.error("empty key");
    if (!fmt_detail::valid_utf8(key)) c.error("key '", printable(key), "' is not valid UTF-8");
    c.set_context(cat("key '", printable(key), "'"));
    if (out.kv_index_.count(key)) c.error("duplicate key");
    const uint32_t type = c.read<uint32_t>("value type");
    if (!gguf_known_type(type)) c.error("unknown value type ", type, " (expected 0..12)");
    GgufValue value = read_value(c, GgufType(type));
    out.kv_index_.emplace(key, out.kv_.size());
    out.kv_.emplace_back(std::move(key), std::move(value));
  }
  c.set_context("");
  check_known_keys(c, out);
  out.alignment_ = read_alignment(c, out);

  // ---- tensor infos ----
  for (uint64_t i = 0; i < n_tensors; ++i) {
    c.set_context(cat("tensor #", i));
    GgufTensorInfo t;
    t.name = c.read_string(kMaxNameBytes, "name");
    if (t.name.empty()) c.error("empty tensor name");
    if (!fmt_detail::valid_utf8(t.name))
      c.error("tensor name '", printable(t.name), "' is not valid UTF-8");
    c.set_context(cat("tensor '", printable(t.name), "'"));
    if (out.tensor_index_.count(t.name)) c.error("duplicate tensor name");

    const uint32_t n_dims = c.read<uint32_t>("dimension count");
    if (n_dims < 1 || n_dims > kMaxDims)
      c.error("dimension count ", n_dims, " is not between 1 and ", kMaxDims);
    t.n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim = c.read<uint64_t>("dimension");
      if (dim == 0 || dim > kMaxInt64)
        c.error("dimension ", d, " is ", dim, " (expected 1 .. 2^63-1)");
      if (__builtin_mul_overflow(t.n_elements, dim, &t.n_elements) || t.n_elements > kMaxInt64)
        c.error("element count overflows: dimension ", d, " (", dim, ") makes the product exceed 2^63-1");
      t.dims.push_back(dim);
    }
    t.type = c.read<uint32_t>("type");
    const TensorTypeInfo* info = tensor_type_info(t.type);
    if (!info) c.error("unknown tensor type id ", t.type);
    if (t.dims[0] % info->block_size != 0)
      c.error("first dimension ", t.dims[0], " is not a multiple of ", info->name,
              "'s block size ", info->block_size);
    // Up to 8 bytes per element (F64) times up to 2^63 elements: this can overflow.
    if (__builtin_mul_overflow(t.n_elements / info->block_size, uint64_t(info->block_bytes),
                               &t.n_bytes))
      c.error("byte size overflows (", t.n_elements, " elements of ", info->name, ")");
    t.offset = c.read<uint64_t>("data offset");
    if (t.offset % out.alignment_ != 0)
      c.error("data offset ", t.offset, " is not a multiple of the alignment ", out.alignment_);
    out.tensor_index_.emplace(t.name, out.tensors_.size());
    out.tensors_.push_back(std::move(t));
  }
  c.set_context("");

  // ---- tensor data: in the file, and no two tensors share a byte ----
  const uint64_t data_start = fmt_detail::align_up(c.pos(), out.alignment_);
  for (GgufTensorInfo& t : out.tensors_) {
    c.set_context(cat("tensor '", printable(t.name), "'"));
    uint64_t begin, end;
    if (__builtin_add_overflow(data_start, t.offset, &begin) || begin >= size)
      c.error("data offset ", t.offset, " (file offset ", data_start, " + ", t.offset,
              ") is past the end of the file (", size, " bytes)");
    if (__builtin_add_overflow(begin, t.n_bytes, &end))
      c.error("data at ", begin, " of ", t.n_bytes, " bytes runs past the end of the file (",
              size, " bytes)");
    if (end > size)
      c.error("data [", begin, ", ", end, ") runs past the end of the file (", size, " bytes)");
    t.data = data + begin;
  }
  c.set_context("");
  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(out.tensors_.size());
  for (const GgufTensorInfo& t : out.tensors_) by_offset.push_back(&t);
  std::stable_sort(by_offset.begin(), by_offset.end(),  // ties keep file order
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensorInfo& a = *by_offset[i - 1];
    const GgufTensorInfo& b = *by_offset[i];
    if (a.offset + a.n_bytes > b.offset)  // no overflow: both are within the file
      c.error("tensor '", printable(b.name), "': data at offset ", b.offset,
              " overlaps tensor '", printable(a.name), "' [", a.offset, ", ",
              a.offset + a.n_bytes, ") (offsets relative to the data section)");
  }
}

}  // namespace qat
