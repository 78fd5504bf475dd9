#include "clients/demo_day.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/demo_people.h"
#include "proto/base/wire_time.h"

namespace noqueue::client {
namespace demo {

std::vector<Patient> Population(const DemoOptions& o) {
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> habit(-15.0, 12.0);
  std::uniform_real_distribution<double> spread(2.0, 6.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<Patient> out;
  for (int i = 0; i < o.population; ++i) {
    Patient p;
    p.id = absl::StrFormat("patient-%03d", i + 1);
    p.habit_min = habit(rng);
    p.spread_min = spread(rng);
    p.no_show = u(rng) < 0.8 ? 0.05 : 0.35;
    out.push_back(p);
  }
  return out;
}

absl::Time DayStart(int day) {
  absl::TimeZone tz;
  absl::LoadTimeZone(kTimeZone, &tz);
  // Mondays to Sundays from 2 March 2026, 08:00-12:00 local: in the past, so
  // that tags are not taken for a device's clock running ahead.
  return absl::FromCivil(absl::CivilSecond(2026, 3, 2 + day - 1, 8, 0, 0), tz);
}

std::vector<int> PatientsOfDay(const DemoOptions& o, int day) {
  std::vector<int> idx(o.population);
  std::iota(idx.begin(), idx.end(), 0);
  std::mt19937_64 rng(o.seed * 1000 + day);
  std::shuffle(idx.begin(), idx.end(), rng);
  idx.resize(std::min(o.patients_per_day, o.population));
  return idx;
}

std::vector<Truth> DrawTruth(const DemoOptions& o, int day,
                             const std::vector<const Patient*>& patients) {
  std::mt19937_64 rng(o.seed * 7919 + day);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> z(0.0, 1.0);
  const double s2 = std::log1p(kConsultationCv * kConsultationCv);
  std::vector<Truth> out;
  for (const Patient* p : patients) {
    Truth t;
    t.comes = u(rng) >= p->no_show;
    t.noise_min = z(rng) * p->spread_min;
    t.service_min = std::exp(std::log(kConsultationMin) - 0.5 * s2 +
                             std::sqrt(s2) * z(rng));
    out.push_back(t);
  }
  return out;
}

absl::Status EnsureVenue(NoQueueClient& client, const DemoOptions& o) {
  absl::StatusOr<v1::Venue> existing = client.GetVenue(o.venue_id);
  if (existing.ok()) return absl::OkStatus();
  if (existing.status().code() != absl::StatusCode::kNotFound) {
    return existing.status();
  }
  v1::Venue venue;
  venue.set_venue_id(o.venue_id);
  venue.set_display_name("Demo clinic (3 doctors)");
  venue.set_convocation_type(v1::MEDICAL);
  venue.set_time_zone(kTimeZone);
  venue.set_service_points(kDoctors);
  venue.mutable_mean_service_time()->set_seconds(
      static_cast<int64_t>(kConsultationMin * 60));
  return client.UpsertVenue(venue).status();
}

}  // namespace demo

namespace {

using namespace demo;  // NOLINT: the demo's people

struct Outcome {
  std::vector<double> arrival, start, end;  // minutes from window start
  double mean_wait = 0.0;
  double total_wait = 0.0;
  double idle = 0.0;  // doctors' idle minutes until the day ends
  double overtime = 0.0;
  int came = 0;
  // The clinic's cost (its default weights): wait + idle + 1.5 x overtime.
  double Cost() const { return total_wait + idle + 1.5 * overtime; }
};

// First come, first served by the first free doctor, never before opening.
Outcome Play(const std::vector<const Patient*>& patients,
             const std::vector<Truth>& truth, const std::vector<double>& conv,
             double window_min) {
  const size_t n = patients.size();
  Outcome out;
  out.arrival.assign(n, 0.0);
  out.start.assign(n, 0.0);
  out.end.assign(n, 0.0);
  std::vector<size_t> order;
  for (size_t i = 0; i < n; ++i) {
    out.arrival[i] = conv[i] + patients[i]->habit_min + truth[i].noise_min;
    if (truth[i].comes) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return out.arrival[a] < out.arrival[b];
  });
  std::priority_queue<double, std::vector<double>, std::greater<double>>
      free_at;
  for (int d = 0; d < kDoctors; ++d) free_at.push(0.0);
  double wait = 0.0, last = 0.0, busy = 0.0;
  for (size_t i : order) {
    out.start[i] = std::max({out.arrival[i], free_at.top(), 0.0});
    free_at.pop();
    out.end[i] = out.start[i] + truth[i].service_min;
    free_at.push(out.end[i]);
    wait += out.start[i] - out.arrival[i];
    busy += truth[i].service_min;
    last = std::max(last, out.end[i]);
  }
  out.came = static_cast<int>(order.size());
  out.total_wait = wait;
  out.mean_wait = order.empty() ? 0.0 : wait / order.size();
  out.overtime = std::max(0.0, last - window_min);
  out.idle = kDoctors * std::max(window_min, last) - busy;
  return out;
}

absl::StatusOr<v1::Schedule> PlayNewDay(
    NoQueueClient& client, const DemoOptions& o, int day,
    const std::vector<Patient>& population) {
  const absl::Time start = DayStart(day);
  const absl::Time end = start + absl::Hours(4);
  v1::CreateScheduleRequest request;
  request.set_venue_id(o.venue_id);
  request.set_request_id(absl::StrCat(kRequestPrefix, day));
  // These days are replayed after the fact: nothing to re-time (the live
  // day is demo_live.cc's).
  request.mutable_retiming()->set_disabled(true);
  *request.mutable_window_start() = ToTimestamp(start);
  *request.mutable_window_end() = ToTimestamp(end);
  std::vector<const Patient*> patients;
  for (int i : PatientsOfDay(o, day)) {
    patients.push_back(&population[i]);
    request.add_attendees()->set_attendee_id(population[i].id);
  }
  absl::StatusOr<v1::Schedule> schedule = client.CreateSchedule(request);
  if (!schedule.ok()) return schedule.status();

  std::vector<double> conv;
  for (const auto& c : schedule->convocations()) {
    conv.push_back(absl::ToDoubleMinutes(ToTime(c.convocation_time()) - start));
  }
  const std::vector<Truth> truth = DrawTruth(o, day, patients);
  const Outcome outcome = Play(patients, truth, conv, 240.0);
  std::vector<v1::ArrivalEvent> tags;
  auto tag = [&](size_t i, v1::ArrivalKind kind, double minute) {
    v1::ArrivalEvent e;
    e.set_event_id(absl::StrCat(schedule->schedule_id(), ":", patients[i]->id,
                                ":", v1::ArrivalKind_Name(kind)));
    e.set_schedule_id(schedule->schedule_id());
    e.set_attendee_id(patients[i]->id);
    e.set_kind(kind);
    *e.mutable_observed_at() =
        ToTimestamp(start + absl::Seconds(std::round(minute * 60.0)));
    e.set_device_id(kind == v1::ARRIVED ? "entrance" : "desk");
    tags.push_back(std::move(e));
  };
  for (size_t i = 0; i < patients.size(); ++i) {
    if (!truth[i].comes) {
      tag(i, v1::NO_SHOW, conv[i] + 30.0);
      continue;
    }
    tag(i, v1::ARRIVED, outcome.arrival[i]);
    tag(i, v1::SERVICE_STARTED, outcome.start[i]);
    tag(i, v1::SERVICE_ENDED, outcome.end[i]);
  }
  std::sort(tags.begin(), tags.end(), [](const auto& a, const auto& b) {
    return a.observed_at().seconds() < b.observed_at().seconds();
  });
  std::vector<v1::ArrivalAck> acks;
  absl::Status st = client.StreamArrivals(tags, &acks);
  if (!st.ok()) return st;
  for (const auto& ack : acks) {
    if (ack.status() == v1::REJECTED) {
      return absl::InternalError(
          absl::StrCat("demo tag rejected: ", ack.message()));
    }
  }
  return schedule;
}

DemoDay Score(const DemoOptions& o, int day, const v1::Schedule& schedule,
              const std::vector<Patient>& population) {
  absl::flat_hash_map<std::string, const Patient*> by_id;
  for (const auto& p : population) by_id[p.id] = &p;
  const absl::Time start = ToTime(schedule.window_start());
  std::vector<const Patient*> patients;
  std::vector<double> conv;
  DemoDay d;
  d.day = day;
  d.date = absl::FormatTime("%Y-%m-%d", start, absl::UTCTimeZone());
  d.schedule_id = schedule.schedule_id();
  for (const auto& c : schedule.convocations()) {
    const Patient* p = by_id.at(c.attendee_id());
    patients.push_back(p);
    const absl::Time at = ToTime(c.convocation_time());
    conv.push_back(absl::ToDoubleMinutes(at - start));
    double predicted =
        absl::ToDoubleMinutes(ToTime(c.predicted_arrival().p50()) - at);
    d.offset_error_min += std::abs(predicted - p->habit_min);
    d.punctual_error_min += std::abs(p->habit_min);
  }
  const size_t n = patients.size();
  d.convoked = static_cast<int>(n);
  d.offset_error_min /= n;
  d.punctual_error_min /= n;
  std::vector<double> naive(n);
  for (size_t i = 0; i < n; ++i) naive[i] = std::round(240.0 * i / n);
  const std::vector<Truth> truth = DrawTruth(o, day, patients);
  const Outcome real = Play(patients, truth, conv, 240.0);
  const Outcome base = Play(patients, truth, naive, 240.0);
  d.came = real.came;
  d.actual_wait_min = real.mean_wait;
  d.naive_actual_wait_min = base.mean_wait;
  d.actual_overtime_min = real.overtime;
  d.naive_actual_overtime_min = base.overtime;
  d.actual_idle_min = real.idle;
  d.naive_actual_idle_min = base.idle;
  d.actual_cost = real.Cost();
  d.naive_actual_cost = base.Cost();
  auto minutes = [](const google::protobuf::Duration& m) {
    return absl::ToDoubleMinutes(ToDuration(m));
  };
  d.promised_wait_min = minutes(schedule.kpis().expected_mean_wait());
  d.promised_wait_low_min = minutes(schedule.kpis().mean_wait_range90().low());
  d.promised_wait_high_min =
      minutes(schedule.kpis().mean_wait_range90().high());
  d.naive_promised_wait_min =
      minutes(schedule.naive_kpis().expected_mean_wait());
  return d;
}

}  // namespace

absl::StatusOr<std::vector<DemoDay>> RunDemo(NoQueueClient& client,
                                             const DemoOptions& o) {
  if (o.population < 1 || o.patients_per_day < 1 || o.days < 0) {
    return absl::InvalidArgumentError(
        "demo: population, patients per day and "
        "days must be positive");
  }
  absl::Status st = EnsureVenue(client, o);
  if (!st.ok()) return st;
  const std::vector<Patient> population = Population(o);
  absl::StatusOr<std::vector<v1::Schedule>> listed =
      client.ListAllSchedules(o.venue_id);
  if (!listed.ok()) return listed.status();
  std::vector<std::pair<int, std::string>> played;  // day, schedule id
  for (const auto& s : *listed) {
    int day;
    const std::string& rid = s.request_id();
    if (rid.rfind(kRequestPrefix, 0) == 0 &&
        absl::SimpleAtoi(rid.substr(sizeof(kRequestPrefix) - 1), &day)) {
      played.emplace_back(day, s.schedule_id());
    }
  }
  int next = 1;
  for (const auto& [day, id] : played) next = std::max(next, day + 1);
  for (int k = 0; k < o.days; ++k) {
    absl::StatusOr<v1::Schedule> s =
        PlayNewDay(client, o, next + k, population);
    if (!s.ok()) return s.status();
    played.emplace_back(next + k, s->schedule_id());
  }
  std::sort(played.begin(), played.end());
  std::vector<DemoDay> out;
  for (const auto& [day, id] : played) {
    absl::StatusOr<v1::Schedule> s = client.GetSchedule(id);
    if (!s.ok()) return s.status();
    out.push_back(Score(o, day, *s, population));
  }
  return out;
}

std::string FormatDemoTable(const std::vector<DemoDay>& days) {
  std::string out = absl::StrFormat(
      "%-4s %-10s %4s %4s | %-15s | %-29s | %-13s | %-13s | %-13s\n", "day",
      "date", "conv", "came", "arrival error", "mean wait (min)", "idle (min)",
      "overtime (min)", "cost");
  absl::StrAppend(
      &out, absl::StrFormat(
                "%-4s %-10s %4s %4s | %7s %7s | %-14s %6s %6s | %6s "
                "%6s | %6s %6s | %6s %6s\n",
                "", "", "", "", "NoQueue", "punct.", "promised (90%)", "actual",
                "naive", "NoQ.", "naive", "NoQ.", "naive", "NoQ.", "naive"));
  for (const DemoDay& d : days) {
    const std::string promise =
        absl::StrFormat("%.1f [%.1f-%.1f]", d.promised_wait_min,
                        d.promised_wait_low_min, d.promised_wait_high_min);
    absl::StrAppend(
        &out,
        absl::StrFormat("%-4d %-10s %4d %4d | %7.1f %7.1f | %-14s %6.1f %6.1f "
                        "| %6.0f %6.0f | %6.1f %6.1f | %6.0f %6.0f\n",
                        d.day, d.date, d.convoked, d.came, d.offset_error_min,
                        d.punctual_error_min, promise, d.actual_wait_min,
                        d.naive_actual_wait_min, d.actual_idle_min,
                        d.naive_actual_idle_min, d.actual_overtime_min,
                        d.naive_actual_overtime_min, d.actual_cost,
                        d.naive_actual_cost));
  }
  return out;
}

}  // namespace noqueue::client
