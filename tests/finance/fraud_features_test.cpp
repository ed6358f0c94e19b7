// Fraud scoring events as symbol text (fraud_features.h): the exact symbols
// of a hand-built event, the history window, the vocabulary, the JSON form
// `qat score` reads (round trip and errors), and event sampling.
#include "finance/fraud_features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "finance/fraud_sim.h"
#include "tokenizer/tokenizer.h"

namespace qat {
namespace {

using json = nlohmann::json;

constexpr int kGrocery = 0, kElectronics = 5, kOnlineRetail = 9, kTransfer = 12;

Transaction tx(int64_t time_s, int category, double amount, double km, Channel ch, uint32_t device, int32_t merchant) {
  Transaction t;
  t.time_s = time_s;
  t.category = category;
  t.amount = amount;
  t.distance_km = km;
  t.channel = ch;
  t.device = device;
  t.merchant = merchant;
  return t;
}

// "<a><b:1>" -> {"<a>", "<b:1>"}; fails the test on text outside symbols.
std::vector<std::string> symbols_of(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    EXPECT_EQ(text[i], '<') << "text outside a symbol at " << i << ": " << text;
    const size_t close = text.find('>', i);
    if (close == std::string::npos) {
      ADD_FAILURE() << "unterminated symbol: " << text.substr(i);
      break;
    }
    out.push_back(text.substr(i, close + 1 - i));
    i = close + 1;
  }
  return out;
}

const FraudSimData& sim() {
  static const FraudSimData d = [] {
    FraudSimOptions o;
    o.seed = 99;
    o.customers = 300;
    o.merchants = 200;
    o.days = 30;
    o.fraud_rate = 0.05;
    return simulate_fraud(o);
  }();
  return d;
}

TEST(FraudFeatures, HandBuiltEventGivesExactSymbols) {
  FraudEvent e;
  const int64_t t0 = 2 * 86400 + 10 * 3600 + 5;  // day 2, 10:00:05 -> hour bucket 3
  // Grocery, $45 (amount bucket 5: 30 <= 45 < 50), 3.2 km (distance bucket 1), card present.
  e.history.push_back(tx(t0, kGrocery, 45, 3.2, Channel::CardPresent, 0, 9));
  // 1800 s later (gap bucket 3: exactly the 1800 edge), $3 (bucket 2: exactly the 3 edge),
  // 0 km, online from device 17 (new), at the same merchant 9 (known).
  e.history.push_back(tx(t0 + 1800, kOnlineRetail, 3, 0, Channel::Online, 17, 9));
  // Day 5, 23:59:59 (hour bucket 7), 3.56 days after the previous (gap bucket 7),
  // $400 (bucket 10), 1500 km (bucket 6), device 17 again (known), merchant 5 (new);
  // 400 / median(45, 3) = 400 / 24 = 16.7 -> ratio bucket 6.
  e.current = tx(5 * 86400 + 86399, kElectronics, 400, 1500, Channel::Online, 17, 5);
  EXPECT_EQ(fraud_event_text(e),
            "<t><c:grocery><a:5><g:first><h:3><d:1><ch:pos><dev:card><m:new>"
            "<t><c:online_retail><a:2><g:3><h:3><d:0><ch:online><dev:new><m:known>"
            "<now><c:electronics><a:10><g:7><h:7><d:6><ch:online><dev:known><m:new><r:6>");

  // Gap just below an edge, ratio exactly 1 (bucket 3: 0.1, 0.5, 1 <= 1).
  FraudEvent f;
  f.history.push_back(tx(1000, kGrocery, 20, 0, Channel::CardPresent, 0, 1));
  f.current = tx(1000 + 59, kGrocery, 20, 2, Channel::CardPresent, 0, 1);
  EXPECT_EQ(fraud_event_text(f),
            "<t><c:grocery><a:4><g:first><h:0><d:0><ch:pos><dev:card><m:new>"
            "<now><c:grocery><a:4><g:0><h:0><d:1><ch:pos><dev:card><m:known><r:3>");
}

TEST(FraudFeatures, NoHistoryGivesRatioNone) {
  FraudEvent e;
  // time_s -3600 is 23:00 the day before (hour bucket 7); $0.50 (bucket 0); 10 km (bucket 2).
  e.current = tx(-3600, kTransfer, 0.5, 10, Channel::Transfer, 4, 3);
  EXPECT_EQ(fraud_event_text(e), "<now><c:transfer><a:0><g:first><h:7><d:2><ch:transfer><dev:new><m:new><r:none>");
}

TEST(FraudFeatures, OnlyTheLastHistoryTransactionsAreUsed) {
  FraudEvent all;
  // Old transactions at merchant 77 with device 5: if they were used, the
  // current one would read <m:known> and <dev:known>, and the ratio would change.
  for (int i = 0; i < 3; ++i) all.history.push_back(tx(100 + i, kGrocery, 5000, 1, Channel::Online, 5, 77));
  for (int i = 0; i < kFraudHistory; ++i)
    all.history.push_back(tx(1000 + 600 * i, kGrocery, 10 + i, 1, Channel::CardPresent, 0, i));
  all.current = tx(9000, kGrocery, 30, 1, Channel::Online, 5, 77);
  FraudEvent last = all;
  last.history.erase(last.history.begin(), last.history.begin() + 3);
  ASSERT_EQ(last.history.size(), size_t(kFraudHistory));
  const std::string text = fraud_event_text(all);
  EXPECT_EQ(text, fraud_event_text(last));
  size_t ts = 0;
  for (const std::string& s : symbols_of(text)) ts += s == "<t>";
  EXPECT_EQ(ts, size_t(kFraudHistory));
  EXPECT_NE(text.find("<now><c:grocery><a:5><g:3><h:0><d:0><ch:online><dev:new><m:new><r:4>"), std::string::npos)
      << text;
}

TEST(FraudFeatures, VocabularyHasNoDuplicates) {
  const std::vector<std::string> v = fraud_vocabulary();
  const std::set<std::string> unique(v.begin(), v.end());
  EXPECT_EQ(unique.size(), v.size());
  for (const std::string& s : v) {
    ASSERT_GE(s.size(), 3u);
    EXPECT_EQ(s.front(), '<') << s;
    EXPECT_EQ(s.back(), '>') << s;
    EXPECT_EQ(s.find('>'), s.size() - 1) << s;
  }
  EXPECT_TRUE(unique.count("<c:gift_cards>"));
  EXPECT_TRUE(unique.count("<r:none>"));
  EXPECT_TRUE(unique.count("<h:7>"));
  EXPECT_FALSE(unique.count("<h:8>"));
}

TEST(FraudFeatures, SimulatedEventSymbolsAreAllInTheVocabulary) {
  const std::vector<std::string> v = fraud_vocabulary();
  const std::set<std::string> vocab(v.begin(), v.end());
  const std::vector<FraudEvent> events = fraud_events(sim(), 0, 300, 1, 1, 1);
  ASSERT_GE(events.size(), 2000u);
  std::set<std::string> used;
  for (size_t i = 0; i < 2000; ++i) {
    const size_t k = i * (events.size() / 2000);
    for (const std::string& s : symbols_of(fraud_event_text(events[k]))) {
      ASSERT_TRUE(vocab.count(s)) << "'" << s << "' is not in fraud_vocabulary()";
      used.insert(s);
    }
  }
  EXPECT_GT(used.size(), v.size() / 2);  // the events exercise most of the vocabulary
}

TEST(FraudFeatures, EventTextIsOneTokenPerSymbol) {
  const std::vector<std::string> v = fraud_vocabulary();
  const auto tok = Tokenizer::with_symbols(v);
  for (size_t i = 0; i < v.size(); ++i)
    EXPECT_EQ(tok->encode(v[i], false), std::vector<int32_t>{int32_t(264 + i)}) << v[i];
  const std::vector<FraudEvent> events = fraud_events(sim(), 0, 20, 1, 1, 1);
  for (const FraudEvent& e : events) {
    const std::string text = fraud_event_text(e);
    const std::vector<int32_t> ids = tok->encode(text, false);
    ASSERT_EQ(ids.size(), symbols_of(text).size()) << text;
    for (int32_t id : ids) ASSERT_GE(id, 264) << text;
  }
}

TEST(FraudFeatures, JsonRoundTripGivesTheSameText) {
  const std::vector<FraudEvent> events = fraud_events(sim(), 0, 300, 1, 1, 1);
  ASSERT_GE(events.size(), 500u);
  int fraud = 0;
  for (size_t i = 0; i < 500; ++i) {
    const FraudEvent& e = events[i * (events.size() / 500)];
    fraud += e.current.is_fraud();
    const std::string line = fraud_event_to_json(e).dump();  // as `qat score` reads it: one line of text
    const FraudEvent back = fraud_event_from_json(json::parse(line));
    ASSERT_EQ(back.history.size(), e.history.size());
    ASSERT_EQ(fraud_event_text(back), fraud_event_text(e)) << line;
  }
  EXPECT_GT(fraud, 0);
}

TEST(FraudFeatures, JsonFieldsAsDocumented) {
  FraudEvent e;
  e.history.push_back(tx(100, kGrocery, 12.5, 3.25, Channel::CardPresent, 0, 9));
  e.current = tx(200, kOnlineRetail, 7, 0, Channel::Online, 17, 4);
  const json j = fraud_event_to_json(e);
  EXPECT_EQ(j["transaction"]["time_s"], 200);
  EXPECT_EQ(j["transaction"]["category"], "online_retail");
  EXPECT_EQ(j["transaction"]["channel"], "online");
  EXPECT_TRUE(j["transaction"]["device"].is_string());
  EXPECT_TRUE(j["history"][0]["device"].is_null());
  EXPECT_EQ(j["history"][0]["amount"], 12.5);
  EXPECT_EQ(j["history"][0]["distance_km"], 3.25);
  // Ids may be strings or integers; only equality within the event matters.
  json k = j;
  k["history"][0]["merchant"] = 4;
  k["transaction"]["merchant"] = 4;
  k["transaction"]["device"] = 17;
  EXPECT_NE(fraud_event_text(fraud_event_from_json(k)).find("<m:known><r:"), std::string::npos);
  // No "history" at all is an event without history; distance_km defaults to 0.
  json n = {{"transaction", j["transaction"]}};
  n["transaction"].erase("distance_km");
  EXPECT_EQ(fraud_event_text(fraud_event_from_json(n)),
            "<now><c:online_retail><a:3><g:first><h:0><d:0><ch:online><dev:new><m:new><r:none>");
}

json valid_event() {
  return json::parse(R"({"history": [
      {"time_s": 1700000000, "amount": 12.5, "category": "grocery", "distance_km": 3.2, "channel": "pos",
       "device": null, "merchant": "m9"},
      {"time_s": 1700003600, "amount": 40, "category": "fuel", "distance_km": 1, "channel": "pos", "merchant": 3}],
    "transaction": {"time_s": 1700007200, "amount": 99.5, "category": "electronics", "distance_km": 800,
                    "channel": "online", "device": "d1", "merchant": "m2"}})");
}

void expect_error(const json& j, const std::vector<std::string>& parts) {
  try {
    fraud_event_from_json(j);
    ADD_FAILURE() << "no error for " << j.dump();
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const std::string& p : parts) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' not in: " << m;
  }
}

TEST(FraudFeatures, JsonErrorsNameTheField) {
  ASSERT_NO_THROW(fraud_event_from_json(valid_event()));
  json j = valid_event();
  j.erase("transaction");
  expect_error(j, {"transaction"});
  j = valid_event();
  j["transaction"]["amount"] = -1;
  expect_error(j, {"transaction", "amount"});
  j = valid_event();
  j["transaction"]["amount"] = "12";
  expect_error(j, {"amount", "number"});
  j = valid_event();
  j["transaction"]["category"] = "casino";
  expect_error(j, {"category", "casino"});
  j = valid_event();
  j["transaction"]["channel"] = "atm";
  expect_error(j, {"channel", "atm"});
  j = valid_event();
  j["history"] = {{"time_s", 1}};
  expect_error(j, {"history", "array"});
  j = valid_event();
  j["history"][1]["category"] = 7;
  expect_error(j, {"history[1]", "category"});
  j = valid_event();
  j["history"][1].erase("time_s");
  expect_error(j, {"history[1]", "time_s"});
  j = valid_event();
  j["transaction"]["device"] = nullptr;
  expect_error(j, {"device"});
  j = valid_event();
  j["transaction"].erase("device");
  expect_error(j, {"device"});
  j = valid_event();
  j["transaction"]["time_s"] = 1e15;
  expect_error(j, {"time_s"});
  j = valid_event();
  j["transaction"]["merchant"] = -3;
  expect_error(j, {"merchant"});
  j = valid_event();
  j["transaction"].erase("merchant");
  expect_error(j, {"merchant"});
  expect_error(json::array(), {"object"});
  j = valid_event();
  j["transaction"] = "x";
  expect_error(j, {"transaction", "object"});
  // A misspelt key is an error, not a silently absent field.
  j = valid_event();
  j["transaction"]["distance"] = 800;
  expect_error(j, {"transaction", "unknown key \"distance\"", "distance_km"});
  j = valid_event();
  j["history"][0]["Amount"] = 1;
  expect_error(j, {"history[0]", "unknown key \"Amount\""});
  j = valid_event();
  j["History"] = j["history"];
  j.erase("history");
  expect_error(j, {"unknown key \"History\"", "history"});
  // A card-present payment ignores its device, but not a malformed one.
  j = valid_event();
  j["history"][0]["device"] = {{"a", 1}};
  expect_error(j, {"history[0]", "device"});
  j = valid_event();
  j["history"][1]["device"] = "phone-7";
  EXPECT_NO_THROW(fraud_event_from_json(j));
  // Time order: history oldest first, the transaction not before it.
  j = valid_event();
  j["history"][1]["time_s"] = 1699999999;
  expect_error(j, {"history[1]", "before history[0]", "oldest first"});
  j = valid_event();
  j["transaction"]["time_s"] = 1700003599;
  expect_error(j, {"transaction", "before the last history"});
  j = valid_event();
  j["transaction"]["time_s"] = 1700003600;  // the same second is allowed
  EXPECT_NO_THROW(fraud_event_from_json(j));
  // "id" is the one extra key a record may carry (`qat score` echoes it).
  j = valid_event();
  j["id"] = "txn-42";
  EXPECT_EQ(fraud_event_text(fraud_event_from_json(j)), fraud_event_text(fraud_event_from_json(valid_event())));
}

TEST(FraudFeatures, EventsKeepEveryTransactionWhenAskedTo) {
  const FraudSimData& d = sim();
  const int first = 10, last = 60;
  const std::vector<FraudEvent> events = fraud_events(d, first, last, 1, 1, 3);
  ASSERT_EQ(int64_t(events.size()), d.customer_begin[last] - d.customer_begin[first]);
  size_t k = 0;
  for (int c = first; c < last; ++c) {
    for (int64_t i = d.customer_begin[c]; i < d.customer_begin[c + 1]; ++i, ++k) {
      const FraudEvent& e = events[k];
      ASSERT_EQ(e.current.time_s, d.transactions[i].time_s);
      ASSERT_EQ(e.current.amount, d.transactions[i].amount);
      ASSERT_EQ(e.current.fraud, d.transactions[i].fraud);  // the label travels with the event
      const int64_t n = std::min<int64_t>(kFraudHistory, i - d.customer_begin[c]);
      ASSERT_EQ(int64_t(e.history.size()), n);
      for (int64_t h = 0; h < n; ++h) {
        ASSERT_EQ(e.history[h].customer, c);
        ASSERT_EQ(e.history[h].time_s, d.transactions[i - n + h].time_s);
        ASSERT_EQ(e.history[h].amount, d.transactions[i - n + h].amount);
      }
    }
  }
}

TEST(FraudFeatures, EventsSampleLegitimateAndFraud) {
  const FraudSimData& d = sim();
  int64_t legit = 0, fraud = 0;
  for (const Transaction& t : d.transactions) (t.is_fraud() ? fraud : legit)++;
  ASSERT_GT(fraud, 100);
  const std::vector<FraudEvent> events = fraud_events(d, 0, 300, 0.2, 1, 5);
  int64_t kept_legit = 0, kept_fraud = 0;
  for (const FraudEvent& e : events) (e.current.is_fraud() ? kept_fraud : kept_legit)++;
  EXPECT_EQ(kept_fraud, fraud);
  EXPECT_GT(kept_legit, int64_t(0.17 * double(legit)));
  EXPECT_LT(kept_legit, int64_t(0.23 * double(legit)));
  // The other way round, and the same seed gives the same sample.
  const std::vector<FraudEvent> a = fraud_events(d, 0, 300, 1, 0.5, 5), b = fraud_events(d, 0, 300, 1, 0.5, 5);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i].current.time_s, b[i].current.time_s);
  int64_t a_legit = 0, a_fraud = 0;
  for (const FraudEvent& e : a) (e.current.is_fraud() ? a_fraud : a_legit)++;
  EXPECT_EQ(a_legit, legit);
  EXPECT_GT(a_fraud, int64_t(0.4 * double(fraud)));
  EXPECT_LT(a_fraud, int64_t(0.6 * double(fraud)));
  EXPECT_THROW(fraud_events(d, 0, 300, 0, 1, 1), Error);
  EXPECT_THROW(fraud_events(d, 0, 300, 1, 1.5, 1), Error);
  EXPECT_THROW(fraud_events(d, 0, 301, 1, 1, 1), Error);
  EXPECT_THROW(fraud_events(d, 5, 4, 1, 1, 1), Error);
}

}  // namespace
}  // namespace qat
