#include "server/live/live_days.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "proto/base/status_macros.h"
#include "proto/base/wire_time.h"
#include "server/common/executor.h"

namespace noqueue::server {
namespace {

// Events read per page when folding a schedule.
constexpr int kEventPage = 4096;

constexpr char kTagsReason[] = "tags";
constexpr char kTickReason[] = "the periodic tick";
constexpr char kRecoveryReason[] = "the server's restart";

// Whether the rest of the day, as it stands, has left what the schedule
// promised (its 90% range of the mean wait, or of overtime, with some
// slack): tags and ticks re-time only then. The plan was made for the
// uncertainty it hedged against; re-timing it when nothing has gone wrong
// would undo that hedge, not help.
bool Drifted(const v1::ScheduleKpis& promised,
             const scheduler::LiveOutcome& now) {
  const double wait_limit =
      std::max(ToMinutes(ToDuration(promised.mean_wait_range90().high())),
               ToMinutes(ToDuration(promised.expected_mean_wait())) + 5.0);
  const double overtime_limit =
      std::max(ToMinutes(ToDuration(promised.overtime_range90().high())),
               ToMinutes(ToDuration(promised.overtime())) + 10.0);
  return now.mean_wait_min > wait_limit || now.overtime_min > overtime_limit;
}

}  // namespace

LiveDays::LiveDays(Store* store, CrowdTracker* crowd, BoundedExecutor* planner,
                   LiveClock* clock, LiveOptions options)
    : store_(store),
      crowd_(crowd),
      planner_(planner),
      clock_(clock),
      options_(options) {
  ticker_ = std::thread([this] {
    NameThisThread("nq-live");
    TickLoop();
  });
}

LiveDays::~LiveDays() { Stop(); }

void LiveDays::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (ticker_.joinable()) ticker_.join();
}

absl::StatusOr<LiveState> LiveDays::Load(const std::string& schedule_id) {
  ASSIGN_OR_RETURN(v1::Schedule schedule, store_->GetSchedule(schedule_id));
  std::vector<v1::ScheduleEvent> events;
  int64_t after = 0;
  while (true) {
    ASSIGN_OR_RETURN(
        std::vector<v1::ScheduleEvent> page,
        store_->ListScheduleEvents(schedule_id, after, kEventPage));
    if (page.empty()) break;
    after = page.back().seq();
    const bool last = page.size() < kEventPage;
    for (v1::ScheduleEvent& e : page) events.push_back(std::move(e));
    if (last) break;
  }
  return FoldLive(std::move(schedule), events);
}

absl::Status LiveDays::Recover() {
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(std::vector<Store::ScheduleWindow> days,
                   store_->SchedulesNotOverAt(now));
  std::vector<std::string> running;
  {
    absl::MutexLock lock(&mu_);
    for (const Store::ScheduleWindow& w : days) {
      Running& r = running_[w.schedule_id];
      r.window_start = w.start;
      r.window_end = w.end;
      if (w.start <= now) running.push_back(w.schedule_id);
    }
  }
  // A cause stored just before a crash (a desk change, a delay) may not have
  // been acted on: each running day is re-timed once, from all its events.
  for (const std::string& id : running) RequestRetime(id, kRecoveryReason);
  return absl::OkStatus();
}

void LiveDays::Track(const v1::Schedule& schedule) {
  absl::MutexLock lock(&mu_);
  Running& r = running_[schedule.schedule_id()];
  r.window_start = ToTime(schedule.window_start());
  r.window_end = ToTime(schedule.window_end());
}

void LiveDays::Append(std::vector<v1::ScheduleEvent> events, std::string reason,
                      Done<std::vector<v1::ScheduleEvent>> done) {
  store_->AppendScheduleEvents(
      std::move(events),
      [this, reason = std::move(reason), done = std::move(done)](
          absl::StatusOr<std::vector<v1::ScheduleEvent>> stored) mutable {
        if (!stored.ok()) return done(std::move(stored));
        Wake(*stored);
        std::vector<std::string> ids;
        for (const v1::ScheduleEvent& e : *stored) {
          if (std::find(ids.begin(), ids.end(), e.schedule_id()) == ids.end())
            ids.push_back(e.schedule_id());
        }
        // `done` once every schedule's re-timing is stored.
        struct Pending {
          absl::Mutex mu;
          size_t left;
          std::vector<v1::ScheduleEvent> events;
          Done<std::vector<v1::ScheduleEvent>> done;
        };
        auto pending = std::make_shared<Pending>();
        pending->left = ids.size();
        pending->events = *std::move(stored);
        pending->done = std::move(done);
        if (ids.empty()) return pending->done(std::move(pending->events));
        for (const std::string& id : ids) {
          RequestRetime(id, reason, [pending] {
            bool last;
            {
              absl::MutexLock lock(&pending->mu);
              last = --pending->left == 0;
            }
            if (last) pending->done(std::move(pending->events));
          });
        }
      });
}

void LiveDays::TagsStored(const std::vector<v1::ScheduleEvent>& events) {
  if (events.empty()) return;
  for (const v1::ScheduleEvent& e : events) clock_->Observe(ToTime(e.at()));
  Wake(events);
  const absl::Time now = clock_->Now();
  std::vector<std::string> due;
  {
    absl::MutexLock lock(&mu_);
    for (const v1::ScheduleEvent& e : events) {
      auto it = running_.find(e.schedule_id());
      // Unknown here (made before a restart): the re-timing loads it.
      if (it != running_.end() &&
          (now < it->second.window_start || now >= it->second.window_end ||
           now - it->second.last_retime < options_.min_interval)) {
        continue;
      }
      if (due.empty() || due.back() != e.schedule_id()) {
        due.push_back(e.schedule_id());
      }
    }
  }
  for (const std::string& id : due) RequestRetime(id, kTagsReason);
}

void LiveDays::Wake(const std::vector<v1::ScheduleEvent>& events) {
  // Each schedule's events, in commit order (their order here).
  absl::flat_hash_map<absl::string_view, std::vector<const v1::ScheduleEvent*>>
      by_schedule;
  for (const v1::ScheduleEvent& e : events) {
    by_schedule[e.schedule_id()].push_back(&e);
  }
  struct Woken {
    Watcher* watcher;
    const std::vector<const v1::ScheduleEvent*>* events;
  };
  std::vector<Woken> woken;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& group : by_schedule) {
      // Not a structured binding: clang 14 cannot capture one in a lambda.
      const std::vector<const v1::ScheduleEvent*>& mine = group.second;
      auto it = watchers_.find(group.first);
      if (it == watchers_.end()) continue;
      const Watched& watched = it->second;
      auto wake = [&](const std::vector<Entry>& entries) {
        for (const Entry& entry : entries) {
          entry.watcher->Ref();
          woken.push_back({entry.watcher, &mine});
        }
      };
      wake(watched.all);
      if (watched.by_attendee.empty()) continue;
      // A schedule-wide event is everyone's; otherwise only the attendees
      // the commit names are woken (a tag wakes its attendee's phones, not
      // the thousand others watching the day).
      const bool wide = std::any_of(mine.begin(), mine.end(), [](auto* e) {
        return e->attendee_id().empty();
      });
      if (wide) {
        for (const auto& [attendee, entries] : watched.by_attendee) {
          wake(entries);
        }
        continue;
      }
      absl::flat_hash_set<absl::string_view> named;
      for (const v1::ScheduleEvent* e : mine) {
        if (!named.insert(e->attendee_id()).second) continue;
        auto a = watched.by_attendee.find(e->attendee_id());
        if (a != watched.by_attendee.end()) wake(a->second);
      }
    }
  }
  for (const Woken& k : woken) {
    k.watcher->Wake(*k.events);
    k.watcher->Unref();
  }
}

absl::Status LiveDays::Subscribe(const std::string& schedule_id,
                                 const std::string& attendee_id, Watcher* w,
                                 const std::string& holder, int limit) {
  absl::MutexLock lock(&mu_);
  if (!holder.empty()) {
    int& held = holders_[holder];
    if (held >= limit) {
      return absl::ResourceExhaustedError(
          absl::StrCat("watch: this credential already holds ", held,
                       " open watches, the most it may (end one first)"));
    }
    ++held;
  }
  Watched& watched = watchers_[schedule_id];
  (attendee_id.empty() ? watched.all : watched.by_attendee[attendee_id])
      .push_back({w, holder});
  return absl::OkStatus();
}

void LiveDays::Unsubscribe(const std::string& schedule_id,
                           const std::string& attendee_id, Watcher* w) {
  absl::MutexLock lock(&mu_);
  auto it = watchers_.find(schedule_id);
  if (it == watchers_.end()) return;
  Watched& watched = it->second;
  auto a = watched.by_attendee.end();
  std::vector<Entry>* list = &watched.all;
  if (!attendee_id.empty()) {
    a = watched.by_attendee.find(attendee_id);
    if (a == watched.by_attendee.end()) return;
    list = &a->second;
  }
  auto mine = std::find_if(list->begin(), list->end(),
                           [w](const Entry& e) { return e.watcher == w; });
  if (mine == list->end()) return;
  if (!mine->holder.empty()) {
    auto held = holders_.find(mine->holder);
    if (held != holders_.end() && --held->second <= 0) holders_.erase(held);
  }
  list->erase(mine);
  if (list->empty() && a != watched.by_attendee.end()) {
    watched.by_attendee.erase(a);
  }
  if (watched.empty()) watchers_.erase(it);
}

void LiveDays::RequestRetime(const std::string& schedule_id, std::string reason,
                             std::function<void()> done) {
  std::vector<std::function<void()>> waiting;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_ || schedule_id.empty()) {
      if (done) done();
      return;
    }
    Running& r = running_[schedule_id];
    if (done) r.waiting.push_back(std::move(done));
    if (r.retiming) {
      r.again = true;
      r.reason = std::move(reason);
      return;
    }
    r.retiming = true;
    waiting.swap(r.waiting);
  }
  auto task = std::make_shared<std::function<void()>>(
      [this, schedule_id, reason, waiting]() mutable {
        RunRetime(schedule_id, std::move(reason), std::move(waiting));
      });
  if (!planner_->TrySubmit([task] { (*task)(); })) {
    // The planners are saturated: answer now; the next tick re-times.
    Retimed(schedule_id, std::move(waiting));
  }
}

void LiveDays::RunRetime(std::string schedule_id, std::string reason,
                         std::vector<std::function<void()>> waiting) {
  std::vector<v1::ScheduleEvent> changes = Retime(schedule_id, reason);
  if (changes.empty()) return Retimed(schedule_id, std::move(waiting));
  auto shared_waiting =
      std::make_shared<std::vector<std::function<void()>>>(std::move(waiting));
  store_->AppendScheduleEvents(
      std::move(changes),
      [this, schedule_id,
       shared_waiting](absl::StatusOr<std::vector<v1::ScheduleEvent>> stored) {
        if (stored.ok()) Wake(*stored);
        Retimed(schedule_id, std::move(*shared_waiting));
      });
}

void LiveDays::Retimed(const std::string& schedule_id,
                       std::vector<std::function<void()>> waiting) {
  for (auto& done : waiting) done();
  std::string reason;
  std::vector<std::function<void()>> next;
  {
    absl::MutexLock lock(&mu_);
    auto it = running_.find(schedule_id);
    if (it == running_.end()) return;
    Running& r = it->second;
    if (!r.again || stopped_) {
      r.retiming = false;
      next.swap(r.waiting);
      if (next.empty()) return;
    } else {
      r.again = false;
      reason = std::move(r.reason);
      next.swap(r.waiting);
    }
  }
  if (reason.empty()) {
    for (auto& done : next) done();  // stopped: nothing more will run
    return;
  }
  auto task = std::make_shared<std::function<void()>>(
      [this, schedule_id, reason, next]() mutable {
        RunRetime(schedule_id, std::move(reason), std::move(next));
      });
  if (!planner_->TrySubmit([task] { (*task)(); })) {
    Retimed(schedule_id, std::move(next));
  }
}

std::vector<v1::ScheduleEvent> LiveDays::Retime(const std::string& schedule_id,
                                                const std::string& reason) {
  absl::StatusOr<LiveState> st = Load(schedule_id);
  if (!st.ok()) return {};
  const v1::Schedule& s = st->schedule;
  const absl::Time now = clock_->Now();
  const absl::Time start = ToTime(s.window_start());
  const absl::Time end = ToTime(s.window_end());
  {
    absl::MutexLock lock(&mu_);
    Running& r = running_[schedule_id];
    r.window_start = start;
    r.window_end = end;
    r.last_retime = now;
  }
  if (s.retiming().disabled() || now < start || now >= end) return {};
  absl::StatusOr<v1::Venue> venue = store_->GetVenue(s.venue_id());
  if (!venue.ok()) return {};
  const VenueLive live = crowd_->ForPlanning(*venue, now);
  const scheduler::LiveDay day =
      ToLiveDay(*st, now, live.service.day, venue->service_points());
  if (day.to_come.empty()) return {};
  scheduler::CostWeights weights;
  if (s.has_weights()) {
    weights = {s.weights().wait(), s.weights().idle(), s.weights().overtime()};
  }
  if (reason == kTagsReason || reason == kTickReason) {
    std::vector<double> current;
    for (const scheduler::ComingAttendee& c : day.to_come) {
      current.push_back(c.convocation_min);
    }
    if (!Drifted(s.kpis(), scheduler::SimulateRest(day, current, weights,
                                                   options_.retime.replications,
                                                   options_.retime.seed))) {
      return {};
    }
  }
  const scheduler::Retiming r = scheduler::Retime(
      day, ToSchedulerRules(s.retiming()), weights, options_.retime);
  std::vector<v1::ScheduleEvent> events;
  size_t i = 0;  // to_come holds the expected attendees, in order
  for (const LiveAttendee& a : st->attendees) {
    if (a.state != v1::ATTENDEE_STATE_UNSPECIFIED) continue;
    const std::optional<double>& moved = r.new_min[i++];
    if (!moved) continue;
    v1::ScheduleEvent e;
    e.set_schedule_id(schedule_id);
    e.set_kind(v1::EVENT_RETIMED);
    e.set_attendee_id(a.attendee_id);
    *e.mutable_at() = ToTimestamp(now);
    *e.mutable_convocation_time() =
        ToTimestamp(start + absl::Seconds(std::round(*moved * 60.0)));
    *e.mutable_previous_time() = ToTimestamp(a.current);
    e.set_reason(reason);
    events.push_back(std::move(e));
  }
  if (events.empty()) return {};
  v1::ScheduleEvent kpis;
  kpis.set_schedule_id(schedule_id);
  kpis.set_kind(v1::EVENT_KPIS_UPDATED);
  *kpis.mutable_at() = ToTimestamp(now);
  kpis.set_reason(reason);
  *kpis.mutable_expected_mean_wait() = MinutesToDuration(r.mean_wait_after_min);
  *kpis.mutable_expected_overtime() = MinutesToDuration(r.overtime_after_min);
  events.push_back(std::move(kpis));
  return events;
}

void LiveDays::TickLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto stopped = [this]()
                         ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopped_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopped),
                               options_.tick_check)) {
        return;
      }
    }
    const absl::Time now = clock_->Now();
    std::vector<std::string> due;
    {
      absl::MutexLock lock(&mu_);
      for (auto it = running_.begin(); it != running_.end();) {
        Running& r = it->second;
        if (now >= r.window_end && !r.retiming && r.waiting.empty()) {
          running_.erase(it++);  // the day is over
          continue;
        }
        if (now >= r.window_start && now < r.window_end && !r.retiming &&
            now - r.last_retime >= options_.tick) {
          due.push_back(it->first);
        }
        ++it;
      }
    }
    for (const std::string& id : due) RequestRetime(id, kTickReason);
  }
}

}  // namespace noqueue::server
