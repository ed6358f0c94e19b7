// The card-transaction simulator (fraud_sim.h): deterministic for a seed,
// fraud near the requested rate, all four fraud patterns, a well-formed
// customer grouping, and clear errors for options out of range.
#include "finance/fraud_sim.h"

#include <gtest/gtest.h>

#include <string>

#include "base/error.h"

namespace qat {
namespace {

FraudSimOptions small_options(uint64_t seed = 7, double rate = 0.02) {
  FraudSimOptions o;
  o.seed = seed;
  o.customers = 300;
  o.merchants = 200;
  o.days = 30;
  o.fraud_rate = rate;
  return o;
}

bool same(const Transaction& a, const Transaction& b) {
  return a.time_s == b.time_s && a.customer == b.customer && a.merchant == b.merchant && a.category == b.category &&
         a.amount == b.amount && a.distance_km == b.distance_km && a.device == b.device && a.channel == b.channel &&
         a.fraud == b.fraud;
}

TEST(FraudSim, SameOptionsGiveIdenticalTransactions) {
  const FraudSimData a = simulate_fraud(small_options(11));
  const FraudSimData b = simulate_fraud(small_options(11));
  ASSERT_GT(a.transactions.size(), 1000u);
  ASSERT_EQ(a.transactions.size(), b.transactions.size());
  for (size_t i = 0; i < a.transactions.size(); ++i) {
    const Transaction &x = a.transactions[i], &y = b.transactions[i];
    ASSERT_EQ(x.time_s, y.time_s) << i;
    ASSERT_EQ(x.customer, y.customer) << i;
    ASSERT_EQ(x.merchant, y.merchant) << i;
    ASSERT_EQ(x.category, y.category) << i;
    ASSERT_EQ(x.amount, y.amount) << i;  // bit for bit
    ASSERT_EQ(x.distance_km, y.distance_km) << i;
    ASSERT_EQ(x.device, y.device) << i;
    ASSERT_EQ(x.channel, y.channel) << i;
    ASSERT_EQ(x.fraud, y.fraud) << i;
  }
  EXPECT_EQ(a.customer_begin, b.customer_begin);
  EXPECT_EQ(a.fraud_count, b.fraud_count);
  for (int p = 0; p < 5; ++p) EXPECT_EQ(a.pattern_counts[p], b.pattern_counts[p]) << p;
}

TEST(FraudSim, DifferentSeedGivesDifferentTransactions) {
  const FraudSimData a = simulate_fraud(small_options(11));
  const FraudSimData b = simulate_fraud(small_options(12));
  bool differ = a.transactions.size() != b.transactions.size();
  for (size_t i = 0; !differ && i < a.transactions.size(); ++i) differ = !same(a.transactions[i], b.transactions[i]);
  EXPECT_TRUE(differ);
  // Not just a different tail: the very first customer's data already differs.
  EXPECT_FALSE(same(a.transactions[0], b.transactions[0]) && a.customer_begin[1] == b.customer_begin[1]);
}

TEST(FraudSim, FraudShareIsNearTheRequestedRate) {
  for (double rate : {0.01, 0.05}) {
    const FraudSimData d = simulate_fraud(small_options(5, rate));
    int64_t fraud = 0;
    for (const Transaction& t : d.transactions) fraud += t.is_fraud();
    EXPECT_EQ(fraud, d.fraud_count);
    const double share = double(d.fraud_count) / double(d.transactions.size());
    EXPECT_GT(share, rate * 0.7) << "rate " << rate << ": " << d.fraud_count << " of " << d.transactions.size();
    EXPECT_LT(share, rate * 1.3) << "rate " << rate << ": " << d.fraud_count << " of " << d.transactions.size();
  }
}

TEST(FraudSim, AllFourPatternsOccur) {
  FraudSimOptions o;  // the defaults, on fewer customers
  o.customers = 500;
  const FraudSimData d = simulate_fraud(o);
  int64_t counted[5] = {};
  for (const Transaction& t : d.transactions) counted[int(t.fraud)]++;
  int64_t fraud = 0;
  for (int p = 0; p < 5; ++p) {
    EXPECT_EQ(counted[p], d.pattern_counts[p]) << fraud_pattern_name(FraudPattern(p));
    if (p > 0) {
      EXPECT_GT(d.pattern_counts[p], 0) << fraud_pattern_name(FraudPattern(p)) << " never occurs";
      fraud += d.pattern_counts[p];
    }
  }
  EXPECT_EQ(fraud, d.fraud_count);
  EXPECT_GT(d.pattern_counts[0], 0);
}

TEST(FraudSim, CustomersAreGroupedAndSortedByTime) {
  const FraudSimOptions o = small_options(3);
  const FraudSimData d = simulate_fraud(o);
  ASSERT_EQ(d.customer_begin.size(), size_t(o.customers) + 1);
  EXPECT_EQ(d.customer_begin.front(), 0);
  EXPECT_EQ(d.customer_begin.back(), int64_t(d.transactions.size()));
  for (int c = 0; c < o.customers; ++c) {
    ASSERT_LE(d.customer_begin[c], d.customer_begin[c + 1]) << c;
    for (int64_t i = d.customer_begin[c]; i < d.customer_begin[c + 1]; ++i) {
      ASSERT_EQ(d.transactions[i].customer, c) << i;
      if (i > d.customer_begin[c]) {
        ASSERT_LE(d.transactions[i - 1].time_s, d.transactions[i].time_s) << i;
      }
    }
  }
}

TEST(FraudSim, FieldsAreInRange) {
  const FraudSimOptions o = small_options(9, 0.05);
  const FraudSimData d = simulate_fraud(o);
  int64_t card_testing = 0;
  for (const Transaction& t : d.transactions) {
    ASSERT_GE(t.time_s, 0);
    ASSERT_LT(t.time_s, int64_t(o.days) * 86400);
    ASSERT_GT(t.amount, 0);
    ASSERT_GE(t.distance_km, 0);
    ASSERT_GE(t.merchant, 0);
    ASSERT_LT(t.merchant, o.merchants);
    ASSERT_GE(t.category, 0);
    ASSERT_LT(size_t(t.category), merchant_categories().size());
    // A card at a terminal has no device; online and transfers have one.
    ASSERT_EQ(t.device == 0, t.channel == Channel::CardPresent);
    if (t.fraud == FraudPattern::CardTesting && t.category != 5 /* the electronics cash-out */) {
      ++card_testing;
      ASSERT_LT(t.amount, 3.01);
    }
  }
  EXPECT_GT(card_testing, 0);
}

TEST(FraudSim, NamesAndChannels) {
  EXPECT_STREQ(fraud_pattern_name(FraudPattern::None), "none");
  EXPECT_STREQ(fraud_pattern_name(FraudPattern::CardTesting), "card_testing");
  EXPECT_STREQ(fraud_pattern_name(FraudPattern::Velocity), "velocity");
  for (Channel c : {Channel::CardPresent, Channel::Online, Channel::Transfer}) {
    Channel back = Channel::CardPresent;
    EXPECT_TRUE(parse_channel(channel_name(c), &back));
    EXPECT_EQ(back, c);
  }
  Channel x = Channel::Online;
  EXPECT_FALSE(parse_channel("atm", &x));
  EXPECT_EQ(merchant_categories().size(), 14u);
  EXPECT_EQ(merchant_categories()[0], "grocery");
}

TEST(FraudSim, InvalidOptionsThrow) {
  auto with = [](auto change) {
    FraudSimOptions o = small_options();
    change(o);
    return o;
  };
  EXPECT_THROW(simulate_fraud(with([](FraudSimOptions& o) { o.customers = 0; })), Error);
  EXPECT_THROW(simulate_fraud(with([](FraudSimOptions& o) { o.days = 1; })), Error);
  EXPECT_THROW(simulate_fraud(with([](FraudSimOptions& o) { o.fraud_rate = 0.5; })), Error);
  EXPECT_THROW(simulate_fraud(with([](FraudSimOptions& o) { o.fraud_rate = 0.0; })), Error);
  EXPECT_THROW(simulate_fraud(with([](FraudSimOptions& o) { o.merchants = 3; })), Error);
  try {
    simulate_fraud(with([](FraudSimOptions& o) { o.days = 1; }));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("days"), std::string::npos) << e.what();
  }
  // The edges of the ranges are accepted.
  EXPECT_NO_THROW(simulate_fraud(with([](FraudSimOptions& o) {
    o.customers = 1;
    o.days = 2;
    o.merchants = 14;
    o.fraud_rate = 0.2;
  })));
}

}  // namespace
}  // namespace qat
