// CrowdEstimator: the live wait of each venue, Waze-style, from what
// attendees report and what the tags measure.
//
// Inputs, per venue, in (roughly) time order:
// - reports from attendees' apps: the queue length they see and/or the
//   minutes they have waited, finished or still waiting, under an anonymous
//   reporter token;
// - waits measured by tags (ARRIVED then SERVICE_STARTED of one convocation),
//   which are the truth;
// - service starts and service durations measured by tags (the venue's real
//   throughput and service time).
//
// Each report gets a verdict: a weight (0 when rejected) and, when rejected,
// a reason. The estimate is a time-decayed, robust (weighted median) blend of
// the accepted evidence, each report weighted by its reporter's trust, which
// is learned from how their past reports matched the truth (measured waits
// when there are some, the consensus otherwise). Reports that contradict the
// venue's throughput by Little's law (queue ~ throughput x wait) or physical
// bounds are rejected, and one reporter counts at most once per interval.
//
// The estimate blends two time scales, in log(1 + wait) space where waits
// are roughly symmetric: the venue's typical wait at this hour of the day
// (a profile learned over weeks) and how far today runs above or below it
// (a level learned over the last hour and the last days). A venue seen only
// a few times therefore still has a useful answer at a quiet moment, and a
// fresh burst of reports moves it quickly.
//
// Clock: every time is the venue's wall clock (LocalTime), so that the
// hour-of-day profile follows the venue's day. Evidence may come slightly
// out of order.
//
// Pure computation: no I/O, no clock (times are passed in). Not thread-safe.
#ifndef NOQUEUE_MODEL_CROWD_ESTIMATOR_H_
#define NOQUEUE_MODEL_CROWD_ESTIMATOR_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "model/local_time.h"

namespace noqueue::model {

struct QueueReport {
  LocalTime at;                        // when observed
  std::optional<double> queue_length;  // people seen ahead, >= 0
  std::optional<double> waited_min;    // minutes waited so far, >= 0
  bool finished = false;               // waited_min is the whole wait
  std::string reporter;                // opaque token, never empty
  // When the report reached the server (unset: `at`). The once-per-interval
  // rule counts on it, so back-dating cannot dodge it.
  std::optional<LocalTime> received;
};

enum class ReportRejection {
  kNone = 0,
  kRateLimited,  // the reporter already counted at this venue recently
  kLittlesLaw,   // queue and wait contradict the venue's throughput
  kImplausible,  // beyond what the venue can physically hold
  kNoValue,      // neither queue length nor wait
};
const char* ReportRejectionName(ReportRejection r);

struct ReportVerdict {
  double weight = 0.0;  // 0 when rejected
  ReportRejection rejection = ReportRejection::kNone;
  // The wait (minutes) this report stands for, after conversion of a queue
  // length by the venue's throughput; NaN when it has none.
  double implied_wait_min = 0.0;
  double reporter_trust = 0.0;  // trust in this reporter before the report
};

struct VenueLiveStatus {
  bool known = false;  // false: too little evidence to say anything
  double wait_p50_min = 0.0;
  double wait_p90_min = 0.0;
  double queue_length = 0.0;
  int reports_used = 0;               // reports with weight behind the estimate
  int tags_used = 0;                  // measured waits behind the estimate
  double confidence = 0.0;            // 0..1
  double service_rate_per_min = 0.0;  // attendees served per minute
  LocalTime as_of;
};

struct CrowdOptions {
  double level_half_life_min = 60.0;          // today's level vs the profile
  double days_half_life_min = 3 * 24 * 60.0;  // the last days' level
  double profile_half_life_days = 60.0;       // the hour-of-day profile
  double reporter_interval_minutes = 5.0;     // one counted report per token
  double max_wait_min = 12 * 60.0;            // physical bound
  // Robustness: a piece of evidence moves the estimate by at most this much
  // in log(1 + wait) (Huber clipping).
  double huber_log = 0.8;
  // A reporter agrees with the truth when within this much in log(1+wait).
  double agree_log = 0.7;
  double tag_weight = 2.0;  // a measured wait counts as this many reports
  // Recent evidence shown as reports_used / tags_used: this many minutes.
  double recent_window_min = 120.0;
  int max_reporters = 1 << 16;  // trust memory, oldest forgotten first
};

class CrowdEstimator {
 public:
  explicit CrowdEstimator(CrowdOptions options = {});
  ~CrowdEstimator();
  CrowdEstimator(CrowdEstimator&&) noexcept;
  CrowdEstimator& operator=(CrowdEstimator&&) noexcept;

  // What the venue declares: its desks and mean service minutes per
  // attendee. The prior of its throughput until tags measure it.
  void SetVenueCapacity(const std::string& venue_id, int service_points,
                        double mean_service_min);

  ReportVerdict AddReport(const std::string& venue_id,
                          const QueueReport& report);
  // A wait measured by tags: the attendee arrived at `arrival` and was
  // served from `start`.
  void AddMeasuredWait(const std::string& venue_id, LocalTime arrival,
                       LocalTime start);
  // A service measured by tags, for the venue's throughput and service time.
  void AddService(const std::string& venue_id, LocalTime start,
                  double duration_min);

  VenueLiveStatus Status(const std::string& venue_id, LocalTime now) const;
  // The venue's mean service minutes per attendee, learned from tags (or
  // from reports by Little's law), shrunk towards the declared one; nullopt
  // when the venue is unknown.
  std::optional<double> LearnedServiceMinutes(
      const std::string& venue_id) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace noqueue::model

#endif  // NOQUEUE_MODEL_CROWD_ESTIMATOR_H_
