// SqliteStore: webhooks and their outboxes (webhooks, webhook_outbox).
//
// An outbox row is written by the job that made its event, in the same
// transaction; its sequence comes from webhooks.next_seq, so a rolled back
// job leaves no gap. Delivered rows are deleted; dead ones stay for
// ListWebhooks.
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "proto/base/status_macros.h"
#include "proto/base/wire_time.h"
#include "server/store/sqlite/sqlite_rows.h"
#include "server/store/sqlite/sqlite_store.h"

namespace noqueue::server {

using namespace rows;  // NOLINT: the store's row mapping, everywhere here

namespace {

constexpr int64_t kPending = 0;
constexpr int64_t kDead = 1;
// Dead events kept per webhook (older ones are deleted).
constexpr int kMaxDeadListed = 100;

// The webhook kind a live-day event is delivered as (unspecified: none).
v1::WebhookEventKind WebhookKindOf(v1::ScheduleEventKind kind) {
  switch (kind) {
    case v1::EVENT_CREATED:
      return v1::WEBHOOK_SCHEDULE_CREATED;
    case v1::EVENT_RETIMED:
      return v1::WEBHOOK_CONVOCATION_RETIMED;
    case v1::EVENT_CANCELLED:
      return v1::WEBHOOK_CONVOCATION_CANCELLED;
    case v1::EVENT_DELAY_DECLARED:
      return v1::WEBHOOK_ATTENDEE_LATE;
    default:
      return v1::WEBHOOK_EVENT_KIND_UNSPECIFIED;
  }
}

uint32_t KindBit(int kind) { return 1u << kind; }

constexpr char kWebhookColumns[] =
    "webhook_id, venue_id, url, secret, kinds, wait_threshold_us, create_us, "
    "wait_above";

StoredWebhook ReadWebhook(const Statement& s) {
  StoredWebhook w;
  v1::Webhook& h = w.webhook;
  h.set_webhook_id(s.ColumnText(0));
  h.set_venue_id(s.ColumnText(1));
  h.set_url(s.ColumnText(2));
  w.secret = s.ColumnText(3);
  const int64_t kinds = s.ColumnInt(4);
  for (int k = 1; k <= v1::WebhookEventKind_MAX; ++k) {
    if (kinds & KindBit(k)) h.add_kinds(static_cast<v1::WebhookEventKind>(k));
  }
  if (s.ColumnInt(5) > 0) {
    *h.mutable_wait_threshold() =
        ToProtoDuration(absl::Microseconds(s.ColumnInt(5)));
  }
  *h.mutable_create_time() = ToTimestamp(FromMicros(s.ColumnInt(6)));
  w.wait_above = s.ColumnInt(7) != 0;
  return w;
}

}  // namespace

// ------------------------------------------------------- the writer's side

absl::Status SqliteStore::LoadWebhookKinds(SqliteDb& db) {
  webhook_kinds_.clear();
  ASSIGN_OR_RETURN(Statement * s,
                   db.Prepare("SELECT webhook_id, venue_id, kinds FROM "
                              "webhooks ORDER BY create_us, webhook_id"));
  RETURN_IF_ERROR(s->EachRow([&](const Statement& r) {
    webhook_kinds_[r.ColumnText(1)].push_back(
        {r.ColumnText(0), static_cast<uint32_t>(r.ColumnInt(2))});
    return absl::OkStatus();
  }));
  webhook_kinds_loaded_ = true;
  return absl::OkStatus();
}

absl::Status SqliteStore::QueueWebhookEvent(SqliteDb& db,
                                            const std::string& webhook_id,
                                            absl::string_view attendee_id,
                                            v1::WebhookEvent event) {
  ASSIGN_OR_RETURN(Statement * next,
                   db.Prepare("UPDATE webhooks SET next_seq = next_seq + 1 "
                              "WHERE webhook_id = ?1 RETURNING next_seq"));
  next->Bind(1, webhook_id);
  ASSIGN_OR_RETURN(bool row, next->Step());
  const int64_t seq = row ? next->ColumnInt(0) : 0;
  next->Reset();
  if (!row) {
    return absl::NotFoundError(
        absl::StrCat("webhook_id: no webhook \"", webhook_id, "\""));
  }
  const absl::Time now = absl::Now();
  event.set_event_id(absl::StrCat(webhook_id, ".", seq));
  event.set_webhook_id(webhook_id);
  event.set_sequence(seq);
  *event.mutable_created_at() = ToTimestamp(now);
  ASSIGN_OR_RETURN(
      Statement * put,
      db.Prepare("INSERT INTO webhook_outbox (webhook_id, seq, venue_id, "
                 "attendee_id, kind, created_us, body, next_attempt_us) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6)"));
  put->Bind(1, webhook_id)
      .Bind(2, seq)
      .Bind(3, event.venue_id())
      .Bind(4, std::string(attendee_id))
      .Bind(5, int64_t{event.kind()})
      .Bind(6, ToMicros(now))
      .BindBlob(7, event.SerializeAsString());
  RETURN_IF_ERROR(put->Run());
  outbox_changed_.push_back(webhook_id);
  return absl::OkStatus();
}

absl::Status SqliteStore::QueueScheduleEvent(SqliteDb& db,
                                             const v1::ScheduleEvent& e,
                                             absl::string_view venue_id) {
  const v1::WebhookEventKind kind = WebhookKindOf(e.kind());
  if (kind == v1::WEBHOOK_EVENT_KIND_UNSPECIFIED) return absl::OkStatus();
  if (!webhook_kinds_loaded_) RETURN_IF_ERROR(LoadWebhookKinds(db));
  // Without webhooks, a live-day event costs nothing more.
  if (webhook_kinds_.empty()) return absl::OkStatus();
  std::string venue(venue_id);
  if (venue.empty()) {
    ASSIGN_OR_RETURN(Statement * find,
                     db.Prepare("SELECT venue_id FROM schedules WHERE "
                                "schedule_id = ?1"));
    find->BindUncopied(1, e.schedule_id());
    ASSIGN_OR_RETURN(bool row, find->Step());
    if (row) venue = find->ColumnText(0);
    find->Reset();
  }
  auto it = webhook_kinds_.find(venue);
  if (it == webhook_kinds_.end()) return absl::OkStatus();
  for (const WebhookKinds& w : it->second) {
    if (!(w.kinds & KindBit(kind))) continue;
    v1::WebhookEvent event;
    event.set_venue_id(venue);
    event.set_kind(kind);
    *event.mutable_schedule_event() = e;
    RETURN_IF_ERROR(
        QueueWebhookEvent(db, w.webhook_id, e.attendee_id(), std::move(event)));
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::RewriteOutbox(
    SqliteDb& db, const std::string& venue_id, const std::string& attendee_id,
    const std::function<bool(v1::WebhookEvent&)>& rewrite) {
  // "<> ''" lets SQLite use the partial index.
  ASSIGN_OR_RETURN(Statement * find,
                   db.Prepare("SELECT webhook_id, seq, body FROM "
                              "webhook_outbox WHERE venue_id = ?1 AND "
                              "attendee_id = ?2 AND attendee_id <> ''"));
  find->Bind(1, venue_id).Bind(2, attendee_id);
  std::vector<std::pair<std::string, v1::WebhookEvent>> rows;
  RETURN_IF_ERROR(find->EachRow([&](const Statement& r) {
    v1::WebhookEvent e;
    e.ParseFromString(r.ColumnText(2));
    if (!rewrite(e)) return absl::OkStatus();
    e.set_sequence(r.ColumnInt(1));
    rows.emplace_back(r.ColumnText(0), std::move(e));
    return absl::OkStatus();
  }));
  // The row no longer names the person: an erasure later has nothing to
  // find here.
  ASSIGN_OR_RETURN(Statement * put,
                   db.Prepare("UPDATE webhook_outbox SET body = ?3, "
                              "attendee_id = '' WHERE webhook_id = ?1 AND "
                              "seq = ?2"));
  for (const auto& [webhook_id, e] : rows) {
    put->Reset();
    put->Bind(1, webhook_id)
        .Bind(2, e.sequence())
        .BindBlob(3, e.SerializeAsString());
    RETURN_IF_ERROR(put->Run());
    outbox_changed_.push_back(webhook_id);
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::ScrubOutbox(SqliteDb& db, const std::string& venue_id,
                                      const std::string& attendee_id) {
  return RewriteOutbox(db, venue_id, attendee_id, [](v1::WebhookEvent& e) {
    e.clear_payload();  // whatever it held goes
    e.set_erased(true);
    return true;
  });
}

void SqliteStore::OutboxCommitted() {
  if (outbox_changed_.empty()) return;
  std::vector<std::string> changed;
  changed.swap(outbox_changed_);
  std::sort(changed.begin(), changed.end());
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  absl::MutexLock lock(&listener_mu_);
  if (listener_) listener_(changed);
}

void SqliteStore::SetOutboxListener(OutboxListener listener) {
  absl::MutexLock lock(&listener_mu_);
  listener_ = std::move(listener);
}

// ------------------------------------------------------------------ writes

void SqliteStore::InsertWebhook(StoredWebhook webhook, int max_per_venue,
                                Done<bool> done) {
  writer_->Submit<bool>(
      [this, w = std::move(webhook),
       max_per_venue](SqliteDb& db) -> absl::StatusOr<bool> {
        const v1::Webhook& h = w.webhook;
        ASSIGN_OR_RETURN(Statement * count,
                         db.Prepare("SELECT count(*) FROM webhooks WHERE "
                                    "venue_id = ?1"));
        count->Bind(1, h.venue_id());
        ASSIGN_OR_RETURN(bool row, count->Step());
        const int64_t n = row ? count->ColumnInt(0) : 0;
        count->Reset();
        if (n >= max_per_venue) {
          return absl::FailedPreconditionError(
              absl::StrCat("venue_id: \"", h.venue_id(), "\" already has ", n,
                           " webhooks, the most a venue may have"));
        }
        int64_t kinds = 0;
        for (int k : h.kinds()) kinds |= KindBit(k);
        ASSIGN_OR_RETURN(
            Statement * put,
            db.Prepare("INSERT INTO webhooks (webhook_id, venue_id, url, "
                       "secret, kinds, wait_threshold_us, create_us) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
        put->Bind(1, h.webhook_id())
            .Bind(2, h.venue_id())
            .Bind(3, h.url())
            .BindBlob(4, w.secret)
            .Bind(5, kinds)
            .Bind(6, absl::ToInt64Microseconds(ToDuration(h.wait_threshold())))
            .Bind(7, ToMicros(h.create_time()));
        RETURN_IF_ERROR(put->Run());
        webhook_kinds_loaded_ = false;
        return true;
      },
      std::move(done));
}

void SqliteStore::DeleteWebhook(std::string webhook_id, Done<bool> done) {
  writer_->Submit<bool>(
      [this, id = std::move(webhook_id)](SqliteDb& db) -> absl::StatusOr<bool> {
        ASSIGN_OR_RETURN(Statement * del,
                         db.Prepare("DELETE FROM webhooks WHERE "
                                    "webhook_id = ?1"));
        del->Bind(1, id);
        RETURN_IF_ERROR(del->Run());
        if (db.Changes() == 0) {
          return absl::NotFoundError(
              absl::StrCat("webhook_id: no webhook \"", id, "\""));
        }
        ASSIGN_OR_RETURN(Statement * outbox,
                         db.Prepare("DELETE FROM webhook_outbox WHERE "
                                    "webhook_id = ?1"));
        outbox->Bind(1, id);
        RETURN_IF_ERROR(outbox->Run());
        webhook_kinds_loaded_ = false;
        return true;
      },
      std::move(done));
}

void SqliteStore::RecordDeliveries(std::vector<DeliveryOutcome> outcomes,
                                   Done<bool> done) {
  writer_->Submit<bool>(
      [outcomes = std::move(outcomes)](SqliteDb& db) -> absl::StatusOr<bool> {
        ASSIGN_OR_RETURN(Statement * del,
                         db.Prepare("DELETE FROM webhook_outbox WHERE "
                                    "webhook_id = ?1 AND seq = ?2"));
        ASSIGN_OR_RETURN(
            Statement * failed,
            db.Prepare("UPDATE webhook_outbox SET state = ?3, attempts = "
                       "attempts + 1, next_attempt_us = ?4, last_error = ?5, "
                       "first_attempt_us = coalesce(first_attempt_us, ?6) "
                       "WHERE webhook_id = ?1 AND seq = ?2"));
        ASSIGN_OR_RETURN(
            Statement * prune,
            db.Prepare("DELETE FROM webhook_outbox WHERE webhook_id = ?1 AND "
                       "state = 1 AND seq <= (SELECT seq FROM webhook_outbox "
                       "WHERE webhook_id = ?1 AND state = 1 ORDER BY seq "
                       "DESC LIMIT 1 OFFSET ?2)"));
        for (const DeliveryOutcome& o : outcomes) {
          if (o.kind == DeliveryOutcome::Kind::kDelivered) {
            del->Reset();
            del->Bind(1, o.webhook_id).Bind(2, o.sequence);
            RETURN_IF_ERROR(del->Run());
            continue;
          }
          failed->Reset();
          failed->Bind(1, o.webhook_id)
              .Bind(2, o.sequence)
              .Bind(3,
                    o.kind == DeliveryOutcome::Kind::kDead ? kDead : kPending)
              .Bind(4, ToMicros(o.next_attempt))
              .Bind(5, o.error)
              .Bind(6, ToMicros(o.attempted));
          RETURN_IF_ERROR(failed->Run());
          if (o.kind != DeliveryOutcome::Kind::kDead) continue;
          // Only the most recent dead events are kept (and listed).
          prune->Reset();
          prune->Bind(1, o.webhook_id).Bind(2, int64_t{kMaxDeadListed});
          RETURN_IF_ERROR(prune->Run());
        }
        return true;
      },
      std::move(done));
}

void SqliteStore::AppendWaitCrossing(std::string webhook_id,
                                     v1::WaitCrossing crossing,
                                     Done<bool> done) {
  writer_->Submit<bool>(
      [this, id = std::move(webhook_id),
       crossing = std::move(crossing)](SqliteDb& db) -> absl::StatusOr<bool> {
        ASSIGN_OR_RETURN(Statement * side,
                         db.Prepare("UPDATE webhooks SET wait_above = ?2 "
                                    "WHERE webhook_id = ?1 RETURNING "
                                    "venue_id"));
        side->Bind(1, id).Bind(2, int64_t{crossing.above() ? 1 : 0});
        ASSIGN_OR_RETURN(bool row, side->Step());
        const std::string venue = row ? side->ColumnText(0) : "";
        side->Reset();
        if (!row) return false;
        v1::WebhookEvent event;
        event.set_venue_id(venue);
        event.set_kind(v1::WEBHOOK_WAIT_CROSSED);
        *event.mutable_wait_crossing() = crossing;
        RETURN_IF_ERROR(QueueWebhookEvent(db, id, "", std::move(event)));
        return true;
      },
      std::move(done));
}

// ------------------------------------------------------------------- reads

absl::StatusOr<std::vector<StoredWebhook>> SqliteStore::AllWebhooks() {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(Statement * s,
                   lease.db().Prepare(absl::StrCat(
                       "SELECT ", kWebhookColumns,
                       " FROM webhooks ORDER BY create_us, webhook_id")));
  std::vector<StoredWebhook> all;
  RETURN_IF_ERROR(s->EachRow([&](const Statement& r) {
    all.push_back(ReadWebhook(r));
    return absl::OkStatus();
  }));
  return all;
}

absl::StatusOr<StoredWebhook> SqliteStore::GetWebhook(
    const std::string& webhook_id) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(Statement * s, lease.db().Prepare(absl::StrCat(
                                      "SELECT ", kWebhookColumns,
                                      " FROM webhooks WHERE webhook_id = ?1")));
  s->Bind(1, webhook_id);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) {
    return absl::NotFoundError(
        absl::StrCat("webhook_id: no webhook \"", webhook_id, "\""));
  }
  StoredWebhook w = ReadWebhook(*s);
  s->Reset();
  return w;
}

absl::StatusOr<std::vector<v1::Webhook>> SqliteStore::ListWebhooks(
    const std::string& venue_id) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  SqliteDb& db = lease.db();
  // One read transaction, so that the backlog matches the webhooks.
  RETURN_IF_ERROR(db.Run("BEGIN"));
  auto read = [&]() -> absl::StatusOr<std::vector<v1::Webhook>> {
    ASSIGN_OR_RETURN(Statement * s,
                     db.Prepare(absl::StrCat("SELECT ", kWebhookColumns,
                                             " FROM webhooks WHERE venue_id "
                                             "= ?1 ORDER BY create_us, "
                                             "webhook_id")));
    s->Bind(1, venue_id);
    std::vector<v1::Webhook> hooks;
    RETURN_IF_ERROR(s->EachRow([&](const Statement& r) {
      hooks.push_back(ReadWebhook(r).webhook);
      return absl::OkStatus();
    }));
    ASSIGN_OR_RETURN(Statement * pending,
                     db.Prepare("SELECT count(*) FROM webhook_outbox WHERE "
                                "webhook_id = ?1 AND state = 0"));
    ASSIGN_OR_RETURN(
        Statement * dead,
        db.Prepare("SELECT seq, kind, attempts, last_error, first_attempt_us, "
                   "created_us FROM webhook_outbox WHERE webhook_id = ?1 AND "
                   "state = 1 ORDER BY seq DESC LIMIT ?2"));
    for (v1::Webhook& h : hooks) {
      pending->Bind(1, h.webhook_id());
      RETURN_IF_ERROR(pending->EachRow([&](const Statement& r) {
        h.set_pending_events(r.ColumnInt(0));
        return absl::OkStatus();
      }));
      dead->Bind(1, h.webhook_id()).Bind(2, int64_t{kMaxDeadListed});
      RETURN_IF_ERROR(dead->EachRow([&](const Statement& r) {
        v1::DeadWebhookEvent* d = h.add_dead_events();
        d->set_sequence(r.ColumnInt(0));
        d->set_event_id(absl::StrCat(h.webhook_id(), ".", d->sequence()));
        d->set_kind(static_cast<v1::WebhookEventKind>(r.ColumnInt(1)));
        d->set_attempts(static_cast<int32_t>(r.ColumnInt(2)));
        d->set_last_error(r.ColumnText(3));
        if (!r.ColumnIsNull(4)) {
          *d->mutable_first_attempted_at() =
              ToTimestamp(FromMicros(r.ColumnInt(4)));
        }
        *d->mutable_created_at() = ToTimestamp(FromMicros(r.ColumnInt(5)));
        return absl::OkStatus();
      }));
    }
    return hooks;
  };
  absl::StatusOr<std::vector<v1::Webhook>> hooks = read();
  db.Run("COMMIT").IgnoreError();
  return hooks;
}

absl::StatusOr<std::vector<OutboxEvent>> SqliteStore::PendingWebhookEvents(
    const std::string& webhook_id, int64_t after_sequence, int limit) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(
      Statement * s,
      lease.db().Prepare("SELECT seq, body, attempts, created_us, "
                         "next_attempt_us, first_attempt_us FROM "
                         "webhook_outbox WHERE webhook_id = ?1 AND seq > ?2 "
                         "AND state = 0 ORDER BY seq LIMIT ?3"));
  s->Bind(1, webhook_id).Bind(2, after_sequence).Bind(3, int64_t{limit});
  std::vector<OutboxEvent> events;
  RETURN_IF_ERROR(s->EachRow([&](const Statement& r) {
    OutboxEvent e;
    if (!e.event.ParseFromString(r.ColumnText(1))) {
      return absl::DataLossError(absl::StrCat("webhook event ", webhook_id, ".",
                                              r.ColumnInt(0),
                                              " does not parse"));
    }
    e.event.set_sequence(r.ColumnInt(0));
    e.attempts = static_cast<int>(r.ColumnInt(2));
    e.created = FromMicros(r.ColumnInt(3));
    e.next_attempt = FromMicros(r.ColumnInt(4));
    if (!r.ColumnIsNull(5)) e.first_attempt = FromMicros(r.ColumnInt(5));
    events.push_back(std::move(e));
    return absl::OkStatus();
  }));
  return events;
}

absl::StatusOr<int64_t> SqliteStore::PendingWebhookEventCount() {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(Statement * s,
                   lease.db().Prepare("SELECT count(*) FROM webhook_outbox "
                                      "WHERE state = 0"));
  int64_t n = 0;
  RETURN_IF_ERROR(s->EachRow([&](const Statement& r) {
    n = r.ColumnInt(0);
    return absl::OkStatus();
  }));
  return n;
}

}  // namespace noqueue::server
