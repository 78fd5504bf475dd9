#include "scheduler/replayed_days.h"

#include <algorithm>
#include <cmath>

namespace noqueue::scheduler {

ReplayedDays::ReplayedDays(const SimulatedDays& days,
                           const CostWeights& weights,
                           std::vector<double> convocation_min)
    : days_(days),
      weights_(weights),
      conv_(std::move(convocation_min)),
      incremental_(days.order_ == ServiceOrder::kByArrival),
      points_(days.service_points_),
      // A snapshot costs a sort of the points' free times: blocks of at
      // least twice the points keep that below the replay's own work.
      block_(std::max(8, 2 * days.service_points_)) {
  SyncReplications();
}

double ReplayedDays::Cost() const {
  if (day_cost_.empty()) return 0.0;
  double total = 0.0;
  for (double c : day_cost_) total += c;
  return total / static_cast<double>(day_cost_.size());
}

double ReplayedDays::Arrival(int rep, int attendee) const {
  return conv_[attendee] +
         days_.offset_min_[static_cast<size_t>(rep) * days_.n_ + attendee];
}

double ReplayedDays::DayCostOf(double wait, double busy, double end) const {
  const double window = days_.window_min_;
  const double day_end = std::max(window, end);
  return DayCost(weights_, wait, points_ * day_end - busy,
                 std::max(0.0, end - window));
}

void ReplayedDays::SyncReplications() {
  const int reps = days_.replications();
  if (!incremental_) {
    days_.DayCosts(conv_, weights_, &day_cost_);
    replayed_ += static_cast<long long>(reps) * days_.n_;
    return;
  }
  const int old = static_cast<int>(replay_.size());
  if (reps <= old) return;
  replay_.resize(reps);
  position_.resize(static_cast<size_t>(reps) * days_.n_, -1);
  day_cost_.resize(reps);
  for (int rep = old; rep < reps; ++rep) Rebuild(rep);
}

void ReplayedDays::Reset(std::vector<double> convocation_min) {
  conv_ = std::move(convocation_min);
  replay_.clear();
  day_cost_.clear();
  SyncReplications();
}

void ReplayedDays::Rebuild(int rep) {
  Day& d = replay_[rep];
  const size_t n = days_.n_;
  const size_t base = static_cast<size_t>(rep) * n;
  d.order.clear();
  for (size_t i = 0; i < n; ++i) {
    if (days_.shows_[base + i]) d.order.push_back(static_cast<int>(i));
  }
  std::sort(d.order.begin(), d.order.end(), [&](int a, int b) {
    return Before(Arrival(rep, a), a, Arrival(rep, b), b);
  });
  d.arrival.resize(d.order.size());
  for (size_t p = 0; p < d.order.size(); ++p) {
    position_[base + d.order[p]] = static_cast<int>(p);
    d.arrival[p] = Arrival(rep, d.order[p]);
  }
  const int blocks = (static_cast<int>(d.order.size()) + block_ - 1) / block_;
  d.snap.assign(static_cast<size_t>(blocks) * points_, 0.0);
  d.wait.assign(blocks, 0.0);
  d.busy.assign(blocks, 0.0);
  d.end.assign(blocks, 0.0);
  moved_.clear();
  // With nothing moved, a recorded replay from block 0 plays the whole day.
  Replay(rep, moved_, /*record=*/true);
  Finish(rep);
}

void ReplayedDays::Finish(int rep) {
  Day& d = replay_[rep];
  const int blocks = static_cast<int>(d.wait.size());
  d.total_wait = 0.0;
  d.total_busy = 0.0;
  d.pre_end.assign(blocks, 0.0);
  d.suf_end.assign(blocks, 0.0);
  double latest = 0.0;
  for (int b = 0; b < blocks; ++b) {
    d.total_wait += d.wait[b];
    d.total_busy += d.busy[b];
    d.pre_end[b] = latest;
    latest = std::max(latest, d.end[b]);
  }
  latest = 0.0;
  for (int b = blocks - 1; b >= 0; --b) {
    latest = std::max(latest, d.end[b]);
    d.suf_end[b] = latest;
  }
  day_cost_[rep] =
      DayCostOf(d.total_wait, d.total_busy, blocks > 0 ? d.suf_end[0] : 0.0);
}

namespace {

// The service points' free times: a plain array scanned for its minimum when
// there are few, a binary min-heap otherwise.
class PointPool {
 public:
  PointPool(std::vector<double>& times) : t_(times), k_(times.size()) {}
  // Starts a service that cannot begin before `ready` on the earliest free
  // point; returns the start. `service` gives its length from the start.
  template <typename ServiceFn>
  double Serve(double ready, ServiceFn service, double* length) {
    if (k_ <= 8) {
      size_t best = 0;
      for (size_t s = 1; s < k_; ++s) {
        if (t_[s] < t_[best]) best = s;
      }
      const double start = std::max(ready, t_[best]);
      *length = service(start);
      t_[best] = start + *length;
      return start;
    }
    const double start = std::max(ready, t_[0]);
    *length = service(start);
    // Replace the root and sift it down.
    const double v = start + *length;
    size_t i = 0;
    while (true) {
      size_t child = 2 * i + 1;
      if (child >= k_) break;
      if (child + 1 < k_ && t_[child + 1] < t_[child]) ++child;
      if (t_[child] >= v) break;
      t_[i] = t_[child];
      i = child;
    }
    t_[i] = v;
    return start;
  }

 private:
  std::vector<double>& t_;
  size_t k_;
};

}  // namespace

ReplayedDays::Walk ReplayedDays::Replay(int rep,
                                        const std::vector<Moved>& moved,
                                        bool record) {
  Day& d = replay_[rep];
  const size_t base = static_cast<size_t>(rep) * days_.n_;
  const int size = static_cast<int>(d.order.size());
  const int blocks = static_cast<int>(d.wait.size());
  const bool full = moved.empty();
  Walk w;
  w.stop_block = blocks;
  if (size == 0) return w;

  // The first position where the new sequence differs from the kept one:
  // where a moved attendee leaves it, or joins it (the number of kept
  // arrivals before their new arrival).
  int first = full ? 0 : size;
  old_positions_.clear();
  for (const Moved& m : moved) {
    const int old = position_[base + m.attendee];
    old_positions_.push_back(old);
    first = std::min(first, old);
    int lo = 0, hi = std::min(size, first);
    while (lo < hi) {
      const int mid = (lo + hi) / 2;
      if (Before(d.arrival[mid], d.order[mid], m.arrival, m.attendee)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    first = std::min(first, lo);
  }
  std::sort(old_positions_.begin(), old_positions_.end());
  const int c = std::min(first / block_, blocks - 1);
  w.first_block = c;

  heap_.assign(d.snap.begin() + static_cast<size_t>(c) * points_,
               d.snap.begin() + static_cast<size_t>(c + 1) * points_);
  PointPool pool(heap_);
  if (record) {
    new_order_.clear();
    new_arrival_.clear();
  }
  const bool plain = days_.periods_.empty();
  const double factor = days_.day_factor_[rep];
  const double* draws = days_.service_min_[0].data() + base;
  int o = c * block_;      // next position in the kept sequence
  int count = c * block_;  // arrivals in the new sequence so far
  int boundary = count + block_;
  size_t t = 0;        // next moved attendee to insert
  size_t skipped = 0;  // moved attendees passed in the kept sequence
  double block_wait = 0.0, block_busy = 0.0, block_end = 0.0;
  while (true) {
    // Moved attendees leave the kept sequence.
    while (skipped < old_positions_.size() && o == old_positions_[skipped]) {
      ++o;
      ++skipped;
    }
    if (count == boundary) {
      const int b = count / block_;
      boundary += block_;
      if (record) {
        d.wait[b - 1] = block_wait;
        d.busy[b - 1] = block_busy;
        d.end[b - 1] = block_end;
      }
      block_wait = block_busy = block_end = 0.0;
      if (b < blocks) {
        sorted_ = heap_;
        std::sort(sorted_.begin(), sorted_.end());
        double* snap = d.snap.data() + static_cast<size_t>(b) * points_;
        if (!full && t == moved.size() && skipped == moved.size() &&
            o == count) {
          // Same arrivals so far: the rest of the day is the kept one if
          // the points are free at the same times, a time before the next
          // arrival (or the opening) being as good as any other.
          const double next = std::max(0.0, d.arrival[o]);
          bool same = true;
          for (int s = 0; s < points_ && same; ++s) {
            same = std::abs(std::max(sorted_[s], next) -
                            std::max(snap[s], next)) <= 1e-9;
          }
          if (same) {
            w.stop_block = b;
            if (record) std::copy(sorted_.begin(), sorted_.end(), snap);
            break;
          }
        }
        if (record) std::copy(sorted_.begin(), sorted_.end(), snap);
      }
    }
    const bool has_kept = o < size;
    const bool has_moved = t < moved.size();
    if (!has_kept && !has_moved) break;
    int who;
    double arrival;
    if (has_moved && (!has_kept || Before(moved[t].arrival, moved[t].attendee,
                                          d.arrival[o], d.order[o]))) {
      who = moved[t].attendee;
      arrival = moved[t].arrival;
      ++t;
    } else {
      who = d.order[o];
      arrival = d.arrival[o];
      ++o;
    }
    if (record) {
      new_order_.push_back(who);
      new_arrival_.push_back(arrival);
    }
    double service;
    const double start = pool.Serve(
        std::max(arrival, 0.0),
        [&](double at) {
          return plain ? draws[who] * factor
                       : days_.ServiceTime(base + who, rep, at);
        },
        &service);
    const double wait = start - arrival;
    const double end = start + service;
    w.wait += wait;
    w.busy += service;
    w.end = std::max(w.end, end);
    block_wait += wait;
    block_busy += service;
    block_end = std::max(block_end, end);
    ++count;
  }
  if (record && w.stop_block == blocks && count % block_ != 0) {
    d.wait[blocks - 1] = block_wait;
    d.busy[blocks - 1] = block_busy;
    d.end[blocks - 1] = block_end;
  }
  replayed_ += count - c * block_;
  if (record) {
    const int from = c * block_;
    for (size_t k = 0; k < new_order_.size(); ++k) {
      d.order[from + k] = new_order_[k];
      d.arrival[from + k] = new_arrival_[k];
      position_[base + new_order_[k]] = from + static_cast<int>(k);
    }
  }
  return w;
}

void ReplayedDays::Score(const std::vector<ConvocationChange>& changes,
                         std::vector<double>* per_day) {
  per_day->resize(replications());
  ScoreDays(changes, 0, replications(), per_day);
}

void ReplayedDays::ScoreDays(const std::vector<ConvocationChange>& changes,
                             int first, int last,
                             std::vector<double>* per_day) {
  if (!incremental_) {
    conv_scratch_ = conv_;
    for (const ConvocationChange& ch : changes) {
      conv_scratch_[ch.attendee] = ch.minute;
    }
    days_.DayCosts(conv_scratch_, weights_, &full_scratch_);
    std::copy(full_scratch_.begin() + first, full_scratch_.begin() + last,
              per_day->begin() + first);
    replayed_ += static_cast<long long>(replications()) * days_.n_;
    return;
  }
  const size_t n = days_.n_;
  for (int rep = first; rep < last; ++rep) {
    const size_t base = static_cast<size_t>(rep) * n;
    moved_.clear();
    for (const ConvocationChange& ch : changes) {
      if (!days_.shows_[base + ch.attendee]) continue;
      moved_.push_back(
          {ch.minute + days_.offset_min_[base + ch.attendee], ch.attendee});
    }
    if (moved_.empty()) {
      (*per_day)[rep] = day_cost_[rep];
      continue;
    }
    std::sort(moved_.begin(), moved_.end(),
              [&](const Moved& a, const Moved& b) {
                return Before(a.arrival, a.attendee, b.arrival, b.attendee);
              });
    const Walk w = Replay(rep, moved_, /*record=*/false);
    const Day& d = replay_[rep];
    const int blocks = static_cast<int>(d.wait.size());
    double kept_wait = 0.0, kept_busy = 0.0;
    for (int b = w.first_block; b < w.stop_block; ++b) {
      kept_wait += d.wait[b];
      kept_busy += d.busy[b];
    }
    double end = std::max(d.pre_end[w.first_block], w.end);
    if (w.stop_block < blocks) end = std::max(end, d.suf_end[w.stop_block]);
    (*per_day)[rep] = DayCostOf(d.total_wait - kept_wait + w.wait,
                                d.total_busy - kept_busy + w.busy, end);
  }
}

void ReplayedDays::Apply(const std::vector<ConvocationChange>& changes) {
  if (!incremental_) {
    for (const ConvocationChange& ch : changes) conv_[ch.attendee] = ch.minute;
    days_.DayCosts(conv_, weights_, &day_cost_);
    replayed_ += static_cast<long long>(replications()) * days_.n_;
    return;
  }
  const size_t n = days_.n_;
  for (int rep = 0; rep < replications(); ++rep) {
    const size_t base = static_cast<size_t>(rep) * n;
    moved_.clear();
    for (const ConvocationChange& ch : changes) {
      if (!days_.shows_[base + ch.attendee]) continue;
      moved_.push_back(
          {ch.minute + days_.offset_min_[base + ch.attendee], ch.attendee});
    }
    if (moved_.empty()) continue;
    std::sort(moved_.begin(), moved_.end(),
              [&](const Moved& a, const Moved& b) {
                return Before(a.arrival, a.attendee, b.arrival, b.attendee);
              });
    Replay(rep, moved_, /*record=*/true);
    Finish(rep);
  }
  for (const ConvocationChange& ch : changes) conv_[ch.attendee] = ch.minute;
}

}  // namespace noqueue::scheduler
