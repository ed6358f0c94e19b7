#include "finance/table_features.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "base/error.h"

namespace qat {

namespace {

bool is_missing(const std::string& v) { return v.empty() || v == "?" || v == "NA" || v == "na"; }

bool parse_number(const std::string& s, double* out) {
  const char* b = s.data();
  const char* e = b + s.size();
  while (b < e && *b == ' ') ++b;
  while (e > b && e[-1] == ' ') --e;
  if (b < e && *b == '+') ++b;
  const auto r = std::from_chars(b, e, *out);
  return r.ec == std::errc() && r.ptr == e && std::isfinite(*out);
}

}  // namespace

bool table_value_is_missing(const std::string& v) { return is_missing(v); }

bool table_value_is_number(const std::string& v) {
  double x;
  return parse_number(v, &x);
}

// Symbols may not hold '<', '>' or spaces (they delimit symbols in text).
std::string table_symbol_text(const std::string& v) {
  std::string s;
  for (char c : v) {
    if (c == '<') s += "lt";
    else if (c == '>') s += "gt";
    else s += (c == ' ' || c == '\t' || c == '\'' || c == '"') ? '_' : c;
  }
  return s.substr(0, 48);
}

namespace {

std::string sanitize(const std::string& v) { return table_symbol_text(v); }

}  // namespace

int Table::column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return int(i);
  return -1;
}

TableFeatures TableFeatures::fit(const Table& t, const std::vector<std::string>& names, int bins,
                                 int max_categories) {
  QAT_CHECK(bins >= 2, "table features: bins must be >= 2");
  QAT_CHECK(!t.rows.empty(), t.source, ": no rows to fit features on");
  TableFeatures f;
  for (const std::string& name : names) {
    const int c = t.column(name);
    QAT_CHECK(c >= 0, t.source, ": no column '", name, "'");
    TableColumnSpec spec;
    spec.name = sanitize(name);
    std::vector<double> values;
    std::set<std::string> distinct;
    bool numeric = true;
    for (const auto& row : t.rows) {
      const std::string& v = row[size_t(c)];
      if (is_missing(v)) continue;
      distinct.insert(sanitize(v));
      double x;
      if (parse_number(v, &x)) values.push_back(x);
      else numeric = false;
    }
    spec.numeric = numeric && !values.empty() && int(distinct.size()) > max_categories;
    if (spec.numeric) {
      std::sort(values.begin(), values.end());
      for (int q = 1; q < bins; ++q) {
        const double e = values[std::min(values.size() - 1, size_t(double(q) / bins * double(values.size())))];
        if (spec.edges.empty() || e > spec.edges.back()) spec.edges.push_back(e);
      }
    } else {
      spec.categories.assign(distinct.begin(), distinct.end());
    }
    f.columns.push_back(std::move(spec));
  }
  return f;
}

std::string TableFeatures::render(const std::function<const std::string*(const std::string&)>& value) const {
  std::string s;
  for (const TableColumnSpec& c : columns) {
    const std::string* v = value(c.name);
    s += "<" + c.name;
    if (!v || is_missing(*v)) {
      s += ":na>";
      continue;
    }
    if (c.numeric) {
      double x;
      if (!parse_number(*v, &x)) {
        s += ":na>";
        continue;
      }
      const int bin = int(std::upper_bound(c.edges.begin(), c.edges.end(), x) - c.edges.begin());
      s += ":q" + std::to_string(bin) + ">";
    } else {
      const std::string k = sanitize(*v);
      s += "=" + (std::binary_search(c.categories.begin(), c.categories.end(), k) ? k : std::string("(other)")) + ">";
    }
  }
  return s;
}

std::string TableFeatures::render_row(const Table& t, size_t row) const {
  std::vector<int> idx;
  for (const TableColumnSpec& c : columns) {
    int i = t.column(c.name);
    for (size_t j = 0; i < 0 && j < t.columns.size(); ++j)
      if (sanitize(t.columns[j]) == c.name) i = int(j);  // a name the symbols write sanitized
    idx.push_back(i);
  }
  return render([&](const std::string& name) -> const std::string* {
    for (size_t i = 0; i < columns.size(); ++i)
      if (columns[i].name == name && idx[i] >= 0) return &t.rows[row][size_t(idx[i])];
    return nullptr;
  });
}

std::vector<std::string> TableFeatures::vocabulary() const {
  std::vector<std::string> v;
  for (const TableColumnSpec& c : columns) {
    v.push_back("<" + c.name + ":na>");
    if (c.numeric) {
      for (size_t b = 0; b <= c.edges.size(); ++b) v.push_back("<" + c.name + ":q" + std::to_string(b) + ">");
    } else {
      for (const std::string& k : c.categories) v.push_back("<" + c.name + "=" + k + ">");
      v.push_back("<" + c.name + "=(other)>");
    }
  }
  return v;
}

nlohmann::json TableFeatures::to_json() const {
  nlohmann::json cols = nlohmann::json::array();
  for (const TableColumnSpec& c : columns) {
    nlohmann::json j = {{"name", c.name}, {"numeric", c.numeric}};
    if (c.numeric) j["edges"] = c.edges;
    else j["categories"] = c.categories;
    cols.push_back(j);
  }
  return {{"columns", cols}};
}

TableFeatures TableFeatures::from_json(const nlohmann::json& j) {
  QAT_CHECK(j.is_object() && j.contains("columns") && j["columns"].is_array(), "table features: no \"columns\" array");
  TableFeatures f;
  try {
    for (const auto& c : j["columns"]) {
      TableColumnSpec s;
      s.name = c.at("name").get<std::string>();
      s.numeric = c.at("numeric").get<bool>();
      if (s.numeric) s.edges = c.at("edges").get<std::vector<double>>();
      else s.categories = c.at("categories").get<std::vector<std::string>>();
      QAT_CHECK(std::is_sorted(s.edges.begin(), s.edges.end()) && std::is_sorted(s.categories.begin(), s.categories.end()),
                "table features: column '", s.name, "' is not sorted");
      f.columns.push_back(std::move(s));
    }
  } catch (const nlohmann::json::exception& e) {
    fail("table features: ", e.what());
  }
  return f;
}

}  // namespace qat
