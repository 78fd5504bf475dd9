#include "scheduler/queue_simulator.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <queue>
#include <random>
#include <utility>

#include "model/normal.h"
#include "scheduler/split_mix64.h"

namespace noqueue::scheduler {
namespace {

using model::kZ90;
using model::kZ975;

double SampleOffset(const model::ArrivalForecast& f, double z) {
  double scale = z < 0 ? (f.p50_min - f.p10_min) : (f.p90_min - f.p50_min);
  return f.p50_min + z * std::max(scale, 0.0) / kZ90;
}

// Mean and 95% normal interval of per-replication values.
struct Moments {
  double sum = 0.0, sum_sq = 0.0;
  int count = 0;
  void Add(double x) {
    sum += x;
    sum_sq += x * x;
    ++count;
  }
  double Mean() const { return count ? sum / count : 0.0; }
  ConfidenceInterval Interval(double center) const {
    if (count < 2) return {center, center};
    double var = std::max(0.0, (sum_sq - sum * sum / count) / (count - 1));
    double half = kZ975 * std::sqrt(var / count);
    return {center - half, center + half};
  }
};

double StudentT975(int df) {
  static constexpr double kT[] = {12.706, 4.303, 3.182, 2.776, 2.571,
                                  2.447,  2.365, 2.306, 2.262};
  return df >= 1 && df <= 9 ? kT[df - 1] : kZ975;
}

double Quantile90(std::vector<double>::iterator first,
                  std::vector<double>::iterator last) {
  const size_t size = static_cast<size_t>(last - first);
  if (size == 0) return 0.0;
  auto nth = first + static_cast<size_t>(0.9 * (size - 1));
  std::nth_element(first, nth, last);
  return *nth;
}

// The seed of one simulated day's stream; salt 0 is the attendees' own.
uint64_t StreamSeed(uint64_t seed, int rep, uint64_t salt) {
  return seed * 1000003ULL + static_cast<uint64_t>(rep) +
         salt * 0xD1B54A32D192ED03ULL;
}

// p with its log-odds shifted by `logit_shift` (0 and 1 stay put).
double ShiftedProbability(double p, double logit_shift) {
  if (logit_shift == 0.0 || p <= 0.0 || p >= 1.0) return p;
  return 1.0 / (1.0 + (1.0 - p) / p * std::exp(-logit_shift));
}

// One service time of the venue's law with mean `mean` and `cv`.
class ServiceDraw {
 public:
  ServiceDraw(ServiceDistribution dist, double mean, double cv)
      : dist_(dist),
        mean_(mean),
        cv_(cv),
        sigma_(std::sqrt(std::log1p(cv * cv))),
        mu_(std::log(mean) - 0.5 * std::log1p(cv * cv)),
        exponential_(1.0 / mean),
        gamma_(cv > 0 ? 1.0 / (cv * cv) : 1.0, cv > 0 ? mean * cv * cv : mean) {
  }
  double operator()(SplitMix64& rng, std::normal_distribution<double>& normal) {
    switch (dist_) {
      case ServiceDistribution::kLognormal: {
        const double z = normal(rng);
        return cv_ > 0 ? std::exp(mu_ + sigma_ * z) : mean_;
      }
      case ServiceDistribution::kGamma:
        return cv_ > 0 ? gamma_(rng) : mean_;
      case ServiceDistribution::kExponential:
        return exponential_(rng);
      case ServiceDistribution::kDeterministic:
        break;
    }
    return mean_;
  }

 private:
  ServiceDistribution dist_;
  double mean_, cv_, sigma_, mu_;
  std::exponential_distribution<double> exponential_;
  std::gamma_distribution<double> gamma_;
};

// The q-quantile of `values` (reordered) at plotting position q (n + 1)
// (Hyndman and Fan's type 6, linear between order statistics, clamped to the
// extremes): the k-th smallest of n draws has a new draw below it with
// probability k / (n + 1), so an interval between such quantiles holds a new
// day with the stated probability, whatever n (type 7, at q (n - 1) + 1,
// holds 86% instead of 90% with 40 days).
double SampleQuantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0.0;
  const double n = static_cast<double>(values.size());
  const double h = std::clamp(q * (n + 1.0) - 1.0, 0.0, n - 1.0);
  const size_t lo = static_cast<size_t>(std::floor(h));
  std::nth_element(values.begin(), values.begin() + lo, values.end());
  const double a = values[lo];
  if (lo + 1 >= values.size()) return a;
  const double b = *std::min_element(values.begin() + lo + 1, values.end());
  return a + (h - static_cast<double>(lo)) * (b - a);
}

PredictiveInterval Predictive90(std::vector<double>& per_day) {
  return {SampleQuantile(per_day, 0.05), SampleQuantile(per_day, 0.95)};
}

// `x`'s bits as an unsigned integer that orders as the doubles do (-0 as
// +0, which compare equal).
uint64_t OrderedBits(double x) {
  const uint64_t u = std::bit_cast<uint64_t>(x + 0.0);
  return (u >> 63) ? ~u : u | (uint64_t{1} << 63);
}

// Sorts (key, attendee) pairs that come in attendee order. A large day's
// are sorted by an LSD radix sort, a byte at a time and stable, so ties stay
// in attendee order as std::sort of the pairs would leave them; bytes all
// keys share are skipped. std::sort was a fifth of the server's CPU on a
// day of 10,000; a small day's sort stays with it.
void SortKeyed(std::vector<std::pair<uint64_t, int>>& keyed,
               std::vector<std::pair<uint64_t, int>>& spare) {
  const size_t n = keyed.size();
  if (n < 512) {
    std::sort(keyed.begin(), keyed.end());
    return;
  }
  std::array<std::array<uint32_t, 256>, 8> count{};
  for (const auto& [key, attendee] : keyed) {
    for (int b = 0; b < 8; ++b) ++count[b][(key >> (8 * b)) & 0xff];
  }
  spare.resize(n);
  for (int b = 0; b < 8; ++b) {
    std::array<uint32_t, 256>& at = count[b];
    if (at[(keyed[0].first >> (8 * b)) & 0xff] == n) continue;
    uint32_t sum = 0;
    for (uint32_t& c : at) sum += std::exchange(c, sum);
    for (const auto& k : keyed) spare[at[(k.first >> (8 * b)) & 0xff]++] = k;
    keyed.swap(spare);
  }
}

// Replaces the least of a min-heap by `value`: one sift-down where pop and
// push take two.
void ReplaceLeast(std::vector<double>& heap, double value) {
  const size_t n = heap.size();
  size_t i = 0;
  for (size_t child = 1; child < n; child = 2 * i + 1) {
    if (child + 1 < n && heap[child + 1] < heap[child]) ++child;
    if (!(heap[child] < value)) break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = value;
}

}  // namespace

double MeanServiceAt(const ServiceProfile& service, double minute) {
  double mean = service.mean_service_min;
  for (const ServicePeriod& p : service.periods) {
    if (p.start_min > minute) break;
    mean = p.mean_service_min;
  }
  return mean;
}

double OffsetQuantile(const model::ArrivalForecast& forecast, double q) {
  return SampleOffset(forecast, model::NormalQuantile(q));
}

int DefaultReplications(size_t attendees) {
  size_t budget = 8000 / std::max<size_t>(attendees, 1);
  return static_cast<int>(std::clamp<size_t>(budget, 32, 200));
}

SimulatedDays::SimulatedDays(const DayPlan& day, int replications,
                             uint64_t seed)
    : n_(day.attendees.size()),
      replications_(0),
      service_points_(std::max(day.service.service_points, 1)),
      window_min_(day.window_min),
      order_(day.order),
      seed_(seed),
      service_(day.service),
      uncertainty_(day.uncertainty) {
  forecasts_.reserve(n_);
  for (const PlannedAttendee& a : day.attendees) {
    forecasts_.push_back(a.forecast);
  }
  // Distinct cvs of the periods are levels of their own (the exponential and
  // fixed laws ignore the cv: one level).
  level_cv_.push_back(std::max(service_.service_cv, 0.0));
  const bool cv_matters =
      service_.distribution == ServiceDistribution::kLognormal ||
      service_.distribution == ServiceDistribution::kGamma;
  for (const ServicePeriod& sp : service_.periods) {
    int level = 0;
    const double cv = std::max(sp.service_cv, 0.0);
    if (cv_matters) {
      auto it = std::find(level_cv_.begin(), level_cv_.end(), cv);
      level = static_cast<int>(it - level_cv_.begin());
      if (it == level_cv_.end()) level_cv_.push_back(cv);
    }
    periods_.push_back(
        {sp.start_min, sp.mean_service_min / service_.mean_service_min, level});
  }
  service_min_.resize(level_cv_.size());
  Extend(replications);
}

void SimulatedDays::Extend(int replications) {
  if (replications <= replications_) return;
  const size_t total = n_ * static_cast<size_t>(replications);
  offset_min_.resize(total);
  for (auto& table : service_min_) table.resize(total);
  shows_.resize(total);
  day_factor_.resize(replications);
  for (int rep = replications_; rep < replications; ++rep) DrawDay(rep);
  replications_ = replications;
}

void SimulatedDays::DrawDay(int rep) {
  // The day's shared draws, from a stream of their own; all zero sds leave
  // the day as the forecasts say.
  double shift = 0.0, logit_shift = 0.0;
  day_factor_[rep] = 1.0;
  const PlanUncertainty& u = uncertainty_;
  if (u.offset_shift_sd_min > 0.0 || u.service_mean_rel_sd > 0.0 ||
      u.no_show_logit_sd > 0.0) {
    SplitMix64 day_rng(StreamSeed(seed_, rep, 1));
    std::normal_distribution<double> normal(0.0, 1.0);
    const double z_shift = normal(day_rng);
    const double z_service = normal(day_rng);
    const double z_no_show = normal(day_rng);
    shift = u.offset_shift_sd_min * z_shift;
    logit_shift = u.no_show_logit_sd * z_no_show;
    if (u.service_mean_rel_sd > 0.0) {
      const double s2 =
          std::log1p(u.service_mean_rel_sd * u.service_mean_rel_sd);
      day_factor_[rep] = std::exp(std::sqrt(s2) * z_service - 0.5 * s2);
    }
  }
  const double mean = service_.mean_service_min;
  for (size_t level = 0; level < level_cv_.size(); ++level) {
    // Level 0 shares the attendees' stream (show, offset, service in turn),
    // as it always has; other levels draw their services apart.
    SplitMix64 rng(StreamSeed(seed_, rep, level == 0 ? 0 : 1 + level));
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::normal_distribution<double> normal(0.0, 1.0);
    ServiceDraw draw(service_.distribution, mean, level_cv_[level]);
    for (size_t i = 0; i < n_; ++i) {
      const size_t at = rep * n_ + i;
      if (level == 0) {
        const auto& f = forecasts_[i];
        shows_[at] = uniform(rng) >=
                     ShiftedProbability(f.no_show_probability, logit_shift);
        offset_min_[at] = SampleOffset(f, normal(rng)) + shift;
      }
      service_min_[level][at] = draw(rng, normal);
    }
  }
}

std::pair<double, double> SimulatedDays::Replay(int rep,
                                                const std::vector<double>& conv,
                                                std::vector<Served>& served,
                                                Replayed& day) const {
  const size_t base = static_cast<size_t>(rep) * n_;
  // Sorting (arrival, index) pairs, not indices through `served`, keeps the
  // sort's reads sequential.
  day.keyed.clear();
  for (size_t i = 0; i < n_; ++i) {
    if (!shows_[base + i]) continue;
    served[i].arrival = conv[i] + offset_min_[base + i];
    day.keyed.emplace_back(OrderedBits(served[i].arrival), static_cast<int>(i));
  }
  SortKeyed(day.keyed, day.spare);
  std::vector<int>& by_arrival = day.by_arrival;
  by_arrival.clear();
  for (const auto& [key, i] : day.keyed) by_arrival.push_back(i);
  day.by_start.clear();
  // When each service point is next free (a min-heap).
  std::vector<double>& free_at = day.free_at;
  free_at.assign(service_points_, 0.0);
  double busy = 0.0, last_end = 0.0;
  // Starts never decrease from one call to the next: the earliest free point
  // only moves later, and an attendee served on arrival arrived no earlier
  // than anyone served before them.
  auto serve = [&](int i) {
    const double start = std::max({served[i].arrival, free_at[0], 0.0});
    const double service = ServiceTime(base + i, rep, start);
    ReplaceLeast(free_at, start + service);
    served[i].start = start;
    busy += service;
    last_end = std::max(last_end, start + service);
    day.by_start.push_back(i);
  };
  if (order_ == ServiceOrder::kByArrival) {
    for (int i : by_arrival) serve(i);
    return {busy, last_end};
  }
  // By convocation: a freed point takes the present attendee convoked first.
  auto later = [&](int a, int b) {
    return conv[a] > conv[b] || (conv[a] == conv[b] && a > b);
  };
  std::priority_queue<int, std::vector<int>, decltype(later)> present(later);
  size_t next = 0;
  while (next < by_arrival.size() || !present.empty()) {
    double now = std::max(free_at[0], 0.0);
    if (present.empty()) now = std::max(now, served[by_arrival[next]].arrival);
    while (next < by_arrival.size() &&
           served[by_arrival[next]].arrival <= now) {
      present.push(by_arrival[next++]);
    }
    const int i = present.top();
    present.pop();
    serve(i);
  }
  return {busy, last_end};
}

double SimulatedDays::Cost(const std::vector<double>& conv,
                           const CostWeights& weights) const {
  if (replications_ == 0) return 0.0;
  std::vector<double> per_day;
  DayCosts(conv, weights, &per_day);
  double total = 0.0;
  for (double c : per_day) total += c;
  return total / replications_;
}

void SimulatedDays::DayCosts(const std::vector<double>& conv,
                             const CostWeights& weights,
                             std::vector<double>* per_day) const {
  per_day->assign(replications_, 0.0);
  std::vector<Served> served(n_);
  Replayed day;
  for (int rep = 0; rep < replications_; ++rep) {
    auto [busy, last_end] = Replay(rep, conv, served, day);
    double wait = 0.0;
    for (int i : day.by_arrival) wait += served[i].start - served[i].arrival;
    const double day_end = std::max(window_min_, last_end);
    (*per_day)[rep] = DayCost(weights, wait, service_points_ * day_end - busy,
                              std::max(0.0, last_end - window_min_));
  }
}

SimulationResult SimulatedDays::Simulate(const std::vector<double>& conv,
                                         double step) const {
  SimulationResult result;
  result.expected_wait_min.assign(n_, 0.0);
  const int profile_points =
      step > 0 ? static_cast<int>(std::floor(window_min_ / step)) + 1 : 0;
  result.expected_queue.assign(profile_points, 0.0);
  if (n_ == 0 || replications_ == 0) return result;

  std::vector<double> wait_sum(n_, 0.0);
  std::vector<int> show_count(n_, 0);
  std::vector<double> all_waits;
  std::vector<size_t> rep_end;  // end of each replication's waits
  all_waits.reserve(n_ * replications_);
  std::vector<Served> served(n_);
  Replayed day;
  // Waiters in the queue at each profile point, summed over days: +1 where a
  // wait begins, -1 where it ends, added up after the last day.
  std::vector<int64_t> queue_steps(profile_points + 1, 0);
  Moments mean_wait, total_wait, max_queue, idle, overtime;
  std::vector<double> day_mean_wait, day_total_wait, day_max_queue, day_idle,
      day_overtime;
  for (int rep = 0; rep < replications_; ++rep) {
    auto [busy, last_end] = Replay(rep, conv, served, day);
    const std::vector<int>& shown = day.by_arrival;
    double day_wait = 0.0;
    for (int i : shown) {
      const Served& s = served[i];
      const double wait = s.start - s.arrival;
      wait_sum[i] += wait;
      show_count[i] += 1;
      all_waits.push_back(wait);
      day_wait += wait;
      if (profile_points > 0 && s.start > s.arrival) {
        // Points p from the first at or after the arrival while p * step is
        // before the start.
        const int first =
            std::max(0, static_cast<int>(std::ceil(s.arrival / step)));
        int end =
            std::max(first, static_cast<int>(std::min<double>(
                                std::ceil(s.start / step), profile_points)));
        while (end > first && (end - 1) * step >= s.start) --end;
        while (end < profile_points && end * step < s.start) ++end;
        if (first < end) {
          ++queue_steps[first];
          --queue_steps[end];
        }
      }
    }
    rep_end.push_back(all_waits.size());
    // The longest queue: waiters join it in order of arrival and leave it in
    // order of start (both never decrease); leaving comes first at the same
    // instant, so the count after each arrival is what the queue peaks at.
    int in_queue = 0, day_max = 0;
    size_t left = 0;
    for (int i : shown) {
      const Served& s = served[i];
      if (!(s.start > s.arrival)) continue;
      for (; left < day.by_start.size() &&
             served[day.by_start[left]].start <= s.arrival;
           ++left) {
        const Served& l = served[day.by_start[left]];
        if (l.start > l.arrival) --in_queue;
      }
      day_max = std::max(day_max, ++in_queue);
    }
    const double day_end = std::max(window_min_, last_end);
    if (!shown.empty()) {
      mean_wait.Add(day_wait / shown.size());
      day_mean_wait.push_back(day_wait / shown.size());
    }
    total_wait.Add(day_wait);
    max_queue.Add(day_max);
    idle.Add(service_points_ * day_end - busy);
    overtime.Add(std::max(0.0, last_end - window_min_));
    day_total_wait.push_back(day_wait);
    day_max_queue.push_back(day_max);
    day_idle.push_back(service_points_ * day_end - busy);
    day_overtime.push_back(std::max(0.0, last_end - window_min_));
  }
  result.mean_wait_pi90 = Predictive90(day_mean_wait);
  result.total_wait_pi90 = Predictive90(day_total_wait);
  result.max_queue_pi90 = Predictive90(day_max_queue);
  result.idle_pi90 = Predictive90(day_idle);
  result.overtime_pi90 = Predictive90(day_overtime);

  int64_t in_queue = 0;
  for (int p = 0; p < profile_points; ++p) {
    in_queue += queue_steps[p];
    result.expected_queue[p] = static_cast<double>(in_queue) / replications_;
  }
  result.total_wait_min = total_wait.Mean();
  result.total_wait_ci = total_wait.Interval(result.total_wait_min);
  result.expected_max_queue = max_queue.Mean();
  result.max_queue_ci = max_queue.Interval(result.expected_max_queue);
  result.idle_min = idle.Mean();
  result.idle_ci = idle.Interval(result.idle_min);
  result.overtime_min = overtime.Mean();
  result.overtime_ci = overtime.Interval(result.overtime_min);
  if (!all_waits.empty()) {
    result.mean_wait_min =
        std::accumulate(all_waits.begin(), all_waits.end(), 0.0) /
        static_cast<double>(all_waits.size());
    result.mean_wait_ci = mean_wait.Interval(result.mean_wait_min);
    // The P90 of ten batches of days, before the pooled one reorders waits.
    const int batches = std::min(10, replications_);
    Moments batch_p90;
    for (int b = 0; batches >= 2 && b < batches; ++b) {
      const int first_rep = b * replications_ / batches;
      const int last_rep = (b + 1) * replications_ / batches;
      const size_t from = first_rep ? rep_end[first_rep - 1] : 0;
      const size_t to = rep_end[last_rep - 1];
      if (to > from) {
        batch_p90.Add(
            Quantile90(all_waits.begin() + from, all_waits.begin() + to));
      }
    }
    result.p90_wait_min = Quantile90(all_waits.begin(), all_waits.end());
    if (batch_p90.count >= 2) {
      ConfidenceInterval z = batch_p90.Interval(result.p90_wait_min);
      const double half =
          (z.high - z.low) / 2.0 / kZ975 * StudentT975(batch_p90.count - 1);
      result.p90_wait_ci = {result.p90_wait_min - half,
                            result.p90_wait_min + half};
    } else {
      result.p90_wait_ci = {result.p90_wait_min, result.p90_wait_min};
    }
  }
  for (size_t i = 0; i < n_; ++i) {
    result.expected_wait_min[i] =
        show_count[i] ? wait_sum[i] / show_count[i] : 0.0;
  }
  return result;
}

SimulationResult SimulateDay(const DayPlan& day,
                             const std::vector<double>& convocation_min,
                             const SimulationOptions& options) {
  SimulatedDays days(day, options.replications, options.seed);
  return days.Simulate(convocation_min, options.queue_profile_step_min);
}

}  // namespace noqueue::scheduler
