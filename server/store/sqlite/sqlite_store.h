// SqliteStore: the Store on an embedded SQLite file (WAL, synchronous =
// NORMAL). The schema and its migrations are in sqlite_schema.h, the group
// commit in sqlite_writer.h, the mapping of rows to domain values in
// sqlite_rows.h, what tags mean in store/tag_rules.h; this class holds the
// queries (sqlite_store*.cc, one file per part of the Store).
//
// Convocations are written once, in the order of their times; each tag
// names its convocation's row (conv_seq) and tags are indexed by it. The
// writer keeps what it has read of tagged convocations (their row and their
// TagHistory) in a bounded cache, forgotten on any rollback, so one server
// owns a database file at a time.
#ifndef NOQUEUE_SERVER_STORE_SQLITE_SQLITE_STORE_H_
#define NOQUEUE_SERVER_STORE_SQLITE_SQLITE_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/synchronization/mutex.h"
#include "server/store/sqlite/sqlite_db.h"
#include "server/store/sqlite/sqlite_schema.h"
#include "server/store/sqlite/sqlite_writer.h"
#include "server/store/store.h"

namespace noqueue::server {

struct SqliteStoreOptions {
  LearningPolicy policy;
  // The SQLite VFS to open the file through (empty: the default one).
  std::string vfs;
  // When the log is checkpointed and truncated (sqlite_writer.h).
  WalPolicy wal;
  // Whether each commit syncs the log (synchronous=FULL): then an
  // acknowledged write survives a power loss too. Without it
  // (synchronous=NORMAL) it survives a crash of the process, and a power
  // loss may take back the commits since the last checkpoint's sync (the
  // file stays consistent).
  bool sync_commits = false;
};

class SqliteStore final : public Store {
 public:
  static constexpr int kSchemaVersion = server::kSchemaVersion;
  // What the writer may remember of tagged convocations, in bytes.
  static constexpr size_t kMaxTaggedBytes = 32 << 20;

  // Opens or creates the database at `path` (its folder must exist),
  // migrates it, and starts the writer.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const std::string& path, SqliteStoreOptions options = {});
  ~SqliteStore() override;

  absl::StatusOr<v1::Venue> GetVenue(const std::string& venue_id) override;
  absl::StatusOr<std::vector<v1::Venue>> ListVenues() override;
  void UpsertVenue(v1::Venue venue, absl::Time now,
                   Done<UpsertVenueResult> done) override;
  absl::StatusOr<v1::Schedule> GetSchedule(
      const std::string& schedule_id) override;
  absl::StatusOr<std::optional<v1::Schedule>> FindScheduleByRequest(
      const std::string& venue_id, const std::string& request_id,
      const std::string& request_digest) override;
  absl::StatusOr<SchedulePage> ListSchedules(const std::string& venue_id,
                                             int64_t after, int limit) override;
  void InsertSchedule(NewSchedule schedule, Done<v1::Schedule> done) override;
  void RecordEvents(std::vector<v1::ArrivalEvent> events, bool atomic,
                    absl::Time now, VenueScope scope,
                    Done<std::vector<EventResult>> done) override;
  absl::Status ReplayLearnable(
      int64_t after_seq,
      const std::function<void(const LearnableEvent&)>& fn) override;
  void InsertReport(StoredReport report, Done<bool> done) override;
  absl::Status ReplayCrowd(
      const std::function<void(const StoredReport&)>& report,
      const std::function<void(const ServiceObservation&)>& service) override;
  void SaveSnapshot(ModelSnapshot snapshot, Done<bool> done) override;
  absl::StatusOr<std::optional<ModelSnapshot>> LoadSnapshot() override;
  // The write-ahead log's size and truncations.
  WalStats wal_stats() const { return writer_->wal_stats(); }
  const SqliteWriter& writer() const { return *writer_; }
  // Access control and personal data (sqlite_store_access.cc).
  absl::StatusOr<std::vector<StoredApiKey>> ListApiKeys() override;
  void InsertApiKey(StoredApiKey key, AuditEntry audit,
                    Done<bool> done) override;
  void RevokeApiKey(std::string key_id, absl::Time at, AuditEntry audit,
                    Done<StoredApiKey> done) override;
  absl::StatusOr<std::vector<AuditEntry>> ListAudit(int64_t after_seq,
                                                    int limit) override;
  absl::StatusOr<std::string> Secret(const std::string& name,
                                     size_t bytes) override;
  void EraseAttendee(std::string venue_id, std::string attendee_id,
                     AuditEntry audit, Done<EraseResult> done) override;
  void PurgeExpired(absl::Time now, Done<PurgeResult> done) override;
  void TruncateLog(Done<bool> done) override;
  // The live day (sqlite_store_live.cc).
  void AppendScheduleEvents(std::vector<v1::ScheduleEvent> events,
                            Done<std::vector<v1::ScheduleEvent>> done) override;
  absl::StatusOr<std::vector<v1::ScheduleEvent>> ListScheduleEvents(
      const std::string& schedule_id, int64_t after_seq, int limit) override;
  absl::StatusOr<int64_t> LastScheduleEventSeq(
      const std::string& schedule_id) override;
  absl::StatusOr<std::optional<absl::Time>> LatestTagTime() override;
  absl::StatusOr<std::vector<std::string>> SchedulesBetween(
      const std::string& venue_id, absl::Time from, absl::Time to) override;
  absl::StatusOr<std::vector<ScheduleWindow>> SchedulesNotOverAt(
      absl::Time now) override;
  // Webhooks (sqlite_store_webhooks.cc).
  absl::StatusOr<std::vector<StoredWebhook>> AllWebhooks() override;
  absl::StatusOr<std::vector<v1::Webhook>> ListWebhooks(
      const std::string& venue_id) override;
  absl::StatusOr<StoredWebhook> GetWebhook(
      const std::string& webhook_id) override;
  void InsertWebhook(StoredWebhook webhook, int max_per_venue,
                     Done<bool> done) override;
  void DeleteWebhook(std::string webhook_id, Done<bool> done) override;
  absl::StatusOr<std::vector<OutboxEvent>> PendingWebhookEvents(
      const std::string& webhook_id, int64_t after_sequence,
      int limit) override;
  absl::StatusOr<int64_t> PendingWebhookEventCount() override;
  void RecordDeliveries(std::vector<DeliveryOutcome> outcomes,
                        Done<bool> done) override;
  void AppendWaitCrossing(std::string webhook_id, v1::WaitCrossing crossing,
                          Done<bool> done) override;
  void SetOutboxListener(OutboxListener listener) override;
  void Close() override;

  // The schema version of the open database.
  absl::StatusOr<int> SchemaVersion();

 private:
  // What the writer knows of a convocation that tags were stored for.
  struct TaggedConvocation {
    int64_t seq = 0;  // convocations.seq
    std::string venue_id;
    absl::Time convocation;
    model::ArrivalContext context;
    TagHistory history;
  };
  // Keys (schedule_id, attendee_id), looked up without copying the tag's.
  using KeyView = std::pair<std::string_view, std::string_view>;
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const KeyView& k) const {
      return absl::HashOf(k.first, k.second);
    }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(const KeyView& a, const KeyView& b) const { return a == b; }
  };

  SqliteStore(const std::string& path, SqliteStoreOptions options,
              std::unique_ptr<SqliteDb> writer);
  // The tagged convocation of `e`, from the writer's cache or the database;
  // NOT_FOUND (naming events[index]) for an unknown schedule or attendee.
  // PERMISSION_DENIED for a schedule outside `scope` (or, for a scoped
  // caller, an unknown one).
  absl::StatusOr<TaggedConvocation*> FindConvocation(SqliteDb& db,
                                                     const v1::ArrivalEvent& e,
                                                     size_t index,
                                                     const VenueScope& scope);
  // Reads a convocation's TagHistory from its stored tags.
  absl::Status ReadHistory(SqliteDb& db, TaggedConvocation& c);
  void RememberTagged(const v1::ArrivalEvent& e, TaggedConvocation c,
                      TaggedConvocation** out);
  void ForgetTagged() {
    tagged_.clear();
    tagged_bytes_ = 0;
  }
  // Stores one tag. On an error, *wrote says whether the tag had already
  // changed the database (then only rolling back the whole job undoes it);
  // when it had not, the error is the tag's own rejection.
  absl::StatusOr<EventResult> StoreEvent(SqliteDb& db,
                                         const v1::ArrivalEvent& event,
                                         size_t index, absl::Time now,
                                         const VenueScope& scope, bool* wrote);
  // Stores one live-day event (its seq is set), and queues it in the outbox
  // of each webhook of its venue (`venue_id`, or read from the schedule when
  // empty) that wants it.
  absl::Status InsertScheduleEvent(SqliteDb& db, v1::ScheduleEvent& e,
                                   absl::string_view venue_id = "");
  // Webhooks' outboxes, on the writer thread (sqlite_store_webhooks.cc).
  // Queues `event` (payload set) as the next of `webhook_id`'s events.
  absl::Status QueueWebhookEvent(SqliteDb& db, const std::string& webhook_id,
                                 absl::string_view attendee_id,
                                 v1::WebhookEvent event);
  absl::Status QueueScheduleEvent(SqliteDb& db, const v1::ScheduleEvent& e,
                                  absl::string_view venue_id);
  // Passes each undelivered event of `venue_id` naming `attendee_id` to
  // `rewrite`; those it changes (returns true for) are stored back, no
  // longer indexed by the attendee.
  absl::Status RewriteOutbox(
      SqliteDb& db, const std::string& venue_id, const std::string& attendee_id,
      const std::function<bool(v1::WebhookEvent&)>& rewrite);
  // Removes an attendee's data from undelivered events of `venue_id`.
  absl::Status ScrubOutbox(SqliteDb& db, const std::string& venue_id,
                           const std::string& attendee_id);
  absl::Status LoadWebhookKinds(SqliteDb& db);
  // After a commit: tells the listener which outboxes changed.
  void OutboxCommitted();
  // Pseudonymises one schedule's attendees; returns how many.
  // The undelivered webhook events of its attendees get the same
  // pseudonyms.
  absl::StatusOr<int64_t> PurgeSchedule(SqliteDb& db,
                                        const std::string& venue_id,
                                        const std::string& schedule_id,
                                        absl::Time now);
  absl::StatusOr<std::vector<EventResult>> StoreEvents(
      SqliteDb& db, const std::vector<v1::ArrivalEvent>& events, bool atomic,
      absl::Time now, const VenueScope& scope);

  const SqliteStoreOptions options_;
  SqliteReaderPool readers_;
  // Writer thread only. Forgotten when it would pass kMaxTaggedBytes, and
  // whenever a job or a batch is rolled back, since it may hold what was
  // undone.
  // Nodes, not slots: an entry is a few hundred bytes, which a flat map
  // would move at every growth; and the pointers FindConvocation hands out
  // stay valid until ForgetTagged.
  absl::node_hash_map<std::pair<std::string, std::string>, TaggedConvocation,
                      KeyHash, KeyEq>
      tagged_;
  size_t tagged_bytes_ = 0;  // writer thread only
  // Writer thread only: which webhook wants which kinds (bit masks of
  // WebhookEventKind), by venue, read when first needed and again after a
  // rollback; and the outboxes the running batch changed.
  struct WebhookKinds {
    std::string webhook_id;
    uint32_t kinds = 0;
  };
  absl::flat_hash_map<std::string, std::vector<WebhookKinds>> webhook_kinds_;
  bool webhook_kinds_loaded_ = false;
  std::vector<std::string> outbox_changed_;
  absl::Mutex listener_mu_;
  OutboxListener listener_ ABSL_GUARDED_BY(listener_mu_);
  // Last: stopped (and its threads joined) before the rest is destroyed.
  std::unique_ptr<SqliteWriter> writer_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_STORE_SQLITE_SQLITE_STORE_H_
