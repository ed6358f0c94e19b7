#include "eval/compare.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "base/error.h"
#include "base/memory_info.h"

namespace qat {

namespace {

// Parameters per type over the matrices the forward pass multiplies by.
std::map<TensorType, int64_t> matrix_types(const Model& m) {
  std::map<TensorType, int64_t> n;
  ModelWeights w = m.weights;  // tensor_slots wants mutable weights; the copy shares their data
  for (const TensorSlot& s : tensor_slots(m.config, w))
    if (s.role == TensorRole::Matrix && s.tensor->present()) n[s.tensor->type] += s.tensor->numel();
  return n;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
// "%.4f", or scientific notation for the astronomic perplexities of random models.
std::string ppl_str(double v) { return fmt(std::fabs(v) < 1e7 ? "%.4f" : "%.4e", v); }
std::string pct(double v) { return fmt("%.2f %%", 100 * v); }

}  // namespace

std::string scheme_of(const Model& m) {
  const auto types = matrix_types(m);
  std::set<int> bits;
  TensorType most = TensorType::F32;
  int64_t most_n = -1;
  for (const auto& [t, n] : types) {
    if (t == TensorType::Q4_0) bits.insert(4);
    if (t == TensorType::Q8_0) bits.insert(8);
    if (n > most_n) most = t, most_n = n;
  }
  if (bits.empty()) return tensor_type_name(most);
  std::string s = "W";
  for (int b : bits) s += (s.size() > 1 ? "/W" : "") + std::to_string(b);
  return s + activation_quant_scheme(m.config.activation_quant);
}

std::string weight_types_of(const Model& m) {
  const auto types = matrix_types(m);
  int64_t total = 0;
  for (const auto& [t, n] : types) total += n;
  std::string s;
  for (const auto& [t, n] : types) {
    s += (s.empty() ? "" : " + ") + std::string(tensor_type_name(t));
    if (types.size() > 1) s += fmt(" %.0f%%", 100.0 * double(n) / double(std::max<int64_t>(total, 1)));
  }
  if (m.weights.embed.present()) s += std::string(", embd ") + tensor_type_name(m.weights.embed.type);
  if (!m.config.tie_word_embeddings && m.weights.output.present())
    s += std::string(", output ") + tensor_type_name(m.weights.output.type);
  return s;
}

void check_compare_label(const std::string& label) {
  QAT_CHECK(!label.empty() && label.size() <= 64, "model label '", label, "' must have 1 to 64 characters");
  for (char ch : label)
    QAT_CHECK(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '+' || ch == '-',
              "model label '", label, "': use letters, digits and . _ + - only (e.g. ptq-w4a8, qat-w4a8)");
}

void compute_recovered(std::vector<CompareRow>& rows) {
  const CompareRow* base = nullptr;
  for (const CompareRow& r : rows)
    if (r.is_base) base = &r;
  if (!base) return;
  std::map<std::string, const CompareRow*> ptq;
  for (const CompareRow& r : rows)
    if (!r.is_base && r.label.rfind("ptq-", 0) == 0) ptq[r.label.substr(4)] = &r;
  for (CompareRow& r : rows) {
    r.recovered_ppl.reset();
    r.recovered_accuracy.reset();
    if (r.is_base || r.label.rfind("qat-", 0) != 0) continue;
    const auto it = ptq.find(r.label.substr(4));
    if (it == ptq.end()) continue;
    const CompareRow& p = *it->second;
    // (PTQ gap - QAT gap) / PTQ gap, defined where PTQ lost something.
    if (r.ppl && p.ppl && base->ppl) {
      const double gp = *p.ppl - *base->ppl, gq = *r.ppl - *base->ppl;
      if (gp > 0) r.recovered_ppl = (gp - gq) / gp;
    }
    if (r.accuracy && p.accuracy && base->accuracy) {
      const double gp = *base->accuracy - *p.accuracy, gq = *base->accuracy - *r.accuracy;
      if (gp > 0) r.recovered_accuracy = (gp - gq) / gp;
    }
  }
}

std::string compare_markdown(const std::vector<CompareRow>& rows) {
  bool text = false, acc = false, rec_ppl = false, rec_acc = false;
  for (const CompareRow& r : rows) {
    text |= r.ppl.has_value();
    acc |= r.accuracy.has_value();
    rec_ppl |= r.recovered_ppl.has_value();
    rec_acc |= r.recovered_accuracy.has_value();
  }
  std::vector<std::string> head = {"model", "scheme", "weights", "size"};
  if (text) head.insert(head.end(), {"PPL", "mean KLD", "same top-1"});
  if (acc) head.push_back("accuracy");
  if (rec_ppl) head.push_back("recovered (PPL)");
  if (rec_acc) head.push_back("recovered (accuracy)");
  std::string out;
  auto line = [&out](const std::vector<std::string>& cells) {
    out += "|";
    for (const std::string& c : cells) out += " " + c + " |";
    out += "\n";
  };
  line(head);
  std::vector<std::string> rule;
  for (size_t i = 0; i < head.size(); ++i) rule.push_back(i < 3 ? "---" : "---:");
  line(rule);
  const std::string none = "—";
  for (const CompareRow& r : rows) {
    std::vector<std::string> c = {r.is_base ? "**" + r.label + "** (base)" : r.label, r.scheme, r.weights,
                                  format_bytes(r.file_bytes)};
    if (text) {
      c.push_back(r.ppl ? ppl_str(*r.ppl) + " ± " + ppl_str(r.ppl_error.value_or(0)) : none);
      c.push_back(r.is_base || !r.kld ? none : fmt("%.6f", *r.kld) + " ± " + fmt("%.6f", r.kld_error.value_or(0)));
      c.push_back(r.is_base || !r.same_top ? none : pct(*r.same_top) + " ± " + pct(r.same_top_error.value_or(0)));
    }
    if (acc) c.push_back(r.accuracy ? pct(*r.accuracy) : none);
    if (rec_ppl) c.push_back(r.recovered_ppl ? fmt("%.1f %%", 100 * *r.recovered_ppl) : none);
    if (rec_acc) c.push_back(r.recovered_accuracy ? fmt("%.1f %%", 100 * *r.recovered_accuracy) : none);
    line(c);
  }
  return out;
}

nlohmann::json compare_json(const std::vector<CompareRow>& rows) {
  using nlohmann::json;
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json out = json::array();
  for (const CompareRow& r : rows) {
    json j = {{"label", r.label},
              {"path", r.path},
              {"base", r.is_base},
              {"scheme", r.scheme},
              {"weights", r.weights},
              {"file_bytes", r.file_bytes},
              {"ppl", opt(r.ppl)},
              {"ppl_error", opt(r.ppl_error)},
              {"mean_kld", opt(r.kld)},
              {"mean_kld_error", opt(r.kld_error)},
              {"same_top1", opt(r.same_top)},
              {"same_top1_error", opt(r.same_top_error)},
              {"accuracy", opt(r.accuracy)},
              {"examples", r.examples},
              {"recovered_ppl", opt(r.recovered_ppl)},
              {"recovered_accuracy", opt(r.recovered_accuracy)}};
    out.push_back(j);
  }
  return out;
}

}  // namespace qat
