#include "clients/demo_live.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "clients/demo_people.h"
#include "proto/base/wire_time.h"

namespace noqueue::client {
namespace {

using namespace demo;  // NOLINT: the demo's people

constexpr char kLivePrefix[] = "demo-live-";
constexpr double kDayMin = 240.0;
// One doctor is away from 10:00 to 10:45 (minutes from 08:00).
constexpr double kAwayFrom = 120.0, kAwayTo = 165.0;
// The clinic learns of it at 09:15 and says so at once.
constexpr double kAwayKnown = 75.0;
constexpr int kAwayDoctor = kDoctors - 1;
// Tags are sent every this many minutes of the day.
constexpr double kStepMin = 5.0;
constexpr double kFollowProbability = 0.8;

// A change of time sent to a patient.
struct Notice {
  size_t patient;
  double new_conv;
  double told_at;    // when the server decided (minutes)
  double delivered;  // when the patient reads it
};

// The clinic's day minute by minute: arrivals from each patient's current
// time, first come first served by the first free doctor (the away doctor
// starts nobody in [kAwayFrom, kAwayTo)), tags as they happen.
class ClinicDay {
 public:
  ClinicDay(std::vector<const Patient*> patients, std::vector<Truth> truth,
            std::vector<double> conv)
      : patients_(std::move(patients)),
        truth_(std::move(truth)),
        conv_(std::move(conv)),
        arrival_(patients_.size()),
        start_(patients_.size(), -1.0),
        end_(patients_.size(), -1.0),
        arrived_(patients_.size(), false),
        free_at_(kDoctors, 0.0) {
    for (size_t i = 0; i < patients_.size(); ++i) Schedule(i);
  }

  // A patient still to come follows a new time.
  void Move(size_t i, double new_conv, double now) {
    if (arrived_[i]) return;
    conv_[i] = new_conv;
    Schedule(i);
    arrival_[i] = std::max(arrival_[i], now);
  }
  bool Arrived(size_t i) const { return arrived_[i]; }

  // Everything that happens up to `now`, as tags (kind, patient, minute).
  struct Tag {
    v1::ArrivalKind kind;
    size_t patient;
    double minute;
  };
  std::vector<Tag> AdvanceTo(double now) {
    std::vector<Tag> out;
    for (size_t i = 0; i < patients_.size(); ++i) {
      if (!truth_[i].comes) {
        if (!no_show_sent_.contains(i) && conv_[i] + 30.0 <= now) {
          no_show_sent_.insert(i);
          out.push_back({v1::NO_SHOW, i, conv_[i] + 30.0});
        }
        continue;
      }
      if (!arrived_[i] && arrival_[i] <= now) {
        arrived_[i] = true;
        queue_.push_back(i);
        out.push_back({v1::ARRIVED, i, arrival_[i]});
      }
    }
    std::stable_sort(queue_.begin(), queue_.end(), [&](size_t a, size_t b) {
      return arrival_[a] < arrival_[b];
    });
    while (!queue_.empty()) {
      const size_t i = queue_.front();
      int best = -1;
      double best_start = 0.0;
      for (int d = 0; d < kDoctors; ++d) {
        double s = std::max({free_at_[d], arrival_[i], 0.0});
        if (d == kAwayDoctor && s >= kAwayFrom && s < kAwayTo) s = kAwayTo;
        if (best < 0 || s < best_start) best = d, best_start = s;
      }
      if (best_start > now) break;
      queue_.pop_front();
      start_[i] = best_start;
      end_[i] = best_start + truth_[i].service_min;
      free_at_[best] = end_[i];
      out.push_back({v1::SERVICE_STARTED, i, start_[i]});
    }
    for (size_t i = 0; i < patients_.size(); ++i) {
      if (start_[i] >= 0 && end_[i] <= now && !ended_.contains(i)) {
        ended_.insert(i);
        out.push_back({v1::SERVICE_ENDED, i, end_[i]});
      }
    }
    std::sort(out.begin(), out.end(),
              [](const Tag& a, const Tag& b) { return a.minute < b.minute; });
    return out;
  }
  bool Done() const {
    for (size_t i = 0; i < patients_.size(); ++i) {
      if (truth_[i].comes && !ended_.contains(i)) return false;
    }
    return true;
  }

  LiveDayResult::Figures Figures() const {
    LiveDayResult::Figures f;
    std::vector<double> waits;
    double busy = 0.0, last = 0.0;
    for (size_t i = 0; i < patients_.size(); ++i) {
      if (start_[i] < 0) continue;
      waits.push_back(start_[i] - arrival_[i]);
      busy += truth_[i].service_min;
      last = std::max(last, end_[i]);
    }
    double total = 0.0;
    for (double w : waits) total += w;
    std::sort(waits.begin(), waits.end());
    f.mean_wait = waits.empty() ? 0.0 : total / waits.size();
    f.p90_wait = waits.empty() ? 0.0 : waits[(waits.size() * 9) / 10];
    f.overtime = std::max(0.0, last - kDayMin);
    // The away doctor is not idle while away.
    f.idle = kDoctors * std::max(kDayMin, last) - (kAwayTo - kAwayFrom) - busy;
    f.cost = total + f.idle + 1.5 * f.overtime;
    return f;
  }

 private:
  void Schedule(size_t i) {
    arrival_[i] = conv_[i] + patients_[i]->habit_min + truth_[i].noise_min;
  }

  std::vector<const Patient*> patients_;
  std::vector<Truth> truth_;
  std::vector<double> conv_, arrival_, start_, end_;
  std::vector<bool> arrived_;
  std::vector<double> free_at_;
  std::deque<size_t> queue_;
  absl::flat_hash_set<size_t> ended_, no_show_sent_;
};

// Collects the schedule's re-timings from a watch in the background.
class Watcher {
 public:
  Watcher(NoQueueClient& client, std::string schedule_id)
      : thread_([this, &client, id = std::move(schedule_id)] {
          client
              .WatchSchedule(id, 0,
                             [this](const v1::ScheduleEvent& e) {
                               absl::MutexLock lock(&mu_);
                               if (e.kind() == v1::EVENT_RETIMED)
                                 events_.push_back(e);
                               return !stop_;
                             })
              .IgnoreError();
        }) {}
  ~Watcher() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }
  std::vector<v1::ScheduleEvent> Take() {
    absl::MutexLock lock(&mu_);
    std::vector<v1::ScheduleEvent> out;
    out.swap(events_);
    return out;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::ScheduleEvent> events_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<LiveDayResult> RunLiveDemo(NoQueueClient& client,
                                          const DemoOptions& o) {
  absl::Status st = EnsureVenue(client, o);
  if (!st.ok()) return st;
  auto listed = client.ListAllSchedules(o.venue_id);
  if (!listed.ok()) return listed.status();
  int played = 0;
  for (const auto& s : *listed) {
    played += s.request_id().rfind(kLivePrefix, 0) == 0;
  }
  // Live days are in April, after the replayed days of March.
  const int day = 31 + played;
  const absl::Time start = DayStart(day);
  const std::vector<Patient> population = Population(o);
  std::vector<const Patient*> patients;
  v1::CreateScheduleRequest request;
  request.set_venue_id(o.venue_id);
  request.set_request_id(absl::StrCat(kLivePrefix, played + 1));
  *request.mutable_window_start() = ToTimestamp(start);
  *request.mutable_window_end() = ToTimestamp(start + absl::Hours(4));
  for (int i : PatientsOfDay(o, day)) {
    patients.push_back(&population[i]);
    request.add_attendees()->set_attendee_id(population[i].id);
  }
  auto schedule = client.CreateSchedule(request);
  if (!schedule.ok()) return schedule.status();
  std::vector<double> conv;
  std::vector<const Patient*> ordered;  // in the schedule's order
  absl::flat_hash_map<std::string, size_t> index;
  for (const auto& c : schedule->convocations()) {
    conv.push_back(ToMinutes(ToTime(c.convocation_time()) - start));
    for (const Patient* p : patients) {
      if (p->id == c.attendee_id()) ordered.push_back(p);
    }
    const size_t position = index.size();
    index[c.attendee_id()] = position;
  }
  const std::vector<Truth> truth = DrawTruth(o, day, ordered);

  // The static plan: nobody is told anything.
  ClinicDay fixed(ordered, truth, conv);
  fixed.AdvanceTo(1e9);

  LiveDayResult out;
  out.date = absl::FormatTime("%Y-%m-%d", start, absl::UTCTimeZone());
  out.schedule_id = schedule->schedule_id();
  out.convoked = static_cast<int>(ordered.size());
  out.static_plan = fixed.Figures();

  ClinicDay live(ordered, truth, conv);
  Watcher watcher(client, schedule->schedule_id());
  std::mt19937_64 rng(o.seed * 31 + day);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<Notice> pending;
  auto tz = absl::FixedTimeZone(0);
  absl::LoadTimeZone(kTimeZone, &tz);
  auto clock = [&](double minute) {
    return absl::FormatTime("%H:%M", start + absl::Seconds(minute * 60), tz);
  };
  for (double now = kStepMin; now <= 600.0; now += kStepMin) {
    // Messages read by now are followed (or not).
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->delivered > now) {
        ++it;
        continue;
      }
      const bool follows = u(rng) < kFollowProbability;
      const bool in_time = !live.Arrived(it->patient);
      if (follows && in_time)
        live.Move(it->patient, it->new_conv, it->delivered);
      out.followed += follows && in_time;
      out.messages.push_back(absl::StrFormat(
          "%s %s -> %s, decided %s%s", ordered[it->patient]->id,
          clock(conv[it->patient]), clock(it->new_conv), clock(it->told_at),
          !in_time  ? " (already there)"
          : follows ? ""
                    : " (ignored)"));
      conv[it->patient] = it->new_conv;
      it = pending.erase(it);
    }
    if (now == kAwayKnown) {
      // Away from 10:00, back at 10:45.
      v1::UpdateServicePointsRequest desks;
      desks.set_venue_id(o.venue_id);
      desks.set_service_points(kDoctors);
      *desks.mutable_effective_from() =
          ToTimestamp(start + absl::Minutes(kAwayTo));
      if (auto r = client.UpdateServicePoints(desks); !r.ok())
        return r.status();
      desks.set_service_points(kDoctors - 1);
      *desks.mutable_effective_from() =
          ToTimestamp(start + absl::Minutes(kAwayFrom));
      if (auto r = client.UpdateServicePoints(desks); !r.ok())
        return r.status();
    }
    std::vector<v1::ArrivalEvent> tags;
    for (const ClinicDay::Tag& t : live.AdvanceTo(now)) {
      v1::ArrivalEvent e;
      e.set_event_id(absl::StrCat(out.schedule_id, ":", ordered[t.patient]->id,
                                  ":", v1::ArrivalKind_Name(t.kind)));
      e.set_schedule_id(out.schedule_id);
      e.set_attendee_id(ordered[t.patient]->id);
      e.set_kind(t.kind);
      *e.mutable_observed_at() =
          ToTimestamp(start + absl::Seconds(std::round(t.minute * 60.0)));
      e.set_device_id(t.kind == v1::ARRIVED ? "entrance" : "desk");
      tags.push_back(std::move(e));
    }
    if (!tags.empty()) {
      auto acks = client.RecordArrivals(tags);
      if (!acks.ok()) return acks.status();
    }
    // Let the server react as it would while the minutes pass.
    absl::SleepFor(absl::Milliseconds(40));
    for (const v1::ScheduleEvent& e : watcher.Take()) {
      auto it = index.find(e.attendee_id());
      if (it == index.end()) continue;
      const double told = ToMinutes(ToTime(e.at()) - start);
      pending.push_back({it->second,
                         ToMinutes(ToTime(e.convocation_time()) - start), told,
                         told + 1.0 + 2.0 * u(rng)});
    }
    if (now >= kDayMin && live.Done() && pending.empty()) break;
  }
  out.live = live.Figures();
  return out;
}

std::string FormatLiveDay(const LiveDayResult& d) {
  std::string out = absl::StrFormat(
      "\nA disrupted day, played live (%s, %d patients): one of the 3 doctors "
      "is away 10:00-10:45 (known at 09:15).\n%-22s %9s %9s %9s %9s %9s\n",
      d.date, d.convoked, "minutes", "mean wait", "P90 wait", "idle",
      "overtime", "cost");
  auto row = [&](const char* name, const LiveDayResult::Figures& f) {
    absl::StrAppend(
        &out,
        absl::StrFormat("%-22s %9.1f %9.1f %9.0f %9.1f %9.0f\n", name,
                        f.mean_wait, f.p90_wait, f.idle, f.overtime, f.cost));
  };
  row("plan kept as it was", d.static_plan);
  row("NoQueue live re-timing", d.live);
  absl::StrAppend(&out,
                  absl::StrFormat("%d messages (%d followed), each with at "
                                  "least 30 minutes' notice:\n",
                                  d.messages.size(), d.followed));
  for (const std::string& m : d.messages) absl::StrAppend(&out, "  ", m, "\n");
  return out;
}

}  // namespace noqueue::client
