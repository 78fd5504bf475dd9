// Store: everything NoQueue keeps, behind one interface so that a second
// backend (a shared PostgreSQL, say) is a plug, not a rewrite. The rules of
// what tags mean are not the store's: they are in tag_rules.h.
//
// Reads are synchronous and may run on any thread. Writes are asynchronous:
// they are queued to a single writer that commits them in batches, and their
// `done` callback runs on one completion thread, in commit order, only after
// the write is durable (or has failed). Callbacks must not block (nor close
// the store).
#ifndef NOQUEUE_SERVER_STORE_H_
#define NOQUEUE_SERVER_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "model/arrival_model.h"
#include "noqueue/v1/arrival.pb.h"
#include "noqueue/v1/scheduling.pb.h"
#include "noqueue/v1/venue.pb.h"
#include "server/tag_rules.h"

namespace noqueue::server {

// A write's result, delivered on the store's completion thread.
template <typename T>
using Done = std::function<void(absl::StatusOr<T>)>;

// What learning needs to know about one convocation, stored beside it.
struct ConvocationFacts {
  model::ArrivalContext context;
};

struct NewSchedule {
  v1::Schedule schedule;
  // Parallel to schedule.convocations().
  std::vector<ConvocationFacts> facts;
};

// An outcome tag (ARRIVED or NO_SHOW) for the model: learned from when
// `excluded` is empty, else only counted in the metrics with its reason.
struct LearnableEvent {
  int64_t seq = 0;
  std::string venue_id;
  std::string attendee_id;
  model::ArrivalContext context;
  bool no_show = false;
  double offset_min = 0.0;  // OffsetMinutes(arrival, convocation)
  std::optional<model::Exclusion> excluded;
};

struct EventResult {
  v1::AckStatus disposition = v1::ACK_STATUS_UNSPECIFIED;
  absl::Status status;  // why, when REJECTED
  std::optional<LearnableEvent> learnable;
  std::optional<ServiceObservation> service;
};

// A crowd report as stored, with what the aggregator made of it.
struct StoredReport {
  std::string report_id;
  std::string venue_id;
  std::string reporter_token;
  absl::Time observed;
  absl::Time received;
  std::optional<int> queue_length;
  std::optional<absl::Duration> waited;
  bool finished = false;
  double weight = 0.0;
  std::string rejection;  // empty when it counted
};

struct UpsertVenueResult {
  v1::Venue venue;
  bool created = false;
};

struct ModelSnapshot {
  int64_t last_seq = 0;
  std::string bytes;
};

struct SchedulePage {
  std::vector<v1::Schedule> schedules;  // without convocations
  int64_t next_after = 0;               // 0 when there is no more
};

class Store {
 public:
  virtual ~Store() = default;

  // NOT_FOUND when there is no such venue.
  virtual absl::StatusOr<v1::Venue> GetVenue(const std::string& venue_id) = 0;
  // Every venue, in id order.
  virtual absl::StatusOr<std::vector<v1::Venue>> ListVenues() = 0;
  // Sets create_time (kept when the venue exists) and update_time to `now`.
  virtual void UpsertVenue(v1::Venue venue, absl::Time now,
                           Done<UpsertVenueResult> done) = 0;

  // NOT_FOUND when there is no such schedule.
  virtual absl::StatusOr<v1::Schedule> GetSchedule(
      const std::string& schedule_id) = 0;
  // The schedule made for (venue_id, request_id), if any.
  virtual absl::StatusOr<std::optional<v1::Schedule>> FindScheduleByRequest(
      const std::string& venue_id, const std::string& request_id) = 0;
  // Schedules of a venue in creation order, after position `after`.
  virtual absl::StatusOr<SchedulePage> ListSchedules(
      const std::string& venue_id, int64_t after, int limit) = 0;
  // Stores a schedule. When the schedule's (venue_id, request_id) is already
  // taken, stores nothing and returns the schedule stored first.
  virtual void InsertSchedule(NewSchedule schedule,
                              Done<v1::Schedule> done) = 0;

  // Stores tags (each valid in itself) received at `now`, judged by the tag
  // rules against what was stored before them. With `atomic`, the first tag
  // that cannot be stored fails the whole call and nothing is stored;
  // otherwise each tag gets its own result.
  virtual void RecordEvents(std::vector<v1::ArrivalEvent> events, bool atomic,
                            absl::Time now,
                            Done<std::vector<EventResult>> done) = 0;

  // Calls `fn` for every outcome event (learned or excluded) with
  // seq > after_seq, in seq order.
  virtual absl::Status ReplayLearnable(
      int64_t after_seq,
      const std::function<void(const LearnableEvent&)>& fn) = 0;

  // Stores a crowd report with its verdict.
  virtual void InsertReport(StoredReport report, Done<bool> done) = 0;
  // Calls `report` for every stored crowd report and `service` for every
  // service measured by tags, merged in order of observation time.
  virtual absl::Status ReplayCrowd(
      const std::function<void(const StoredReport&)>& report,
      const std::function<void(const ServiceObservation&)>& service) = 0;

  virtual void SaveSnapshot(ModelSnapshot snapshot, Done<bool> done) = 0;
  virtual absl::StatusOr<std::optional<ModelSnapshot>> LoadSnapshot() = 0;

  // Commits what is queued and stops the writer; later writes fail with
  // UNAVAILABLE.
  virtual void Close() = 0;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_STORE_H_
