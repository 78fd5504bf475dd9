// NoShowModel: the probability that an attendee does not come, learned
// online by logistic regression on hashed sparse tokens with FTRL-proximal
// updates (McMahan et al. 2013: per-coordinate learning rates, L1 and L2).
//
// Tokens are what is known of one convocation, bucketed so that a linear
// model can bend: lead-time bands, the attendee's record (visits, no-shows,
// last outcome), weekday, hour, venue, type, each named feature's z-score
// band, and crosses of the lead time and record with everything else. The
// type's literature no-show rate is a fixed offset, so a model that has seen
// nothing predicts the prior.
#ifndef NOQUEUE_MODEL_NO_SHOW_MODEL_H_
#define NOQUEUE_MODEL_NO_SHOW_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "model/byte_codec.h"

namespace noqueue::model {

// Builds the token list of one convocation.
class NoShowTokens {
 public:
  // A categorical fact: group and value, e.g. ("lead", "8-14").
  void Add(const char* group, const std::string& value);
  void Add(const char* group, int64_t value);
  // Adds the crosses of every `primary` token with every other token. Call
  // once, after all Add calls.
  void Cross(int primary_count);
  const std::vector<uint64_t>& tokens() const { return tokens_; }

 private:
  std::vector<uint64_t> tokens_;
};

class NoShowModel {
 public:
  static constexpr int kLog2Slots = 17;

  NoShowModel();

  // P(no-show) given the tokens and the prior's log-odds.
  double Predict(const std::vector<uint64_t>& tokens, double prior_logit) const;
  // Learns one outcome.
  void Learn(const std::vector<uint64_t>& tokens, double prior_logit,
             bool no_show);

  void Write(ByteWriter& w) const;
  bool Read(ByteReader& r);

 private:
  double Weight(size_t slot) const;
  double Margin(const std::vector<uint64_t>& tokens, double prior_logit) const;

  std::vector<float> z_;
  std::vector<float> n_;
};

}  // namespace noqueue::model

#endif  // NOQUEUE_MODEL_NO_SHOW_MODEL_H_
