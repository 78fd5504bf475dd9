// LiveDays: the running schedules. It re-times the attendees who have not
// come yet when the day drifts from the plan (tags, a declared delay or
// cancellation, a desk change, a periodic tick of the live clock), stores
// each change as an event with its reason, and wakes the watchers of the
// schedule's events.
//
// The state of a day is never kept apart from its events: each re-timing
// folds the schedule's stored events (LiveState), so a restart loses
// nothing. Re-timings run on the planner's threads, one at a time per
// schedule (a trigger during one asks for another after it), and those
// triggered by tags at most once per `min_interval` of the live clock.
#ifndef NOQUEUE_SERVER_LIVE_LIVE_DAYS_H_
#define NOQUEUE_SERVER_LIVE_LIVE_DAYS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "scheduler/live_retiming.h"
#include "server/common/executor.h"
#include "server/core/crowd_tracker.h"
#include "server/live/live_clock.h"
#include "server/live/live_state.h"
#include "server/store/store.h"

namespace noqueue::server {

struct LiveOptions {
  // The periodic re-timing, in live-clock time.
  absl::Duration tick = absl::Minutes(5);
  // Tags re-time a schedule at most this often (live-clock time).
  absl::Duration min_interval = absl::Minutes(2);
  // How often (wall time) the ticker looks at the running schedules.
  absl::Duration tick_check = absl::Seconds(1);
  scheduler::RetimeOptions retime;
  // Watches one credential may hold open at once (an attendee's phone and a
  // few tabs; a venue's screens and back office).
  int max_watches_per_attendee = 4;
  int max_watches_per_key = 64;
};

class LiveDays {
 public:
  // Woken with the events a schedule it watches has just stored. Reference
  // counted: the owner holds one reference and drops it with Unref (after
  // Unsubscribe); a wake in progress holds another, so a watcher is never
  // deleted under it.
  class Watcher {
   public:
    virtual ~Watcher() = default;
    // `events`: the schedule's events of one commit, by seq. From Subscribe
    // on, every commit that holds an event the watcher streams (any event,
    // or for one attendee's watcher, theirs and the schedule-wide ones) is
    // handed to it this way, once, in commit order, from the store's
    // completion thread; others are not (so the watcher filters what it
    // gets). What was stored before Subscribe is in the store for it to
    // read: once it has read the store to its end, the wakes bring all that
    // follows. It must not block.
    virtual void Wake(absl::Span<const v1::ScheduleEvent* const> events) = 0;
    void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
    void Unref() {
      if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

   private:
    std::atomic<int> refs_{1};
  };

  LiveDays(Store* store, CrowdTracker* crowd, BoundedExecutor* planner,
           LiveClock* clock, LiveOptions options);
  ~LiveDays();
  // Stops the ticker; later triggers are ignored. Idempotent.
  void Stop();

  LiveClock& clock() { return *clock_; }
  const LiveOptions& options() const { return options_; }
  // A schedule and its live state (NOT_FOUND naming schedule_id).
  absl::StatusOr<LiveState> Load(const std::string& schedule_id);

  // On start: tracks every stored schedule not over yet, and re-times those
  // already running (what a crash left un-acted on is acted on now).
  absl::Status Recover();
  // A new schedule: it will be ticked while it runs.
  void Track(const v1::Schedule& schedule);
  // Stores events (validated by the caller against Load), wakes the
  // watchers, then re-times their schedule for `reason`; `done` gets the
  // stored events once the re-timing they trigger is stored too.
  void Append(std::vector<v1::ScheduleEvent> events, std::string reason,
              Done<std::vector<v1::ScheduleEvent>> done);
  // Events stored by others (tags): wakes the watchers, re-times.
  void TagsStored(const std::vector<v1::ScheduleEvent>& events);
  // Re-times a schedule (asynchronously); `done` runs once that re-timing
  // is stored (or found nothing worth changing).
  void RequestRetime(const std::string& schedule_id, std::string reason,
                     std::function<void()> done = {});

  // `w` watches `schedule_id`'s events: all of them, or with `attendee_id`,
  // that attendee's and the schedule-wide ones. `holder` names the
  // credential it came with (an attendee's convocation, an API key); empty:
  // not counted. RESOURCE_EXHAUSTED when that credential already holds
  // `limit` watchers.
  absl::Status Subscribe(const std::string& schedule_id,
                         const std::string& attendee_id, Watcher* w,
                         const std::string& holder, int limit);
  void Unsubscribe(const std::string& schedule_id,
                   const std::string& attendee_id, Watcher* w);

 private:
  struct Running {
    absl::Time window_start = absl::InfiniteFuture();
    absl::Time window_end = absl::InfinitePast();
    absl::Time last_retime = absl::InfinitePast();
    bool retiming = false;
    bool again = false;
    std::string reason;
    std::vector<std::function<void()>> waiting;  // for the next re-timing
  };

  void Wake(const std::vector<v1::ScheduleEvent>& events);
  // Runs one re-timing, then the next asked for meanwhile (planner thread).
  void RunRetime(std::string schedule_id, std::string reason,
                 std::vector<std::function<void()>> waiting);
  // The changes (and the KPIs they promise) worth publishing now.
  std::vector<v1::ScheduleEvent> Retime(const std::string& schedule_id,
                                        const std::string& reason);
  void Retimed(const std::string& schedule_id,
               std::vector<std::function<void()>> waiting);
  void TickLoop();

  Store* const store_;
  CrowdTracker* const crowd_;
  BoundedExecutor* const planner_;
  LiveClock* const clock_;
  const LiveOptions options_;
  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, Running> running_ ABSL_GUARDED_BY(mu_);
  struct Entry {
    Watcher* watcher;
    std::string holder;
  };
  // A schedule's watchers: of every event, and of one attendee's.
  struct Watched {
    std::vector<Entry> all;
    absl::flat_hash_map<std::string, std::vector<Entry>> by_attendee;
    bool empty() const { return all.empty() && by_attendee.empty(); }
  };
  absl::flat_hash_map<std::string, Watched> watchers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> holders_ ABSL_GUARDED_BY(mu_);
  std::thread ticker_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_LIVE_LIVE_DAYS_H_
