// The messages of noqueue-bench's workloads: its venues, schedules, crowd
// reports and the tag plan (a big station's days of tags), shared by the
// throughput points and the soak.
#ifndef NOQUEUE_BENCH_WORKLOADS_H_
#define NOQUEUE_BENCH_WORKLOADS_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "noqueue/v1/arrival.pb.h"
#include "noqueue/v1/crowd.pb.h"
#include "noqueue/v1/scheduling.pb.h"
#include "noqueue/v1/venue.pb.h"
#include "proto/base/wire_time.h"

namespace noqueue::bench {

namespace v1 = ::noqueue::v1;

// A station-like venue sized for n attendees over a four-hour window at
// about 85% load: one desk per ~136 attendees of 1.5 minutes.
v1::Venue BenchVenue(int n);

// Yesterday at 08:00 UTC: tags on it are in the past, as real ones are.
absl::Time Day();

// A schedule of n attendees over four hours, `days_before` days before
// yesterday morning.
v1::CreateScheduleRequest ScheduleRequest(int n, int days_before = 0);

// The name of CreateSchedule(n)'s workload with a search budget of
// `budget_ms` (nullopt: the server's default, no planning.time_budget).
std::string ScheduleWorkload(int n, std::optional<double> budget_ms);

// A big station's days of tags: a pool of schedules, one a day (the pool's
// first is the oldest), every convocation tagged ARRIVED (around its time),
// then SERVICE_STARTED and SERVICE_ENDED (3 and 5 minutes later) while the
// doors tag the next kLag convocations, in the order of the convocation
// times, each tag once, in one sequence shared by all streams: the store and
// the model do the work of real tags (an arrival learned, a wait or a
// service measured). Past the pool the sequence starts over: tags of a kind
// a convocation already has, which cost less; repeats() counts them.
class TagPlan {
 public:
  static constexpr int kAttendees = 10000;  // per schedule of the pool
  static constexpr int64_t kLag = 64;
  struct Schedule {
    std::string id;
    std::vector<std::pair<std::string, absl::Time>> convocations;  // by time
  };

  TagPlan(std::vector<Schedule> schedules, std::string run)
      : schedules_(std::move(schedules)), run_(std::move(run)) {
    for (Schedule& s : schedules_) {
      std::stable_sort(
          s.convocations.begin(), s.convocations.end(),
          [](const auto& a, const auto& b) { return a.second < b.second; });
      starts_.push_back(pool_);
      pool_ += static_cast<int64_t>(s.convocations.size());
    }
  }
  // One schedule of kAttendees convoked evenly over four hours, for the
  // sizes of messages and rows without a server.
  static TagPlan Synthetic(const std::string& run) {
    Schedule s{"sch_0123456789abcdef0123456789ab", {}};
    for (int i = 0; i < kAttendees; ++i) {
      s.convocations.emplace_back(
          absl::StrCat("traveller-", i),
          Day() + absl::Minutes(240.0 * i / kAttendees));
    }
    return TagPlan({std::move(s)}, run);
  }

  int64_t pool() const { return pool_; }
  int64_t issued() const { return next_.load(); }
  int64_t repeats() const { return repeats_.load(); }

  void Next(const std::string& device, v1::ArrivalEvent* e) {
    static constexpr v1::ArrivalKind kKinds[] = {
        v1::ARRIVED, v1::SERVICE_STARTED, v1::SERVICE_ENDED};
    static constexpr int kMinutesAfter[] = {0, 3, 5};
    const int64_t g = next_++;
    const int k = static_cast<int>(g % 3);
    const int64_t slot = g / 3 - kLag * k;
    if (slot >= pool_) ++repeats_;
    int64_t conv = (slot % pool_ + pool_) % pool_;
    const size_t k_schedule =
        std::upper_bound(starts_.begin(), starts_.end(), conv) -
        starts_.begin() - 1;
    const Schedule* s = &schedules_[k_schedule];
    conv -= starts_[k_schedule];
    const auto& [attendee, at] = s->convocations[conv];
    e->set_event_id(absl::StrCat("bench-", run_, "-", g));
    e->set_schedule_id(s->id);
    e->set_attendee_id(attendee);
    e->set_kind(kKinds[k]);
    *e->mutable_observed_at() =
        ToTimestamp(at + absl::Minutes(conv % 11 - 5 + kMinutesAfter[k]));
    e->set_device_id(device);
  }

 private:
  std::vector<Schedule> schedules_;
  std::vector<int64_t> starts_;  // each schedule's first slot in the pool
  const std::string run_;
  int64_t pool_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> repeats_{0};
};

// The i-th crowd report at `venue_id` (a finished wait, its own reporter).
v1::ReportQueueRequest Report(const std::string& venue_id, int64_t i);

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_WORKLOADS_H_
