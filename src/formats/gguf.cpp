// GGUF values, typed getters and GgufFile::open. The byte-level validation
// lives in gguf_parse.cpp, the writer in gguf_writer.cpp.
#include "formats/gguf.h"

#include <cstring>

#include "base/error.h"
#include "formats/format_util_internal.h"
#include "formats/gguf_internal.h"

namespace qat {

using fmt_detail::printable;

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::UINT8: return "uint8";
    case GgufType::INT8: return "int8";
    case GgufType::UINT16: return "uint16";
    case GgufType::INT16: return "int16";
    case GgufType::UINT32: return "uint32";
    case GgufType::INT32: return "int32";
    case GgufType::FLOAT32: return "float32";
    case GgufType::BOOL: return "bool";
    case GgufType::STRING: return "string";
    case GgufType::ARRAY: return "array";
    case GgufType::UINT64: return "uint64";
    case GgufType::INT64: return "int64";
    case GgufType::FLOAT64: return "float64";
  }
  return "unknown";
}

bool gguf_known_type(uint32_t id) { return id <= uint32_t(GgufType::FLOAT64); }

size_t gguf_scalar_size(GgufType t) {
  switch (t) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
    case GgufType::UINT16: case GgufType::INT16: return 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
    case GgufType::STRING: case GgufType::ARRAY: return 0;
  }
  return 0;
}

std::string gguf_describe(const GgufValue& v) {
  if (v.type == GgufType::ARRAY) return cat("array of ", gguf_type_name(v.elem_type));
  return gguf_type_name(v.type);
}

// ---- GgufValue constructors ----

GgufValue GgufValue::u32(uint32_t v) {
  GgufValue r;
  r.type = GgufType::UINT32;
  r.num.u = v;
  return r;
}
GgufValue GgufValue::i32(int32_t v) {
  GgufValue r;
  r.type = GgufType::INT32;
  r.num.i = v;
  return r;
}
GgufValue GgufValue::u64(uint64_t v) {
  GgufValue r;
  r.type = GgufType::UINT64;
  r.num.u = v;
  return r;
}
GgufValue GgufValue::f32(float v) {
  GgufValue r;
  r.type = GgufType::FLOAT32;
  r.num.f = v;
  return r;
}
GgufValue GgufValue::boolean(bool v) {
  GgufValue r;
  r.type = GgufType::BOOL;
  r.num.u = v ? 1 : 0;
  return r;
}
GgufValue GgufValue::string(std::string v) {
  GgufValue r;
  r.type = GgufType::STRING;
  r.str = std::move(v);
  return r;
}
GgufValue GgufValue::string_array(std::vector<std::string> v) {
  GgufValue r;
  r.type = GgufType::ARRAY;
  r.elem_type = GgufType::STRING;
  r.strs = std::move(v);
  return r;
}

namespace {
template <typename T>
GgufValue packed_array(GgufType elem, const std::vector<T>& v) {
  GgufValue r;
  r.type = GgufType::ARRAY;
  r.elem_type = elem;
  r.raw.resize(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(r.raw.data(), v.data(), r.raw.size());  // little-endian host
  return r;
}
}  // namespace

GgufValue GgufValue::f32_array(const std::vector<float>& v) {
  return packed_array(GgufType::FLOAT32, v);
}
GgufValue GgufValue::i32_array(const std::vector<int32_t>& v) {
  return packed_array(GgufType::INT32, v);
}
GgufValue GgufValue::u32_array(const std::vector<uint32_t>& v) {
  return packed_array(GgufType::UINT32, v);
}
GgufValue GgufValue::bool_array(const std::vector<bool>& v) {
  GgufValue r;
  r.type = GgufType::ARRAY;
  r.elem_type = GgufType::BOOL;
  for (bool b : v) r.raw.push_back(b ? 1 : 0);
  return r;
}

size_t GgufValue::array_size() const {
  if (type != GgufType::ARRAY) return 0;
  if (elem_type == GgufType::STRING) return strs.size();
  const size_t es = gguf_scalar_size(elem_type);
  return es ? raw.size() / es : 0;
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::UINT16: case GgufType::INT16:
    case GgufType::UINT32: case GgufType::INT32: case GgufType::UINT64: case GgufType::INT64:
    case GgufType::BOOL:
      return true;
    default:
      return false;
  }
}

bool GgufValue::is_float() const { return type == GgufType::FLOAT32 || type == GgufType::FLOAT64; }

// ---- GgufFile ----

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
  auto f = std::make_unique<GgufFile>();
  f->map_ = std::make_unique<MappedFile>(path);  // throws "<path>: cannot open: ..."
  GgufParser::parse(*f, path, f->map_->data(), f->map_->size());
  return f;
}

std::unique_ptr<GgufFile> parse_gguf_memory(const std::string& name, const uint8_t* data,
                                            uint64_t size) {
  auto f = std::make_unique<GgufFile>();
  GgufParser::parse(*f, name, data, size);
  return f;
}

uint64_t GgufFile::file_size() const { return file_size_; }

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::optional<std::string> GgufFile::get_string_opt(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::STRING)
    fail(path_, ": key '", printable(key), "': expected string, found ", gguf_describe(*v));
  return v->str;
}

std::string GgufFile::get_string(const std::string& key) const {
  auto v = get_string_opt(key);
  if (!v) fail(path_, ": missing key '", printable(key), "'");
  return *v;
}

std::optional<uint64_t> GgufFile::get_uint_opt(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer() || v->type == GgufType::BOOL)
    fail(path_, ": key '", printable(key), "': expected an unsigned integer, found ",
         gguf_describe(*v));
  switch (v->type) {
    case GgufType::INT8: case GgufType::INT16: case GgufType::INT32: case GgufType::INT64:
      if (v->num.i < 0)
        fail(path_, ": key '", printable(key), "': expected a non-negative integer, found ",
             gguf_type_name(v->type), " ", v->num.i);
      return uint64_t(v->num.i);
    default:
      return v->num.u;
  }
}

uint64_t GgufFile::get_uint(const std::string& key) const {
  auto v = get_uint_opt(key);
  if (!v) fail(path_, ": missing key '", printable(key), "'");
  return *v;
}

std::optional<double> GgufFile::get_float_opt(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_float()) return v->num.f;
  switch (v->type) {
    case GgufType::INT8: case GgufType::INT16: case GgufType::INT32: case GgufType::INT64:
      return double(v->num.i);
    case GgufType::UINT8: case GgufType::UINT16: case GgufType::UINT32: case GgufType::UINT64:
      return double(v->num.u);
    default:
      fail(path_, ": key '", printable(key), "': expected a number, found ", gguf_describe(*v));
  }
}

double GgufFile::get_float(const std::string& key) const {
  auto v = get_float_opt(key);
  if (!v) fail(path_, ": missing key '", printable(key), "'");
  return *v;
}

bool GgufFile::get_bool_opt(const std::string& key, bool fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  if (v->type != GgufType::BOOL)
    fail(path_, ": key '", printable(key), "': expected bool, found ", gguf_describe(*v));
  return v->num.u != 0;
}

const GgufValue& GgufFile::get_array(const std::string& key, GgufType elem_type) const {
  const GgufValue* v = find(key);
  if (!v) fail(path_, ": missing key '", printable(key), "'");
  if (v->type != GgufType::ARRAY || v->elem_type != elem_type)
    fail(path_, ": key '", printable(key), "': expected array of ", gguf_type_name(elem_type),
         ", found ", gguf_describe(*v));
  return *v;
}

}  // namespace qat
