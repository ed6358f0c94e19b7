#include "finance/fraud_sim.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "finance/sim_random.h"

namespace qat {

namespace {

constexpr int64_t kDay = 86400, kHour = 3600, kMinute = 60;

struct CategoryInfo {
  const char* name;
  double median_amount;  // dollars, before the customer's wealth factor
  double popularity;     // relative share of legitimate purchases
  double online_bias;    // multiplies the customer's online share
};

// Category 12 (transfer) is a bank transfer, not a purchase at a merchant.
const CategoryInfo kCategories[] = {
    {"grocery", 45, 10, 0.3},     {"restaurant", 30, 7, 0.2},    {"fuel", 40, 5, 0.0},
    {"pharmacy", 20, 3, 0.3},     {"clothing", 60, 3, 1.2},      {"electronics", 150, 1.2, 1.8},
    {"travel", 300, 0.6, 2.0},    {"entertainment", 25, 3, 1.5}, {"utilities", 90, 1.5, 2.0},
    {"online_retail", 40, 4, 3.0}, {"gift_cards", 50, 0.5, 1.5}, {"jewelry", 200, 0.3, 0.8},
    {"transfer", 200, 1.0, 0.0},  {"cash", 100, 1.5, 0.0}};
constexpr int kNumCategories = int(sizeof(kCategories) / sizeof(kCategories[0]));
enum : int { kGrocery = 0, kFuel = 2, kClothing = 4, kElectronics = 5, kEntertainment = 7, kOnlineRetail = 9,
             kGiftCards = 10, kJewelry = 11, kTransfer = 12 };

struct Customer {
  std::vector<double> category_weights;
  std::vector<int32_t> favourite_merchant;  // per category
  double wealth = 1, rate_per_day = 1, peak_hour = 12, online_share = 0.2;
  std::vector<uint32_t> devices;
};

int poisson(SimRandom& r, double lambda) {  // Knuth; lambda is small here
  const double limit = std::exp(-lambda);
  int k = 0;
  for (double p = r.uniform(); p > limit; p *= r.uniform()) ++k;
  return k;
}

class Simulator {
 public:
  explicit Simulator(const FraudSimOptions& o) : o_(o), rng_(o.seed) {
    for (int m = 0; m < o.merchants; ++m) merchant_category_.push_back(m % kNumCategories);
  }

  FraudSimData run() {
    std::vector<std::vector<Transaction>> per_customer(o_.customers);
    customers_.resize(o_.customers);
    int64_t legit = 0;
    for (int c = 0; c < o_.customers; ++c) {
      make_customer(c);
      legitimate(c, per_customer[c]);
      legit += int64_t(per_customer[c].size());
    }
    inject_fraud(per_customer, legit);
    FraudSimData d;
    d.customer_begin.push_back(0);
    for (auto& txs : per_customer) {
      std::stable_sort(txs.begin(), txs.end(),
                       [](const Transaction& a, const Transaction& b) { return a.time_s < b.time_s; });
      for (const Transaction& t : txs) {
        d.transactions.push_back(t);
        d.pattern_counts[int(t.fraud)]++;
        d.fraud_count += t.is_fraud();
      }
      d.customer_begin.push_back(int64_t(d.transactions.size()));
    }
    return d;
  }

 private:
  int32_t merchant_in(int category) {  // a random merchant of the category
    const int per = std::max(1, o_.merchants / kNumCategories);
    return int32_t(std::min(o_.merchants - 1, category + kNumCategories * rng_.below(per)));
  }

  void make_customer(int c) {
    Customer& u = customers_[c];
    for (int k = 0; k < kNumCategories; ++k) {
      const double taste = rng_.uniform();
      u.category_weights.push_back(kCategories[k].popularity * (0.1 + taste * taste * 2));
      u.favourite_merchant.push_back(merchant_in(k));
    }
    u.wealth = std::clamp(rng_.lognormal(1.0, 0.5), 0.2, 6.0);
    u.rate_per_day = std::clamp(rng_.lognormal(1.2, 0.5), 0.2, 5.0);
    u.peak_hour = rng_.uniform(9, 20);
    u.online_share = rng_.uniform(0.05, 0.45);
    u.devices.push_back(next_device_++);
    if (rng_.chance(0.4)) u.devices.push_back(next_device_++);
  }

  int64_t hour_time(int64_t day, double hour) {  // a time on a day at about `hour` (wraps within the day)
    double h = std::fmod(hour, 24.0);
    if (h < 0) h += 24;
    return day * kDay + int64_t(h * kHour);
  }

  void legitimate(int c, std::vector<Transaction>& out) {
    Customer& u = customers_[c];
    int64_t trip_until = -1;
    double trip_km = 0;
    for (int64_t day = 0; day < o_.days; ++day) {
      if (day > trip_until && rng_.chance(0.012)) {  // a trip: purchases far from home for 2-7 days
        trip_until = day + 1 + rng_.below(6);
        trip_km = rng_.uniform(300, 3000);
      }
      if (rng_.chance(0.003)) u.devices[0] = next_device_++;  // a new phone (legitimate new device)
      const bool travelling = day <= trip_until;
      const int n = poisson(rng_, u.rate_per_day);
      for (int i = 0; i < n; ++i) {
        Transaction t;
        t.customer = c;
        t.category = rng_.pick(u.category_weights);
        const CategoryInfo& cat = kCategories[t.category];
        // Two draws, in this order (one expression would leave their order to
        // the compiler); the minutes wrap within the day, so that no purchase
        // falls after the last day.
        const int64_t at = hour_time(day, u.peak_hour + 3.5 * rng_.normal());
        t.time_s = day * kDay + (at - day * kDay + rng_.below(3600)) % kDay;
        t.amount = rng_.lognormal(cat.median_amount * u.wealth, 0.7);
        if (rng_.chance(0.01)) t.amount *= rng_.uniform(4, 12);  // an occasional big purchase
        if (t.category == kTransfer) t.channel = Channel::Transfer;
        else if (rng_.chance(std::min(0.95, u.online_share * cat.online_bias))) t.channel = Channel::Online;
        t.merchant = rng_.chance(0.65) ? u.favourite_merchant[t.category] : merchant_in(t.category);
        t.device = t.channel == Channel::CardPresent ? 0 : u.devices[rng_.below(int(u.devices.size()))];
        t.distance_km = travelling ? trip_km + rng_.lognormal(5, 1.0) : rng_.lognormal(4, 0.9);
        out.push_back(t);
      }
    }
  }

  // Fraud transactions on customer c starting about at time t0.
  Transaction fraud_tx(int c, int64_t t, FraudPattern p) {
    Transaction f;
    f.customer = c;
    f.time_s = t;
    f.fraud = p;
    return f;
  }

  // An online fraud charge at a random merchant of the category. The caller
  // draws category and amount in statements of their own before calling, so
  // the random draws keep one order on every compiler.
  Transaction online_charge(int c, int64_t t, FraudPattern p, int category, double amount, uint32_t device,
                            double km) {
    Transaction f = fraud_tx(c, t, p);
    f.category = category;
    f.amount = amount;
    f.channel = Channel::Online;
    f.merchant = merchant_in(category);
    f.device = device;
    f.distance_km = km;
    return f;
  }

  // Episodes imitating the customer (near home, a known device, usual
  // hours) are the hard cases.
  bool sneaky() { return rng_.chance(0.15); }

  void card_testing(int c, int64_t t0, std::vector<Transaction>& out) {
    const bool quiet = sneaky();
    const uint32_t dev = quiet ? customers_[c].devices[0] : next_device_++;
    const double km = quiet ? rng_.lognormal(5, 0.8) : rng_.lognormal(800, 1.0);
    int64_t t = t0;
    const int n = 3 + rng_.below(6);
    const int cats[] = {kOnlineRetail, kGiftCards, kEntertainment};
    for (int i = 0; i < n; ++i) {
      const int category = cats[rng_.below(3)];
      const double amount = rng_.uniform(0.5, 3.0);
      out.push_back(online_charge(c, t, FraudPattern::CardTesting, category, amount, dev, km));
      t += kMinute * (1 + rng_.below(20));
    }
    if (rng_.chance(0.6)) {  // the card works: cash it out
      const int64_t when = t + kHour * (1 + rng_.below(6));
      const double amount = rng_.lognormal(400, 0.6);
      out.push_back(online_charge(c, when, FraudPattern::CardTesting, kElectronics, amount, dev, km));
    }
  }

  void account_takeover(int c, int64_t t0, std::vector<Transaction>& out) {
    const bool quiet = sneaky();
    const uint32_t dev = next_device_++;
    const double km = quiet ? rng_.lognormal(10, 0.8) : rng_.lognormal(1000, 0.8);
    int64_t t = quiet ? t0 : (t0 / kDay) * kDay + kHour * (1 + rng_.below(4));  // often at night
    const int n = 1 + rng_.below(3);
    for (int i = 0; i < n; ++i) {
      Transaction f = fraud_tx(c, t, FraudPattern::AccountTakeover);
      f.category = kTransfer;
      f.amount = rng_.lognormal(1500 * customers_[c].wealth, 0.5);
      f.channel = Channel::Transfer;
      f.merchant = merchant_in(kTransfer);
      f.device = dev;
      f.distance_km = km;
      out.push_back(f);
      t += kMinute * (20 + rng_.below(300));
    }
  }

  void velocity(int c, int64_t t0, std::vector<Transaction>& out) {
    const bool quiet = sneaky();
    int64_t t = t0;
    const int n = 4 + rng_.below(7);
    const int cats[] = {kElectronics, kJewelry, kClothing, kFuel, kGiftCards, kGrocery};
    for (int i = 0; i < n; ++i) {
      Transaction f = fraud_tx(c, t, FraudPattern::Velocity);
      f.category = cats[rng_.below(6)];
      f.amount = rng_.lognormal(quiet ? 60 : 150, 0.6);
      f.merchant = merchant_in(f.category);
      f.distance_km = rng_.lognormal(quiet ? 5 : 30, 1.0);
      out.push_back(f);
      t += kMinute * (3 + rng_.below(25));
    }
  }

  // A breached merchant: customers who paid there during a window are later
  // charged online by one fraudster device.
  int64_t compromised_merchant(std::vector<std::vector<Transaction>>& per_customer, const Transaction& seen,
                               std::vector<Transaction>& staged) {
    const uint32_t dev = next_device_++;
    int64_t added = 0;
    for (size_t c = 0; c < per_customer.size(); ++c) {
      for (const Transaction& t : per_customer[c]) {
        if (t.merchant != seen.merchant || t.is_fraud() || std::llabs(t.time_s - seen.time_s) > 3 * kDay) continue;
        if (!rng_.chance(0.5)) break;
        const bool quiet = sneaky();
        int64_t when = t.time_s + kDay * (1 + rng_.below(14));
        const int n = 1 + rng_.below(3);
        const int cats[] = {kElectronics, kGiftCards, kJewelry, kOnlineRetail};
        for (int i = 0; i < n && when < o_.days * kDay; ++i) {
          Transaction f = fraud_tx(int(c), when, FraudPattern::CompromisedMerchant);
          f.category = cats[rng_.below(4)];
          f.amount = rng_.lognormal(quiet ? 80 : 250, 0.8);
          f.channel = Channel::Online;
          f.merchant = merchant_in(f.category);
          f.device = quiet ? customers_[c].devices[0] : dev;
          f.distance_km = quiet ? rng_.lognormal(5, 0.8) : rng_.lognormal(1500, 0.6);
          staged.push_back(f);
          ++added;
          when += kMinute * (5 + rng_.below(120));
        }
        break;  // one charge series per customer and breach
      }
    }
    return added;
  }

  void inject_fraud(std::vector<std::vector<Transaction>>& per_customer, int64_t legit) {
    const int64_t target = int64_t(std::llround(o_.fraud_rate * double(legit) / (1.0 - o_.fraud_rate)));
    const int64_t start = std::min<int64_t>(7, o_.days - 1) * kDay;  // customers have some history first
    const int64_t span = o_.days * kDay - start;
    std::vector<Transaction> staged;
    int64_t done = 0;
    for (int guard = 0; done < target && guard < 100000; ++guard) {
      const int c = rng_.below(o_.customers);
      const int64_t t0 = start + int64_t(rng_.uniform() * double(span));
      const size_t before = staged.size();
      switch (rng_.pick({0.25, 0.25, 0.3, 0.2})) {
        case 0: card_testing(c, t0, staged); break;
        case 1: account_takeover(c, t0, staged); break;
        case 2: {
          const auto& txs = per_customer[c];
          if (!txs.empty()) done += compromised_merchant(per_customer, txs[rng_.below(int(txs.size()))], staged);
          continue;
        }
        default: velocity(c, t0, staged); break;
      }
      done += int64_t(staged.size() - before);
    }
    for (Transaction& f : staged)
      if (f.time_s < o_.days * kDay) per_customer[f.customer].push_back(f);
  }

  FraudSimOptions o_;
  SimRandom rng_;
  std::vector<Customer> customers_;
  std::vector<int> merchant_category_;
  uint32_t next_device_ = 1;
};

}  // namespace

const char* fraud_pattern_name(FraudPattern p) {
  switch (p) {
    case FraudPattern::None: return "none";
    case FraudPattern::CardTesting: return "card_testing";
    case FraudPattern::AccountTakeover: return "account_takeover";
    case FraudPattern::CompromisedMerchant: return "compromised_merchant";
    case FraudPattern::Velocity: return "velocity";
  }
  return "?";
}

const char* channel_name(Channel c) {
  switch (c) {
    case Channel::CardPresent: return "pos";
    case Channel::Online: return "online";
    case Channel::Transfer: return "transfer";
  }
  return "?";
}

bool parse_channel(const std::string& name, Channel* out) {
  for (Channel c : {Channel::CardPresent, Channel::Online, Channel::Transfer})
    if (name == channel_name(c)) {
      *out = c;
      return true;
    }
  return false;
}

const std::vector<std::string>& merchant_categories() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const CategoryInfo& c : kCategories) v.push_back(c.name);
    return v;
  }();
  return names;
}

FraudSimData simulate_fraud(const FraudSimOptions& o) {
  QAT_CHECK(o.customers >= 1 && o.customers <= 10000000, "fraud simulator: customers must be in [1, 1e7], got ",
            o.customers);
  QAT_CHECK(o.merchants >= 14 && o.merchants <= 10000000, "fraud simulator: merchants must be in [14, 1e7], got ",
            o.merchants);
  QAT_CHECK(o.days >= 2 && o.days <= 3650, "fraud simulator: days must be in [2, 3650], got ", o.days);
  QAT_CHECK(o.fraud_rate >= 0.001 && o.fraud_rate <= 0.2, "fraud simulator: the fraud rate must be in [0.001, 0.2], got ",
            o.fraud_rate);
  return Simulator(o).run();
}

}  // namespace qat
