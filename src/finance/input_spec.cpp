#include "finance/input_spec.h"

#include "base/error.h"
#include "finance/fraud_features.h"

namespace qat {

std::string InputSpec::render(const nlohmann::json& r) const {
  QAT_CHECK(r.is_object(), "a record must be a JSON object");
  switch (kind) {
    case Kind::Fraud: return fraud_event_text(fraud_event_from_json(r));
    case Kind::Text: {
      QAT_CHECK(r.contains(field), "missing \"", field, "\"");
      QAT_CHECK(r[field].is_string(), "\"", field, "\" must be a string");
      std::string text = r[field].get<std::string>();
      if (max_bytes > 0 && text.size() > size_t(max_bytes)) text.resize(size_t(max_bytes));
      return text;
    }
    case Kind::Table: {
      // Numbers and bools as their JSON text, as the CSV / JSONL readers do.
      // A column is found under its name as the symbols write it, or under
      // the original name that was sanitized to it ("loan amount").
      std::vector<std::string> held(table.columns.size());
      std::vector<bool> present(table.columns.size());
      bool any = false;
      for (size_t i = 0; i < table.columns.size(); ++i) {
        const std::string& name = table.columns[i].name;
        const nlohmann::json* v = r.contains(name) ? &r[name] : nullptr;
        std::string key = name;
        for (auto it = r.begin(); !v && it != r.end(); ++it)
          if (table_symbol_text(it.key()) == name) v = &it.value(), key = it.key();
        if (!v || v->is_null()) continue;
        QAT_CHECK(!v->is_object() && !v->is_array(), "\"", key, "\" must be a string or a number");
        held[i] = v->is_string() ? v->get<std::string>() : v->dump();
        // Training files may hold junk in a number column (read as missing);
        // a record being scored says what it means, or is refused.
        QAT_CHECK(!table.columns[i].numeric || table_value_is_missing(held[i]) || table_value_is_number(held[i]),
                  "\"", key, "\" must be a number (or null / \"\" / \"?\" / \"NA\" for missing), got ",
                  v->dump().substr(0, 60));
        present[i] = true;
        any = true;
      }
      QAT_CHECK(any, "none of the model's fields are present (", table.columns.size(), " fields, e.g. \"",
                table.columns.empty() ? "" : table.columns[0].name, "\")");
      return table.render([&](const std::string& name) -> const std::string* {
        for (size_t i = 0; i < table.columns.size(); ++i)
          if (table.columns[i].name == name) return present[i] ? &held[i] : nullptr;
        return nullptr;
      });
    }
  }
  return {};
}

std::string InputSpec::to_string() const {
  nlohmann::json j;
  j["kind"] = kind == Kind::Fraud ? "fraud" : kind == Kind::Table ? "table" : "text";
  if (kind == Kind::Text) j["field"] = field;
  if (kind == Kind::Text && max_bytes > 0) j["max_bytes"] = max_bytes;
  if (kind == Kind::Table) j["features"] = table.to_json();
  j["positive"] = positive;
  j["max_tokens"] = max_tokens;
  return j.dump();
}

InputSpec InputSpec::parse(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("qat.score.input: not JSON: ", e.what());
  }
  QAT_CHECK(j.is_object() && j.contains("kind") && j["kind"].is_string(), "qat.score.input: no \"kind\"");
  InputSpec s;
  const std::string kind = j["kind"].get<std::string>();
  if (kind == "fraud") {
    s.kind = Kind::Fraud;
  } else if (kind == "text") {
    s.kind = Kind::Text;
    QAT_CHECK(j.contains("field") && j["field"].is_string(), "qat.score.input: text input without \"field\"");
    s.field = j["field"].get<std::string>();
    if (j.contains("max_bytes")) {
      QAT_CHECK(j["max_bytes"].is_number_integer() && j["max_bytes"].get<int64_t>() >= 0 &&
                    j["max_bytes"].get<int64_t>() <= (int64_t(1) << 32),
                "qat.score.input: \"max_bytes\" must be an integer in [0, 2^32]");
      s.max_bytes = j["max_bytes"].get<int64_t>();
    }
  } else if (kind == "table") {
    s.kind = Kind::Table;
    QAT_CHECK(j.contains("features"), "qat.score.input: table input without \"features\"");
    s.table = TableFeatures::from_json(j["features"]);
  } else {
    fail("qat.score.input: unknown kind \"", kind, "\" (fraud, table or text)");
  }
  if (j.contains("positive") && j["positive"].is_string()) s.positive = j["positive"].get<std::string>();
  if (j.contains("max_tokens")) {
    QAT_CHECK(j["max_tokens"].is_number_integer() && j["max_tokens"].get<int64_t>() >= 0 &&
                  j["max_tokens"].get<int64_t>() <= 1000000,
              "qat.score.input: \"max_tokens\" must be an integer in [0, 1e6]");
    s.max_tokens = j["max_tokens"].get<int>();
  }
  return s;
}

}  // namespace qat
