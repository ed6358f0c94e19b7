// optimizer.safetensors: each parameter's exact F32 value ("param.<name>") so
// a resumed model is bit-identical whatever precision model.gguf has, and its
// AdamW moments ("adam_m.<name>", "adam_v.<name>") when it has any. Steps and
// config go in the metadata as JSON strings (safetensors metadata is
// string -> string).
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "train/checkpoint_internal.h"

namespace qat::checkpoint_detail {

namespace {

using json = nlohmann::json;

constexpr const char* kFormat = "qat.optimizer.adamw";
constexpr const char* kVersion = "1";

std::string dims(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::vector<uint64_t> checked_shape(const Parameter& p) {
  std::vector<uint64_t> shape;
  uint64_t n = 1;
  for (int64_t d : p.shape) {
    QAT_CHECK(d >= 0, "parameter '", p.name, "' has a negative dimension");
    shape.push_back(uint64_t(d));
    n *= uint64_t(d);
  }
  QAT_CHECK(n == uint64_t(p.numel), "parameter '", p.name, "' has shape ", dims(shape), " but ",
            p.numel, " elements");
  return shape;
}

void check_slots_match(const ParameterList& params, const AdamW& optimizer) {
  const auto& slots = optimizer.slots();
  QAT_CHECK(slots.size() == params.size(), "checkpoint: the optimizer has ", slots.size(),
            " parameters, the model ", params.size());
  for (size_t k = 0; k < params.size(); ++k)
    QAT_CHECK(slots[k].name == params[k].name, "checkpoint: parameter ", k, " is '",
              params[k].name, "' but the optimizer's is '", slots[k].name, "'");
}

const std::string& meta(const SafetensorsFile& f, const std::string& key) {
  auto it = f.metadata().find(key);
  if (it == f.metadata().end()) fail(f.path(), ": metadata has no '", key, "'");
  return it->second;
}

json meta_json(const SafetensorsFile& f, const std::string& key) {
  try {
    return json::parse(meta(f, key));
  } catch (const json::parse_error& e) {
    fail(f.path(), ": metadata '", key, "' is not valid JSON: ", e.what());
  }
}

}  // namespace

void write_optimizer_file(const std::string& path, const ParameterList& params,
                          const AdamW& optimizer) {
  check_slots_match(params, optimizer);
  std::vector<StWriteTensor> tensors;
  json steps = json::object();
  for (size_t k = 0; k < params.size(); ++k) {
    const Parameter& p = params[k];
    const AdamWSlot& s = optimizer.slots()[k];
    const std::vector<uint64_t> shape = checked_shape(p);
    tensors.push_back({"param." + p.name, StDtype::F32, shape, p.value});
    if (s.m.empty()) continue;
    QAT_CHECK(int64_t(s.m.size()) == p.numel && int64_t(s.v.size()) == p.numel,
              "checkpoint: optimizer state of '", p.name, "' has the wrong size");
    tensors.push_back({"adam_m." + p.name, StDtype::F32, shape, s.m.data()});
    tensors.push_back({"adam_v." + p.name, StDtype::F32, shape, s.v.data()});
    steps[p.name] = s.step;
  }
  const AdamWConfig& c = optimizer.config();
  const json config = {{"beta1", c.beta1}, {"beta2", c.beta2}, {"eps", c.eps},
                       {"weight_decay", c.weight_decay}};
  write_safetensors(path, tensors,
                    {{"format", kFormat},
                     {"version", kVersion},
                     {"step_count", std::to_string(optimizer.step_count())},
                     {"param_steps", steps.dump()},
                     {"config", config.dump()}});
}

OptimizerFile read_optimizer_file(const std::string& path, const ParameterList& params,
                                  const AdamW& optimizer) {
  check_slots_match(params, optimizer);
  OptimizerFile out;
  out.file = SafetensorsFile::open(path);
  const SafetensorsFile& f = *out.file;
  QAT_CHECK(meta(f, "format") == kFormat, path, ": format is '", meta(f, "format"), "', expected '",
            kFormat, "'");
  QAT_CHECK(meta(f, "version") == kVersion, path, ": version ", meta(f, "version"),
            " is not one this build reads (", kVersion, ")");
  const json count = meta_json(f, "step_count");
  QAT_CHECK(count.is_number_integer() && count.get<int64_t>() >= 0, path,
            ": metadata 'step_count' must be an integer >= 0");
  out.step_count = count.get<int64_t>();
  const json steps = meta_json(f, "param_steps");
  QAT_CHECK(steps.is_object(), path, ": metadata 'param_steps' must be a JSON object");

  std::map<std::string, size_t> index;
  for (size_t k = 0; k < params.size(); ++k) index[params[k].name] = k;
  out.entries.resize(params.size());
  for (const StTensor& t : f.tensors()) {
    const size_t dot = t.name.find('.');
    const std::string kind = dot == std::string::npos ? "" : t.name.substr(0, dot);
    QAT_CHECK(kind == "param" || kind == "adam_m" || kind == "adam_v", path, ": unexpected tensor '",
              t.name, "' (expected param.*, adam_m.* or adam_v.*)");
    const std::string name = t.name.substr(dot + 1);
    auto it = index.find(name);
    QAT_CHECK(it != index.end(), path, ": tensor '", t.name, "' is for parameter '", name,
              "', which the model does not have");
    const Parameter& p = params[it->second];
    QAT_CHECK(t.dtype == StDtype::F32, path, ": tensor '", t.name, "' is ", st_dtype_name(t.dtype),
              ", expected F32");
    const std::vector<uint64_t> want = checked_shape(p);
    QAT_CHECK(t.shape == want, path, ": tensor '", t.name, "' has shape ", dims(t.shape),
              ", the model's parameter has shape ", dims(want));
    OptimizerFile::Entry& e = out.entries[it->second];
    (kind == "param" ? e.value : kind == "adam_m" ? e.m : e.v) = &t;
  }
  for (size_t k = 0; k < params.size(); ++k) {
    const std::string& name = params[k].name;
    OptimizerFile::Entry& e = out.entries[k];
    QAT_CHECK(e.value, path, ": no tensor 'param.", name,
              "' for the model's parameter '", name, "'");
    QAT_CHECK((e.m == nullptr) == (e.v == nullptr), path, ": parameter '", name, "' has ",
              e.m ? "adam_m but no adam_v" : "adam_v but no adam_m");
    const bool has_step = steps.contains(name);
    QAT_CHECK(has_step == (e.m != nullptr), path, ": metadata 'param_steps' ",
              has_step ? "has" : "lacks", " an entry for '", name, "', which ",
              e.m ? "has" : "has no", " optimizer state");
    if (has_step) {
      const json& s = steps[name];
      QAT_CHECK(s.is_number_integer() && s.get<int64_t>() > 0, path, ": param_steps of '", name,
                "' must be an integer > 0");
      e.step = s.get<int64_t>();
    }
  }
  for (const auto& item : steps.items())
    QAT_CHECK(index.count(item.key()), path, ": metadata 'param_steps' names '", item.key(),
              "', which the model does not have");
  return out;
}

void apply_optimizer_file(const OptimizerFile& f, ParameterList& params, AdamW& optimizer) {
  for (size_t k = 0; k < params.size(); ++k) {
    const OptimizerFile::Entry& e = f.entries[k];
    Parameter& p = params[k];
    AdamWSlot& s = optimizer.slots()[k];
    const size_t bytes = size_t(p.numel) * sizeof(float);
    // memcpy: tensor data in the map need not be 4-byte aligned.
    if (bytes) std::memcpy(p.value, e.value->data, bytes);
    s.step = e.step;
    if (e.m) {
      s.m.resize(size_t(p.numel));
      s.v.resize(size_t(p.numel));
      if (bytes) std::memcpy(s.m.data(), e.m->data, bytes);
      if (bytes) std::memcpy(s.v.data(), e.v->data, bytes);
    } else {
      s.m.clear();
      s.v.clear();
      s.m.shrink_to_fit();
      s.v.shrink_to_fit();
    }
  }
  optimizer.set_step_count(f.step_count);
}

}  // namespace qat::checkpoint_detail
