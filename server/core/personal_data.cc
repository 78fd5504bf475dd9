#include "server/core/personal_data.h"

#include <cstdio>
#include <future>
#include <memory>
#include <utility>

#include "server/common/executor.h"

namespace noqueue::server {

PersonalData::PersonalData(Store* store, Learner* learning,
                           absl::Duration check_every)
    : store_(store), learning_(learning) {
  if (check_every <= absl::ZeroDuration()) return;
  purger_ = std::thread([this, check_every] {
    NameThisThread("nq-purge");
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        const absl::Time until = absl::Now() + check_every;
        while (!stopping_ && absl::Now() < until) {
          mu_.AwaitWithDeadline(absl::Condition(&stopping_), until);
        }
        if (stopping_) return;
      }
      absl::StatusOr<int64_t> purged = PurgeNow(absl::Now());
      if (!purged.ok()) {
        std::fprintf(stderr, "noqueue-server: retention purge failed: %s\n",
                     std::string(purged.status().message()).c_str());
      }
    }
  });
}

PersonalData::~PersonalData() { Stop(); }

void PersonalData::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (purger_.joinable()) purger_.join();
}

void PersonalData::Compact(std::function<void(absl::Status)> done) {
  learning_->SnapshotNow(
      [this, done = std::move(done)](absl::StatusOr<bool> saved) {
        if (!saved.ok()) return done(saved.status());
        store_->TruncateLog([done](absl::StatusOr<bool> truncated) {
          done(truncated.status());
        });
      });
}

void PersonalData::Erase(const std::string& venue_id,
                         const std::string& attendee_id,
                         const std::string& actor,
                         Done<v1::EraseAttendeeResponse> done) {
  AuditEntry audit;
  audit.at = absl::Now();
  audit.actor = actor;
  audit.action = "erase_attendee";
  audit.target = venue_id;
  store_->EraseAttendee(
      venue_id, attendee_id, std::move(audit),
      [this, venue_id, attendee_id,
       done = std::move(done)](absl::StatusOr<EraseResult> erased) {
        if (!erased.ok()) return done(erased.status());
        v1::EraseAttendeeResponse response;
        response.set_convocations_erased(erased->convocations);
        response.set_tags_erased(erased->tags);
        response.set_habit_forgotten(
            learning_->ForgetAttendee(venue_id, attendee_id));
        Compact([done, response](absl::Status st) {
          if (!st.ok()) return done(st);
          done(response);
        });
      });
}

void PersonalData::PurgeBatch(absl::Time now, Done<PurgeResult> done) {
  store_->PurgeExpired(
      now, [this, done = std::move(done)](absl::StatusOr<PurgeResult> r) {
        if (!r.ok() || r->schedules == 0) return done(std::move(r));
        for (const auto& [venue_id, keep] : r->venues) {
          learning_->ForgetAttendeesExcept(venue_id, keep);
        }
        auto result = std::make_shared<PurgeResult>(*std::move(r));
        Compact([done, result](absl::Status st) {
          if (!st.ok()) return done(st);
          done(std::move(*result));
        });
      });
}

absl::StatusOr<int64_t> PersonalData::PurgeNow(absl::Time now) {
  int64_t total = 0;
  while (true) {
    std::promise<absl::StatusOr<PurgeResult>> batch;
    PurgeBatch(now, [&batch](absl::StatusOr<PurgeResult> r) {
      batch.set_value(std::move(r));
    });
    absl::StatusOr<PurgeResult> r = batch.get_future().get();
    if (!r.ok()) return r.status();
    if (r->schedules == 0) return total;
    total += r->schedules;
  }
}

}  // namespace noqueue::server
