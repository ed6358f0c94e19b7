// GGUF v3 writer. The layout matches gguf-py's GGUFWriter byte for byte for
// the same content: header, KV pairs in insertion order, tensor infos with
// offsets of the padded data, zero padding to the alignment, then each
// tensor's bytes followed by zeros up to the next multiple of the alignment.
#include <algorithm>
#include <cstring>

#include "base/atomic_file.h"
#include "base/checked_math.h"
#include "base/error.h"
#include "base/progress.h"
#include "formats/format_util_internal.h"
#include "formats/gguf_internal.h"
#include "formats/tensor_type.h"

namespace qat {

namespace {

using fmt_detail::printable;

// llama.cpp rejects tensor names of GGML_MAX_NAME (64) bytes or more.
constexpr size_t kMaxTensorName = 63;
constexpr uint64_t kMaxAlignment = uint64_t(1) << 20;
// Files smaller than this are written before a progress bar would show.
constexpr uint64_t kProgressMinBytes = uint64_t(64) << 20;
// AtomicFile copies writes of 1 MiB or more into one buffer; stay below that.
constexpr uint64_t kChunkBytes = uint64_t(512) << 10;

template <typename T>
void put(AtomicFile& f, T v) {
  f.write(&v, sizeof v);  // little-endian host (checked in gguf_parse.cpp)
}

void put_string(AtomicFile& f, const std::string& s) {
  put<uint64_t>(f, s.size());
  f.write(s.data(), s.size());
}

void check_value(const std::string& path, const std::string& key, const GgufValue& v) {
  if (!gguf_known_type(uint32_t(v.type)))
    fail(path, ": key '", printable(key), "': unknown value type ", uint32_t(v.type));
  if (v.type != GgufType::ARRAY) return;
  if (v.elem_type == GgufType::ARRAY)
    fail(path, ": key '", printable(key), "': nested arrays are not supported by GGUF readers");
  if (!gguf_known_type(uint32_t(v.elem_type)))
    fail(path, ": key '", printable(key), "': unknown array element type ", uint32_t(v.elem_type));
  const size_t es = gguf_scalar_size(v.elem_type);
  if (es && v.raw.size() % es != 0)
    fail(path, ": key '", printable(key), "': ", v.raw.size(),
         " bytes of array data is not a whole number of ", gguf_type_name(v.elem_type));
}

void put_value(AtomicFile& f, const GgufValue& v) {
  put<uint32_t>(f, uint32_t(v.type));
  switch (v.type) {
    case GgufType::UINT8: put<uint8_t>(f, uint8_t(v.num.u)); break;
    case GgufType::INT8: put<int8_t>(f, int8_t(v.num.i)); break;
    case GgufType::UINT16: put<uint16_t>(f, uint16_t(v.num.u)); break;
    case GgufType::INT16: put<int16_t>(f, int16_t(v.num.i)); break;
    case GgufType::UINT32: put<uint32_t>(f, uint32_t(v.num.u)); break;
    case GgufType::INT32: put<int32_t>(f, int32_t(v.num.i)); break;
    case GgufType::UINT64: put<uint64_t>(f, v.num.u); break;
    case GgufType::INT64: put<int64_t>(f, v.num.i); break;
    case GgufType::FLOAT32: put<float>(f, float(v.num.f)); break;
    case GgufType::FLOAT64: put<double>(f, v.num.f); break;
    case GgufType::BOOL: put<uint8_t>(f, v.num.u ? 1 : 0); break;
    case GgufType::STRING: put_string(f, v.str); break;
    case GgufType::ARRAY:
      put<uint32_t>(f, uint32_t(v.elem_type));
      put<uint64_t>(f, v.array_size());
      if (v.elem_type == GgufType::STRING) {
        for (const std::string& s : v.strs) put_string(f, s);
      } else {
        f.write(v.raw.data(), v.raw.size());
      }
      break;
  }
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& kv : kv_) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type,
                            uint64_t n_bytes, TensorProducer produce) {
  QAT_CHECK(produce, "GGUF writer: tensor '", printable(name), "': no producer");
  static const uint8_t placeholder = 0;  // passes the null-data check; never read
  add_tensor(name, std::move(dims), type, &placeholder, n_bytes);
  tensors_.back().produce = std::move(produce);
}

void GgufWriter::add_tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type,
                            const void* data, uint64_t n_bytes) {
  const std::string where = cat("GGUF writer: tensor '", printable(name), "'");
  QAT_CHECK(!name.empty(), "GGUF writer: empty tensor name");
  QAT_CHECK(name.size() <= kMaxTensorName, where, ": name is ", name.size(),
            " bytes; llama.cpp accepts at most ", kMaxTensorName);
  QAT_CHECK(fmt_detail::valid_utf8(name), where, ": name is not valid UTF-8");
  for (const PendingTensor& t : tensors_)
    QAT_CHECK(t.name != name, where, ": added twice");
  QAT_CHECK(!dims.empty() && dims.size() <= 4, where, ": ", dims.size(),
            " dimensions (expected 1 to 4)");
  const TensorTypeInfo* info = tensor_type_info(type);
  QAT_CHECK(info, where, ": unknown tensor type id ", type);
  uint64_t n = 1;
  for (uint64_t d : dims) {
    QAT_CHECK(d >= 1, where, ": dimension of size 0");
    n = checked_mul(n, d, "tensor element count");
  }
  QAT_CHECK(dims[0] % info->block_size == 0, where, ": first dimension ", dims[0],
            " is not a multiple of ", info->name, "'s block size ", info->block_size);
  const uint64_t expect = tensor_bytes(type, n);
  QAT_CHECK(n_bytes == expect, where, ": ", n_bytes, " bytes given, ", info->name, " [",
            n, " elements] needs ", expect);
  QAT_CHECK(data || n_bytes == 0, where, ": null data");
  tensors_.push_back({name, std::move(dims), type, data, n_bytes, nullptr});
}

void GgufWriter::write(const std::string& path, bool show_progress,
                       const std::string& progress_label) const {
  // The alignment is `alignment`, or general.alignment when set explicitly
  // (as gguf-py's add_custom_alignment does); both must agree.
  uint64_t align = alignment;
  bool has_key = false;
  for (const auto& [key, v] : kv_) {
    check_value(path, key, v);
    QAT_CHECK(!key.empty() && fmt_detail::valid_utf8(key), path, ": key '", printable(key),
              "' is empty or not valid UTF-8");
    if (key != "general.alignment") continue;
    has_key = true;
    QAT_CHECK(v.type == GgufType::UINT32, path, ": key 'general.alignment': expected uint32, found ",
              gguf_describe(v));
    QAT_CHECK(alignment == 32 || alignment == v.num.u, path, ": GgufWriter::alignment ",
              alignment, " disagrees with general.alignment ", v.num.u);
    align = v.num.u;
  }
  QAT_CHECK(align >= 1 && align <= kMaxAlignment && (align & (align - 1)) == 0, path,
            ": alignment ", align, " is not a power of two between 1 and ", kMaxAlignment);
  const bool add_key = !has_key && align != 32;

  uint64_t total = 0;
  for (const PendingTensor& t : tensors_)
    total = checked_add(total, fmt_detail::align_up(t.n_bytes, align), "GGUF data size");

  AtomicFile f(path);
  f.write("GGUF", 4);
  put<uint32_t>(f, 3);
  put<uint64_t>(f, tensors_.size());
  put<uint64_t>(f, kv_.size() + (add_key ? 1 : 0));
  for (const auto& [key, v] : kv_) {
    put_string(f, key);
    put_value(f, v);
  }
  if (add_key) {
    put_string(f, "general.alignment");
    put_value(f, GgufValue::u32(uint32_t(align)));
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    put_string(f, t.name);
    put<uint32_t>(f, uint32_t(t.dims.size()));
    for (uint64_t d : t.dims) put<uint64_t>(f, d);
    put<uint32_t>(f, t.type);
    put<uint64_t>(f, offset);
    offset += fmt_detail::align_up(t.n_bytes, align);
  }
  f.write_zeros(fmt_detail::align_up(f.position(), align) - f.position());

  const bool progress = show_progress && total >= kProgressMinBytes;
  Progress bar(progress_label, total >> 20, "MiB");
  uint64_t done = 0;
  auto sink = [&](const void* data, uint64_t n_bytes) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (uint64_t at = 0; at < n_bytes; at += kChunkBytes) {
      const uint64_t n = std::min(kChunkBytes, n_bytes - at);
      f.write(p + at, n);
      done += n;
      if (progress) bar.set(done >> 20);
    }
  };
  for (const PendingTensor& t : tensors_) {
    if (t.produce) {
      const uint64_t start = f.position();
      t.produce(sink);
      QAT_CHECK(f.position() - start == t.n_bytes, path, ": tensor '", printable(t.name), "': producer gave ",
                f.position() - start, " bytes, expected ", t.n_bytes);
    } else {
      sink(t.data, t.n_bytes);
    }
    f.write_zeros(fmt_detail::align_up(t.n_bytes, align) - t.n_bytes);
  }
  f.commit();
  if (progress) bar.finish();
}

}  // namespace qat
