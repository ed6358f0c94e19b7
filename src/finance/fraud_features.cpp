#include "finance/fraud_features.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "finance/sim_random.h"

namespace qat {

namespace {

const double kAmountEdges[] = {1, 3, 7, 15, 30, 50, 80, 120, 200, 350, 600, 1000, 2000, 5000};
const int64_t kGapEdges[] = {60, 300, 1800, 7200, 6 * 3600, 86400, 3 * 86400, 7 * 86400};
const double kDistanceEdges[] = {2, 10, 30, 100, 300, 1000, 3000};
const double kRatioEdges[] = {0.1, 0.5, 1, 2, 4, 10};

template <class T, size_t N>
int bucket(T value, const T (&edges)[N]) {  // index of the first edge above value (N when none)
  int i = 0;
  while (i < int(N) && value >= edges[i]) ++i;
  return i;
}

std::string sym(const char* key, const std::string& value) { return std::string("<") + key + ":" + value + ">"; }
std::string sym(const char* key, int value) { return sym(key, std::to_string(value)); }

// One transaction's symbols; prev = the one before it in the event (or null);
// seen = the earlier transactions of the event.
void append_transaction(std::string& s, const Transaction& t, const Transaction* prev,
                        const std::vector<const Transaction*>& seen) {
  s += sym("c", merchant_categories()[t.category]);
  s += sym("a", bucket(t.amount, kAmountEdges));
  s += prev ? sym("g", bucket(std::max<int64_t>(0, t.time_s - prev->time_s), kGapEdges)) : "<g:first>";
  int64_t sec = t.time_s % 86400;
  if (sec < 0) sec += 86400;
  s += sym("h", int(sec / (3 * 3600)));
  s += sym("d", bucket(t.distance_km, kDistanceEdges));
  s += sym("ch", channel_name(t.channel));
  bool known_device = false, known_merchant = false;
  for (const Transaction* p : seen) {
    known_device |= t.device != 0 && p->device == t.device;
    known_merchant |= p->merchant == t.merchant;
  }
  s += t.device == 0 ? "<dev:card>" : known_device ? "<dev:known>" : "<dev:new>";
  s += known_merchant ? "<m:known>" : "<m:new>";
}

}  // namespace

std::string fraud_event_text(const FraudEvent& e) {
  const size_t skip = e.history.size() > size_t(kFraudHistory) ? e.history.size() - kFraudHistory : 0;
  std::vector<const Transaction*> seen;
  std::string s;
  const Transaction* prev = nullptr;
  std::vector<double> amounts;
  for (size_t i = skip; i < e.history.size(); ++i) {
    s += "<t>";
    append_transaction(s, e.history[i], prev, seen);
    seen.push_back(&e.history[i]);
    prev = &e.history[i];
    amounts.push_back(e.history[i].amount);
  }
  s += "<now>";
  append_transaction(s, e.current, prev, seen);
  if (amounts.empty()) {
    s += "<r:none>";
  } else {
    std::sort(amounts.begin(), amounts.end());
    const size_t n = amounts.size();
    const double median = n % 2 ? amounts[n / 2] : 0.5 * (amounts[n / 2 - 1] + amounts[n / 2]);
    s += sym("r", bucket(e.current.amount / std::max(median, 0.01), kRatioEdges));
  }
  return s;
}

std::vector<std::string> fraud_vocabulary() {
  std::vector<std::string> v = {"<t>", "<now>", "<g:first>", "<dev:card>", "<dev:known>", "<dev:new>",
                                "<m:known>", "<m:new>", "<r:none>"};
  for (const std::string& c : merchant_categories()) v.push_back(sym("c", c));
  for (int i = 0; i <= int(std::size(kAmountEdges)); ++i) v.push_back(sym("a", i));
  for (int i = 0; i <= int(std::size(kGapEdges)); ++i) v.push_back(sym("g", i));
  for (int i = 0; i < 8; ++i) v.push_back(sym("h", i));
  for (int i = 0; i <= int(std::size(kDistanceEdges)); ++i) v.push_back(sym("d", i));
  for (Channel c : {Channel::CardPresent, Channel::Online, Channel::Transfer}) v.push_back(sym("ch", channel_name(c)));
  for (int i = 0; i <= int(std::size(kRatioEdges)); ++i) v.push_back(sym("r", i));
  return v;
}

namespace {

// Device and merchant ids in JSON: a string or a non-negative integer,
// compared only for equality within an event, so strings are hashed.
uint32_t id_of(const nlohmann::json& v, const char* field, bool allow_null) {
  if (v.is_null()) {
    QAT_CHECK(allow_null, "\"", field, "\" must not be null");
    return 0;
  }
  if (v.is_number_unsigned()) return uint32_t(v.get<uint64_t>() % 0xfffffffbULL) + 1;
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return uint32_t(v.get<int64_t>() % 0xfffffffbLL) + 1;
  QAT_CHECK(v.is_string(), "\"", field, "\" must be a string or a non-negative integer");
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char ch : v.get<std::string>()) h = (h ^ ch) * 16777619u;
  return h == 0 ? 1 : h;
}

double number_of(const nlohmann::json& t, const char* field, double lo) {
  QAT_CHECK(t.contains(field), "missing \"", field, "\"");
  const nlohmann::json& v = t[field];
  QAT_CHECK(v.is_number(), "\"", field, "\" must be a number");
  const double x = v.get<double>();
  QAT_CHECK(std::isfinite(x) && x >= lo, "\"", field, "\" must be a finite number >= ", lo, ", got ", x);
  return x;
}

// A misspelt optional field ("distance" for "distance_km", "History") would
// otherwise be read as absent and change the score without a word.
// The list of known keys is spelt out only for the error (this runs per record).
void reject_unknown_keys(const nlohmann::json& j, std::initializer_list<const char*> known) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::any_of(known.begin(), known.end(), [&](const char* k) { return it.key() == k; })) continue;
    std::string list;
    for (const char* k : known) list += std::string(list.empty() ? "" : " ") + k;
    fail("unknown key \"", it.key(), "\" (known: ", list, ")");
  }
}

Transaction transaction_from_json(const nlohmann::json& t) {
  QAT_CHECK(t.is_object(), "a transaction must be a JSON object");
  reject_unknown_keys(t, {"time_s", "amount", "category", "distance_km", "channel", "device", "merchant"});
  Transaction x;
  const double time = number_of(t, "time_s", -1e12);
  QAT_CHECK(time <= 1e12, "\"time_s\" is out of range: ", time);
  x.time_s = int64_t(std::floor(time));
  x.amount = number_of(t, "amount", 0);
  x.distance_km = t.contains("distance_km") ? number_of(t, "distance_km", 0) : 0;
  QAT_CHECK(t.contains("category") && t["category"].is_string(), "missing or non-string \"category\"");
  const std::string cat = t["category"].get<std::string>();
  const auto& cats = merchant_categories();
  const auto it = std::find(cats.begin(), cats.end(), cat);
  std::string all;
  for (const std::string& c : cats) all += (all.empty() ? "" : " ") + c;
  QAT_CHECK(it != cats.end(), "unknown \"category\" \"", cat, "\" (known: ", all, ")");
  x.category = int32_t(it - cats.begin());
  QAT_CHECK(t.contains("channel") && t["channel"].is_string(), "missing or non-string \"channel\"");
  QAT_CHECK(parse_channel(t["channel"].get<std::string>(), &x.channel), "unknown \"channel\" \"",
            t["channel"].get<std::string>(), "\" (pos, online or transfer)");
  if (x.channel != Channel::CardPresent)
    QAT_CHECK(t.contains("device") && !t["device"].is_null(), "\"device\" is required (not null) for channel \"",
              t["channel"].get<std::string>(), "\"");
  // Read (and type-checked) even where unused: a card-present payment's
  // device of the wrong type is refused, not silently ignored.
  const uint32_t device = t.contains("device") ? id_of(t["device"], "device", true) : 0;
  x.device = x.channel == Channel::CardPresent ? 0 : device;
  QAT_CHECK(t.contains("merchant"), "missing \"merchant\"");
  x.merchant = int32_t(id_of(t["merchant"], "merchant", false) & 0x7fffffff);
  return x;
}

nlohmann::json transaction_to_json(const Transaction& t) {
  nlohmann::json j = {{"time_s", t.time_s},
                      {"amount", t.amount},
                      {"category", merchant_categories()[t.category]},
                      {"distance_km", t.distance_km},
                      {"channel", channel_name(t.channel)},
                      {"merchant", "m" + std::to_string(t.merchant)}};
  j["device"] = t.device == 0 ? nlohmann::json() : nlohmann::json("d" + std::to_string(t.device));
  return j;
}

}  // namespace

FraudEvent fraud_event_from_json(const nlohmann::json& j) {
  QAT_CHECK(j.is_object(), "a fraud event must be a JSON object {\"history\": [...], \"transaction\": {...}}");
  reject_unknown_keys(j, {"history", "transaction", "id"});  // "id" is echoed by `qat score`
  QAT_CHECK(j.contains("transaction"), "missing \"transaction\"");
  FraudEvent e;
  try {
    e.current = transaction_from_json(j["transaction"]);
  } catch (const Error& err) {
    fail("transaction: ", err.what());
  }
  if (j.contains("history") && !j["history"].is_null()) {
    QAT_CHECK(j["history"].is_array(), "\"history\" must be an array of transactions");
    size_t i = 0;
    for (const auto& t : j["history"]) {
      try {
        e.history.push_back(transaction_from_json(t));
      } catch (const Error& err) {
        fail("history[", i, "]: ", err.what());
      }
      // The features read time gaps between neighbours: a history out of
      // order (a caller's sorting bug) would score as gaps of zero.
      QAT_CHECK(i == 0 || e.history[i].time_s >= e.history[i - 1].time_s, "history[", i, "]: \"time_s\" ",
                e.history[i].time_s, " is before history[", i - 1, "]'s ", e.history[i - 1].time_s,
                " (history must be oldest first)");
      ++i;
    }
    QAT_CHECK(e.history.empty() || e.current.time_s >= e.history.back().time_s, "transaction: \"time_s\" ",
              e.current.time_s, " is before the last history transaction's ", e.history.back().time_s);
  }
  return e;
}

nlohmann::json fraud_event_to_json(const FraudEvent& e) {
  nlohmann::json h = nlohmann::json::array();
  for (const Transaction& t : e.history) h.push_back(transaction_to_json(t));
  return {{"history", h}, {"transaction", transaction_to_json(e.current)}};
}

std::vector<FraudEvent> fraud_events(const FraudSimData& d, int first, int last, double keep_legit,
                                     double keep_fraud, uint64_t seed) {
  QAT_CHECK(first >= 0 && first <= last && last + 1 <= int(d.customer_begin.size()), "fraud_events: customers [",
            first, ", ", last, ") out of range");
  QAT_CHECK(keep_legit > 0 && keep_legit <= 1 && keep_fraud > 0 && keep_fraud <= 1,
            "fraud_events: keep probabilities must be in (0, 1]");
  SimRandom rng(seed);
  std::vector<FraudEvent> out;
  for (int c = first; c < last; ++c) {
    const int64_t b = d.customer_begin[c], end = d.customer_begin[c + 1];
    for (int64_t i = b; i < end; ++i) {
      const Transaction& t = d.transactions[i];
      const double keep = t.is_fraud() ? keep_fraud : keep_legit;
      if (keep < 1 && !rng.chance(keep)) continue;
      FraudEvent e;
      e.history.assign(d.transactions.begin() + std::max(b, i - kFraudHistory), d.transactions.begin() + i);
      e.current = t;
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace qat
