// Store: everything NoQueue keeps, behind one interface so that a second
// backend (a shared PostgreSQL, say) is a plug, not a rewrite. The rules of
// what tags mean are not the store's: they are in tag_rules.h.
//
// Reads are synchronous and may run on any thread. Writes are asynchronous:
// they are queued to a single writer that commits them in batches, and their
// `done` callback runs on one completion thread, in commit order, only after
// the write is durable (or has failed). Callbacks must not block (nor close
// the store).
#ifndef NOQUEUE_SERVER_STORE_STORE_H_
#define NOQUEUE_SERVER_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "model/arrival_model.h"
#include "noqueue/v1/access.pb.h"
#include "noqueue/v1/arrival.pb.h"
#include "noqueue/v1/live.pb.h"
#include "noqueue/v1/scheduling.pb.h"
#include "noqueue/v1/venue.pb.h"
#include "noqueue/v1/webhook.pb.h"
#include "server/store/tag_rules.h"

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
  // With a request_id: the SHA-256 of the request that made the schedule
  // (deterministic encoding), stored so that the request_id cannot be
  // reused for a different request.
  std::string request_digest;
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
  // What the tag did to its schedule's live day (ACCEPTED tags), stored
  // with it.
  std::optional<v1::ScheduleEvent> live;
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

// The venues a caller may act on: all of them, or a list.
struct VenueScope {
  bool all = true;
  absl::flat_hash_set<std::string> venues;
  bool Allows(absl::string_view venue_id) const {
    return all || venues.contains(venue_id);
  }
};

// An API key as stored: its public part and the SHA-256 of its secret.
struct StoredApiKey {
  v1::ApiKey key;
  std::string secret_sha256;
};

// Who did what, when: key management and erasures.
struct AuditEntry {
  int64_t seq = 0;  // set by the store
  absl::Time at;
  std::string actor;   // a key id, or "bootstrap"
  std::string action;  // "create_key", "revoke_key", "erase_attendee"...
  std::string target;  // a key id, a venue id; never an attendee id
  std::string detail;
};

struct EraseResult {
  int64_t convocations = 0;
  int64_t tags = 0;
};

// What a retention purge did.
struct PurgeResult {
  int64_t schedules = 0;
  int64_t convocations = 0;
  // For each venue purged: the attendee ids it still holds (of schedules
  // not yet purged), so that the model can forget the others.
  std::vector<std::pair<std::string, absl::flat_hash_set<std::string>>> venues;
};

// A webhook as stored: what the API shows (without its backlog) and the
// secret it is signed with, which the API never shows.
struct StoredWebhook {
  v1::Webhook webhook;
  std::string secret;
  // Whether the venue's live wait was last seen above its threshold.
  bool wait_above = false;
};

// An undelivered event of a webhook's outbox.
struct OutboxEvent {
  v1::WebhookEvent event;  // event.sequence() is its place in the outbox
  int attempts = 0;
  absl::Time created;
  absl::Time next_attempt;  // not before
  std::optional<absl::Time> first_attempt;
};

// What one delivery attempt of an outbox event came to.
struct DeliveryOutcome {
  enum class Kind { kDelivered, kRetry, kDead };
  Kind kind = Kind::kDelivered;
  std::string webhook_id;
  int64_t sequence = 0;
  absl::Time attempted;
  absl::Time next_attempt;  // kRetry
  std::string error;        // kRetry, kDead
};

// Told, on the store's writer thread right after a commit, the webhooks
// whose outbox the commit changed. Must not block.
using OutboxListener = std::function<void(const std::vector<std::string>&)>;

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
  // FAILED_PRECONDITION naming request_id when it was made for a request
  // whose digest differs from `request_digest` (both non-empty).
  virtual absl::StatusOr<std::optional<v1::Schedule>> FindScheduleByRequest(
      const std::string& venue_id, const std::string& request_id,
      const std::string& request_digest) = 0;
  // Schedules of a venue in creation order, after position `after`.
  virtual absl::StatusOr<SchedulePage> ListSchedules(
      const std::string& venue_id, int64_t after, int limit) = 0;
  // Stores a schedule. When the schedule's (venue_id, request_id) is already
  // taken, stores nothing and returns the schedule stored first, or
  // FAILED_PRECONDITION when that one was made for a different request.
  virtual void InsertSchedule(NewSchedule schedule,
                              Done<v1::Schedule> done) = 0;

  // Stores tags (each valid in itself) received at `now`, judged by the tag
  // rules against what was stored before them. With `atomic`, the first tag
  // that cannot be stored fails the whole call and nothing is stored;
  // otherwise each tag gets its own result.
  // Tags of schedules outside `scope` are refused with PERMISSION_DENIED (and
  // so are tags of unknown schedules, when the scope is not all venues: a
  // caller learns nothing of other venues' schedules).
  virtual void RecordEvents(std::vector<v1::ArrivalEvent> events, bool atomic,
                            absl::Time now, VenueScope scope,
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

  // Access control. Every API key, revoked ones included, oldest first.
  virtual absl::StatusOr<std::vector<StoredApiKey>> ListApiKeys() = 0;
  virtual void InsertApiKey(StoredApiKey key, AuditEntry audit,
                            Done<bool> done) = 0;
  // Marks the key revoked at `at` (kept when already revoked); NOT_FOUND for
  // an unknown key.
  virtual void RevokeApiKey(std::string key_id, absl::Time at, AuditEntry audit,
                            Done<StoredApiKey> done) = 0;
  // The audit log after `after_seq`, oldest first, at most `limit` entries.
  virtual absl::StatusOr<std::vector<AuditEntry>> ListAudit(int64_t after_seq,
                                                            int limit) = 0;
  // The server's secret called `name`, made of `bytes` fresh random bytes
  // (and stored) the first time it is asked for. Blocks until committed.
  virtual absl::StatusOr<std::string> Secret(const std::string& name,
                                             size_t bytes) = 0;

  // Removes an attendee's personal data at a venue: their convocations
  // (from the schedules that name them and from their rows) and their tags;
  // audited. Idempotent.
  virtual void EraseAttendee(std::string venue_id, std::string attendee_id,
                             AuditEntry audit, Done<EraseResult> done) = 0;
  // Replaces the attendee ids of schedules whose window ended more than
  // their venue's retention before `now` with pseudonyms (anonymous tags
  // and convocations stay, for learning).
  virtual void PurgeExpired(absl::Time now, Done<PurgeResult> done) = 0;
  // Copies the whole log into the database and empties it (a TRUNCATE
  // checkpoint), so that what was deleted is gone from the files' bytes.
  virtual void TruncateLog(Done<bool> done) = 0;

  // The live day. Appends events of schedules (the store sets their seq, in
  // order, and keeps the other fields); an EVENT_RETIMED event also moves its
  // convocation's stored time, from which its tags are measured. An
  // EVENT_CANCELLED of an attendee already cancelled is left out (checked
  // inside the write). Returns the events stored, with their seq.
  virtual void AppendScheduleEvents(
      std::vector<v1::ScheduleEvent> events,
      Done<std::vector<v1::ScheduleEvent>> done) = 0;
  // A schedule's events after `after_seq`, in seq order, at most `limit`.
  virtual absl::StatusOr<std::vector<v1::ScheduleEvent>> ListScheduleEvents(
      const std::string& schedule_id, int64_t after_seq, int limit) = 0;
  // The seq of a schedule's last event (0 when it has none).
  virtual absl::StatusOr<int64_t> LastScheduleEventSeq(
      const std::string& schedule_id) = 0;
  // The latest `at` of any schedule's tag events (arrived, service started
  // or ended, no-show; nullopt when there is none): where the replay clock,
  // which only tags move, stood when the server stopped. A scan of the
  // events: read once, on start, in replay mode only.
  virtual absl::StatusOr<std::optional<absl::Time>> LatestTagTime() = 0;
  // The ids of a venue's schedules whose window meets [from, to).
  virtual absl::StatusOr<std::vector<std::string>> SchedulesBetween(
      const std::string& venue_id, absl::Time from, absl::Time to) = 0;
  // Every schedule whose window ends after `now`, with its window (all
  // venues; a scan of the schedules, read once on start).
  struct ScheduleWindow {
    std::string schedule_id;
    absl::Time start;
    absl::Time end;
  };
  virtual absl::StatusOr<std::vector<ScheduleWindow>> SchedulesNotOverAt(
      absl::Time now) = 0;

  // Webhooks. Every stored webhook (for the dispatcher), and a venue's
  // with their backlog and most recent dead events (for ListWebhooks).
  virtual absl::StatusOr<std::vector<StoredWebhook>> AllWebhooks() = 0;
  virtual absl::StatusOr<std::vector<v1::Webhook>> ListWebhooks(
      const std::string& venue_id) = 0;
  // NOT_FOUND naming webhook_id when there is none.
  virtual absl::StatusOr<StoredWebhook> GetWebhook(
      const std::string& webhook_id) = 0;
  // Stores a new webhook; FAILED_PRECONDITION when its venue already has
  // `max_per_venue`.
  virtual void InsertWebhook(StoredWebhook webhook, int max_per_venue,
                             Done<bool> done) = 0;
  // Removes a webhook and its outbox; NOT_FOUND when there is none.
  virtual void DeleteWebhook(std::string webhook_id, Done<bool> done) = 0;
  // Up to `limit` pending events of a webhook after `after_sequence`, in
  // order.
  virtual absl::StatusOr<std::vector<OutboxEvent>> PendingWebhookEvents(
      const std::string& webhook_id, int64_t after_sequence, int limit) = 0;
  // Events not yet delivered nor dead, over every webhook.
  virtual absl::StatusOr<int64_t> PendingWebhookEventCount() = 0;
  // Records delivery attempts: delivered events leave the outbox.
  virtual void RecordDeliveries(std::vector<DeliveryOutcome> outcomes,
                                Done<bool> done) = 0;
  // Queues a live wait crossing for a webhook and remembers which side of
  // its threshold the wait is on, in one transaction. False (stored
  // nothing) when the webhook is gone.
  virtual void AppendWaitCrossing(std::string webhook_id,
                                  v1::WaitCrossing crossing,
                                  Done<bool> done) = 0;
  // The one listener of outbox changes (replaces the previous one).
  virtual void SetOutboxListener(OutboxListener listener) = 0;

  // Commits what is queued and stops the writer; later writes fail with
  // UNAVAILABLE.
  virtual void Close() = 0;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_STORE_STORE_H_
