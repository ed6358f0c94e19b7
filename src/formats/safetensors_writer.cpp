// safetensors writer, byte-compatible with the Python `safetensors` package
// when given the same tensors in the same order: compact JSON with
// "__metadata__" first, strings escaped as serde_json does, the header padded
// with spaces to a multiple of 8 bytes, then the tensors back to back.
#include <algorithm>
#include <set>

#include "base/atomic_file.h"
#include "base/checked_math.h"
#include "base/error.h"
#include "formats/format_util_internal.h"
#include "formats/safetensors.h"

namespace qat {

namespace {

using fmt_detail::printable;

constexpr uint64_t kChunkBytes = uint64_t(512) << 10;  // below AtomicFile's 1 MiB copy threshold

// JSON string literal exactly as serde_json writes it: short escapes for
// \b \t \n \f \r, \u00XX (lower-case hex) for other control bytes, UTF-8 as is.
void json_string(std::string& out, const std::string& s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<StWriteTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      QAT_CHECK(fmt_detail::valid_utf8(k) && fmt_detail::valid_utf8(v), path, ": metadata '",
                printable(k), "' is not valid UTF-8");
      if (!first) header += ',';
      first = false;
      json_string(header, k);
      header += ':';
      json_string(header, v);
    }
    header += "}";
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  std::vector<uint64_t> sizes;
  for (const StWriteTensor& t : tensors) {
    const std::string where = cat(path, ": tensor '", printable(t.name), "'");
    QAT_CHECK(!t.name.empty(), path, ": empty tensor name");
    QAT_CHECK(t.name != "__metadata__", where, ": reserved name");
    QAT_CHECK(fmt_detail::valid_utf8(t.name), where, ": name is not valid UTF-8");
    QAT_CHECK(names.insert(t.name).second, where, ": given twice");
    uint64_t n = 1;
    for (uint64_t d : t.shape) n = checked_mul(n, d, "safetensors tensor size");
    const uint64_t bytes = checked_mul(n, st_dtype_size(t.dtype), "safetensors tensor size");
    QAT_CHECK(bytes == 0 || t.data, where, ": null data");
    QAT_CHECK(st_dtype_size(t.dtype) > 0, where, ": invalid dtype");
    sizes.push_back(bytes);

    if (header.size() > 1) header += ',';
    json_string(header, t.name);
    header += cat(R"(:{"dtype":")", st_dtype_name(t.dtype), R"(","shape":[)");
    for (size_t i = 0; i < t.shape.size(); ++i) header += cat(i ? "," : "", t.shape[i]);
    const uint64_t end = checked_add(offset, bytes, "safetensors data size");
    header += cat(R"(],"data_offsets":[)", offset, ",", end, "]}");
    offset = end;
  }
  header += '}';
  header.append((8 - header.size() % 8) % 8, ' ');

  AtomicFile f(path);
  const uint64_t n = header.size();
  f.write(&n, 8);  // little-endian host
  f.write(header.data(), header.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto* p = static_cast<const uint8_t*>(tensors[i].data);
    for (uint64_t at = 0; at < sizes[i]; at += kChunkBytes)
      f.write(p + at, std::min(kChunkBytes, sizes[i] - at));
  }
  f.commit();
}

}  // namespace qat
