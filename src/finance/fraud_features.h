// A scoring event (a customer's recent transactions plus the new one) as the
// text a fraud classifier reads: one "<...>" symbol per feature, each a
// single token of the fraud vocabulary (finance/symbol_tokenizer.h).
//
// Per transaction, oldest first, the new one last:
//   <t> or <now>   history transaction / the one to score
//   <c:grocery>    merchant category
//   <a:7>          amount bucket (log-spaced dollars: kAmountEdges)
//   <g:3>          time since the previous transaction in the event (<g:first> for the oldest)
//   <h:4>          hour of day in 3-hour buckets (0 = 00:00-02:59)
//   <d:2>          distance from home bucket (kDistanceEdges, km)
//   <ch:online>    channel: pos | online | transfer
//   <dev:card>     card present; online: <dev:known> (seen earlier in the event) or <dev:new>
//   <m:known>      merchant seen earlier in the event, else <m:new>
// and for the new transaction only:
//   <r:3>          its amount / the median history amount (kRatioEdges; <r:none> without history)
// Example: "<t><c:grocery><a:5><g:first><h:6><d:1><ch:pos><dev:card><m:new><now>...<r:2>".
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "finance/fraud_sim.h"

namespace qat {

constexpr int kFraudHistory = 6;  // history transactions serialized per event

struct FraudEvent {
  std::vector<Transaction> history;  // oldest first, at most kFraudHistory used (the last ones)
  Transaction current;
};

std::string fraud_event_text(const FraudEvent& event);

// Every symbol fraud_event_text can write (the classifier's vocabulary).
std::vector<std::string> fraud_vocabulary();

// The JSON form `qat score` reads, one object per line:
// {"history": [TX, ...], "transaction": TX}, TX = {"time_s": 1700000000,
//  "amount": 12.5, "category": "grocery", "distance_km": 3.2, "channel": "pos",
//  "device": "d1" | 17 | null, "merchant": "m9" | 9}
// time_s is seconds (any epoch; the hour of day is time_s mod 86400, local
// time). qat::Error names the field and the problem.
FraudEvent fraud_event_from_json(const nlohmann::json& j);
nlohmann::json fraud_event_to_json(const FraudEvent& event);

// Scoring events of customers [first, last) of simulated data: each of
// their transactions with its preceding kFraudHistory as history. A
// legitimate event is kept with probability keep_legit, a fraudulent one
// with keep_fraud (both in (0, 1]), drawn with SimRandom(seed).
std::vector<FraudEvent> fraud_events(const FraudSimData& data, int first, int last, double keep_legit,
                                     double keep_fraud, uint64_t seed);

}  // namespace qat
