// safetensors reader. The header is untrusted JSON: it is size-capped, must be
// UTF-8, may not repeat a key (nlohmann would silently keep the last one, so
// two readers could disagree on a tensor's bytes), and its data_offsets must
// tile the data section exactly. The writer is in safetensors_writer.cpp.
#include "formats/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "formats/format_util_internal.h"
#include "formats/safetensors_internal.h"

namespace qat {

namespace {

using fmt_detail::printable;
using json = nlohmann::json;

struct DtypeInfo {
  StDtype dtype;
  const char* name;
  size_t size;
};
constexpr DtypeInfo kDtypes[] = {
    {StDtype::F32, "F32", 4}, {StDtype::F16, "F16", 2}, {StDtype::BF16, "BF16", 2},
    {StDtype::F64, "F64", 8}, {StDtype::I64, "I64", 8}, {StDtype::I32, "I32", 4},
    {StDtype::I16, "I16", 2}, {StDtype::I8, "I8", 1},   {StDtype::U8, "U8", 1},
    {StDtype::BOOL, "BOOL", 1},
};

// The Python/Rust safetensors library refuses headers above 100 MB too.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// {"name": {"shape": [..]}} is three levels deep; nothing valid goes deeper.
constexpr int kMaxDepth = 3;

const char* json_kind(const json& j) {
  switch (j.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer: return "a negative integer";
    case json::value_t::number_unsigned: return "an unsigned integer";
    case json::value_t::number_float: return "a floating-point number";
    case json::value_t::null: return "null";
    default: return "something else";
  }
}

// Parses the header, rejecting duplicate keys in any object and nesting
// deeper than any valid header needs.
json parse_header(const std::string& name, const std::string& text) {
  std::vector<std::set<std::string>> keys;  // one set per open object
  auto cb = [&](int depth, json::parse_event_t ev, json& parsed) -> bool {
    switch (ev) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= kMaxDepth) fail(name, ": header JSON is nested deeper than ", kMaxDepth, " levels");
        if (ev == json::parse_event_t::object_start) keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        keys.pop_back();
        break;
      case json::parse_event_t::key: {
        const auto& k = parsed.get_ref<const std::string&>();
        if (!keys.back().insert(k).second)
          fail(name, ": duplicate key '", printable(k), "' in the header JSON");
        break;
      }
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text, cb);
  } catch (const json::exception& e) {
    fail(name, ": header is not valid JSON: ", printable(e.what(), 300));
  }
}

uint64_t get_uint(const std::string& where, const json& j, const char* field) {
  if (!j.is_number_unsigned())
    fail(where, ": ", field, " must contain unsigned integers, found ", json_kind(j));
  return j.get<uint64_t>();
}

std::string format_dims(const std::vector<uint64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += cat(i ? ", " : "", v[i]);
  return s + "]";
}

struct Range {
  uint64_t begin, end;
  size_t tensor;
};

}  // namespace

const char* st_dtype_name(StDtype d) {
  for (const auto& t : kDtypes)
    if (t.dtype == d) return t.name;
  return "?";
}

size_t st_dtype_size(StDtype d) {
  for (const auto& t : kDtypes)
    if (t.dtype == d) return t.size;
  return 0;
}

bool st_parse_dtype(const std::string& name, StDtype* out) {
  for (const auto& t : kDtypes) {
    if (name == t.name) {
      *out = t.dtype;
      return true;
    }
  }
  return false;
}

void StParser::parse(SafetensorsFile& out, const std::string& name, const uint8_t* data,
                     uint64_t size) {
  out.path_ = name;
  if (size < 8)
    fail(name, ": too small to be a safetensors file (", size,
         " bytes; it starts with an 8-byte header length)");
  uint64_t n;
  std::memcpy(&n, data, 8);  // little endian
  if (n > kMaxHeaderBytes)
    fail(name, ": header length ", n, " exceeds the limit of ", kMaxHeaderBytes, " bytes");
  if (n > size - 8)
    fail(name, ": header length ", n, " runs past the end of the file (", size, " bytes)");
  const std::string text(reinterpret_cast<const char*>(data + 8), size_t(n));
  if (size_t bad = fmt_detail::find_invalid_utf8(text); bad != std::string::npos)
    fail(name, ": header is not valid UTF-8 (byte ", bad, " of the header)");
  if (text.empty() || text[0] != '{')
    fail(name, ": header must be a JSON object starting with '{'");
  const json header = parse_header(name, text);
  if (!header.is_object()) fail(name, ": header must be a JSON object, found ", json_kind(header));

  const uint64_t data_start = 8 + n;
  const uint64_t data_size = size - data_start;
  std::vector<Range> ranges;
  for (const auto& [key, entry] : header.items()) {
    if (key == "__metadata__") {
      if (!entry.is_object())
        fail(name, ": __metadata__ must be an object of strings, found ", json_kind(entry));
      for (const auto& [mk, mv] : entry.items()) {
        if (!mv.is_string())
          fail(name, ": __metadata__ '", printable(mk), "' must be a string, found ", json_kind(mv));
        out.metadata_[mk] = mv.get<std::string>();
      }
      continue;
    }
    const std::string where = cat(name, ": tensor '", printable(key), "'");
    if (key.empty()) fail(name, ": empty tensor name in the header");
    if (!entry.is_object()) fail(where, ": expected an object, found ", json_kind(entry));
    for (const auto& [field, _] : entry.items())
      if (field != "dtype" && field != "shape" && field != "data_offsets")
        fail(where, ": unknown field '", printable(field), "'");
    if (!entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      fail(where, ": needs dtype, shape and data_offsets");

    StTensor t;
    t.name = key;
    const json& dtype = entry["dtype"];
    if (!dtype.is_string()) fail(where, ": dtype must be a string, found ", json_kind(dtype));
    if (!st_parse_dtype(dtype.get<std::string>(), &t.dtype))
      fail(where, ": unknown dtype '", printable(dtype.get<std::string>()),
           "' (expected F32, F16, BF16, F64, I64, I32, I16, I8, U8 or BOOL)");

    const json& shape = entry["shape"];
    if (!shape.is_array()) fail(where, ": shape must be an array, found ", json_kind(shape));
    t.n_elements = 1;
    for (const json& d : shape) {
      t.shape.push_back(get_uint(where, d, "shape"));
      if (__builtin_mul_overflow(t.n_elements, t.shape.back(), &t.n_elements))
        fail(where, ": shape ", format_dims(t.shape), "... overflows 64 bits");
    }
    if (__builtin_mul_overflow(t.n_elements, st_dtype_size(t.dtype), &t.n_bytes))
      fail(where, ": shape ", format_dims(t.shape), " of ", dtype.get<std::string>(),
           " overflows 64 bits");

    const json& offs = entry["data_offsets"];
    if (!offs.is_array() || offs.size() != 2)
      fail(where, ": data_offsets must be an array of two integers [begin, end]");
    const uint64_t begin = get_uint(where, offs[0], "data_offsets");
    const uint64_t end = get_uint(where, offs[1], "data_offsets");
    if (begin > end) fail(where, ": data_offsets [", begin, ", ", end, ") end before they begin");
    if (end > data_size)
      fail(where, ": data_offsets [", begin, ", ", end,
           ") run past the end of the data section (", data_size, " bytes)");
    if (end - begin != t.n_bytes)
      fail(where, ": shape ", format_dims(t.shape), " of ", dtype.get<std::string>(), " is ",
           t.n_bytes, " bytes but data_offsets [", begin, ", ", end, ") hold ", end - begin);
    t.data = data + data_start + begin;
    ranges.push_back({begin, end, out.tensors_.size()});
    out.tensors_.push_back(std::move(t));
  }

  // The ranges must tile [0, data_size): sorted by begin, each starts where
  // the previous one ended. (Empty tensors may sit anywhere in between.)
  std::stable_sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t at = 0;
  const Range* prev = nullptr;
  for (const Range& r : ranges) {
    const StTensor& t = out.tensors_[r.tensor];
    if (r.begin > at)
      fail(name, ": tensor '", printable(t.name), "': data_offsets [", r.begin, ", ", r.end,
           ") leave a hole of ", r.begin - at, " bytes at offset ", at, " of the data section");
    if (r.begin < at)
      fail(name, ": tensor '", printable(t.name), "': data_offsets [", r.begin, ", ", r.end,
           ") overlap tensor '", printable(out.tensors_[prev->tensor].name), "' [", prev->begin,
           ", ", prev->end, ")");
    at = r.end;
    prev = &r;
  }
  if (at != data_size)
    fail(name, ": ", data_size - at, " trailing bytes after the last tensor (data section is ",
         data_size, " bytes, tensors end at ", at, ")");

  // Tensors in file order; the index finds them by name.
  std::vector<StTensor> ordered;
  ordered.reserve(ranges.size());
  for (const Range& r : ranges) ordered.push_back(std::move(out.tensors_[r.tensor]));
  out.tensors_ = std::move(ordered);
  for (size_t i = 0; i < out.tensors_.size(); ++i) out.index_[out.tensors_[i].name] = i;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  auto f = std::make_unique<SafetensorsFile>();
  f->map_ = std::make_unique<MappedFile>(path);
  StParser::parse(*f, path, f->map_->data(), f->map_->size());
  return f;
}

std::unique_ptr<SafetensorsFile> parse_safetensors_memory(const std::string& name,
                                                          const uint8_t* data, uint64_t size) {
  auto f = std::make_unique<SafetensorsFile>();
  StParser::parse(*f, name, data, size);
  return f;
}

const StTensor* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace qat
