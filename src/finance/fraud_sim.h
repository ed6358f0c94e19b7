// A card-transaction simulator in the spirit of PaySim: SIMULATED data, not
// real card data (no real card-fraud data is available to the project).
//
// Customers have spending profiles (favourite merchant categories and
// merchants, amounts scaled by wealth, active hours, share of online
// purchases, one or two devices, occasional trips, new phones, big one-off
// purchases). Fraud is injected as episodes until it is about fraud_rate of
// all transactions:
//  - card testing: a burst of tiny online charges from a new device, often
//    followed by one large purchase;
//  - account takeover: a new device far from home (often at night), then
//    large transfers;
//  - compromised merchant: cards used at a breached merchant during a window
//    are later charged online for electronics / gift cards / jewellery;
//  - velocity: a stolen physical card used at many shops within two hours.
// A share of episodes imitate the customer's habits (near home, usual
// hours), so the task is not trivially separable.
// Deterministic: the same options give the same transactions on every
// platform (sim_random.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qat {

enum class FraudPattern : uint8_t { None, CardTesting, AccountTakeover, CompromisedMerchant, Velocity };
const char* fraud_pattern_name(FraudPattern p);  // "none", "card_testing", ...

enum class Channel : uint8_t { CardPresent, Online, Transfer };
const char* channel_name(Channel c);  // "pos", "online", "transfer"
// "pos" | "online" | "transfer" -> Channel; false when unknown.
bool parse_channel(const std::string& name, Channel* out);

// Merchant categories (index = Transaction::category).
const std::vector<std::string>& merchant_categories();

struct Transaction {
  int64_t time_s = 0;        // seconds since the simulation's start (day 0, 00:00 local time)
  int32_t customer = 0;
  int32_t merchant = 0;
  int32_t category = 0;      // index into merchant_categories()
  double amount = 0;         // dollars
  double distance_km = 0;    // where it happened (terminal, or the device's IP location) to the customer's home
  uint32_t device = 0;       // 0: card present at a terminal; else the online device's id
  Channel channel = Channel::CardPresent;
  FraudPattern fraud = FraudPattern::None;

  bool is_fraud() const { return fraud != FraudPattern::None; }
};

struct FraudSimOptions {
  uint64_t seed = 1234;
  int customers = 2000;
  int merchants = 800;
  int days = 60;
  double fraud_rate = 0.015;  // target share of fraudulent transactions (0.001 .. 0.2)
};

struct FraudSimData {
  // Grouped by customer (0, 1, ...), in time order within a customer.
  std::vector<Transaction> transactions;
  std::vector<int64_t> customer_begin;  // (customers + 1) offsets into transactions
  int64_t fraud_count = 0;
  int64_t pattern_counts[5] = {};  // transactions per FraudPattern
};

// Throws qat::Error for options out of range.
FraudSimData simulate_fraud(const FraudSimOptions& options);

}  // namespace qat
