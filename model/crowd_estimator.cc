#include "model/crowd_estimator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "model/decayed_histogram.h"

namespace noqueue::model {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Little's law holds loosely in a real queue (people join in groups, desks
// open and close): a report is contradictory only beyond this factor, plus
// a few people of slack for small queues.
constexpr double kLittleFactor = 4.0;
constexpr double kLittleSlack = 10.0;
// Prior weight of the declared service time against measured ones.
constexpr double kServicePrior = 3.0;
// Evidence needed near this hour (or in the last level half-life) before
// the status says anything.
constexpr double kKnownWeight = 1.0;
// Recent evidence kept for today's level: four half-lives at most, and the
// last 64 pieces (plenty for a median; a busy venue's tags come by the minute).
constexpr size_t kMaxRecent = 64;

double Decay(double dt_seconds, double half_life_min) {
  if (dt_seconds <= 0) return 1.0;
  return std::exp2(-dt_seconds / (60.0 * half_life_min));
}

double ToLog(double wait_min) { return std::log1p(std::max(0.0, wait_min)); }
double FromLog(double y) { return std::max(0.0, std::expm1(y)); }

// A weighted mean whose weight fades with time.
struct Fading {
  double sum = 0.0;
  double weight = 0.0;
  int64_t at = std::numeric_limits<int64_t>::min();

  void AgeTo(int64_t t, double half_life_min) {
    if (at == std::numeric_limits<int64_t>::min()) {
      at = t;
      return;
    }
    if (t <= at) return;
    const double f = Decay(static_cast<double>(t - at), half_life_min);
    sum *= f;
    weight *= f;
    at = t;
  }
  // The weight it would have at t, without changing it.
  double WeightAt(int64_t t, double half_life_min) const {
    if (weight == 0.0 || t <= at) return weight;
    return weight * Decay(static_cast<double>(t - at), half_life_min);
  }
  void Add(int64_t t, double half_life_min, double value, double w) {
    AgeTo(t, half_life_min);
    // Late evidence has already faded by the time it arrives.
    if (t < at) w *= Decay(static_cast<double>(at - t), half_life_min);
    sum += w * value;
    weight += w;
  }
};

// One accepted piece of evidence, kept for a few hours for today's level.
struct Evidence {
  int64_t at;  // when known
  int hour;    // local hour when the waiting began
  double y;    // log(1 + wait)
  double weight;
};

struct Reporter {
  double agreed = 0.0;
  double judged = 0.0;
  int64_t last_seen = 0;
  // Trust before any judgement is 1/2; Laplace's rule after.
  double Trust() const { return (agreed + 1.0) / (judged + 2.0); }
};

struct Venue {
  int service_points = 1;
  double declared_service_min = 5.0;
  // Service minutes measured by tags, and service rates (per minute)
  // implied by reports of both a queue and its wait.
  Fading tag_service;
  Fading report_rate;

  // log(1 + wait) by hour of the local day.
  std::array<Fading, 24> profile;
  // Today's level against the profile is a time-decayed weighted median
  // over recent evidence, read against the profile as it stands (so it is
  // right even while a new venue's profile still moves); the last days'
  // level is a fading mean of residuals.
  std::deque<Evidence> recent;
  Fading days;
  // Residuals against the full estimate, for the upper quantile.
  DecayedHistogram spread{-4.0, 4.0, 0.05, 0.98};

  // Counted reports per token (for the interval rule), and the size at
  // which it is next pruned of expired entries (doubling, so that pruning
  // costs O(1) per report however many reporters a busy venue has).
  absl::flat_hash_map<std::string, int64_t> last_counted;
  size_t prune_last_counted_at = 4096;
  // Times of recent accepted evidence: reports, tags.
  std::deque<int64_t> recent_reports;
  std::deque<int64_t> recent_tags;
  int64_t latest = std::numeric_limits<int64_t>::min();
};

}  // namespace

const char* ReportRejectionName(ReportRejection r) {
  switch (r) {
    case ReportRejection::kNone:
      return "";
    case ReportRejection::kRateLimited:
      return "rate_limited";
    case ReportRejection::kLittlesLaw:
      return "littles_law";
    case ReportRejection::kImplausible:
      return "implausible";
    case ReportRejection::kNoValue:
      return "no_value";
  }
  return "unknown";
}

struct CrowdEstimator::State {
  CrowdOptions options;
  absl::flat_hash_map<std::string, Venue> venues;
  absl::flat_hash_map<std::string, Reporter> reporters;

  Venue& VenueFor(const std::string& id) { return venues[id]; }

  static int HourOf(int64_t local_second) {
    return LocalTime::FromSeconds(local_second).HourOfDay();
  }

  // The venue's typical log wait at `hour` and the weight behind it: a
  // small kernel over neighbouring hours, since a venue's day is smooth.
  std::pair<double, double> Profile(const Venue& v, int hour, int64_t t) const {
    static constexpr std::array<double, 3> kKernel = {1.0, 0.6, 0.14};
    double sum = 0.0, weight = 0.0;
    for (int d = -2; d <= 2; ++d) {
      const Fading& bin = v.profile[(hour + d + 24) % 24];
      const double k = kKernel[std::abs(d)];
      const double f =
          bin.weight == 0.0
              ? 0.0
              : bin.WeightAt(t, options.profile_half_life_days * 24 * 60) /
                    bin.weight;
      sum += k * f * bin.sum;
      weight += k * f * bin.weight;
    }
    if (weight <= 0.0) return {kNaN, 0.0};
    return {sum / weight, weight};
  }

  // The offset of today from the profile: the last days' level, and the
  // last hours' departure from it, each shrunk by how much stands behind
  // it. Also returns the weight of the last hours' evidence.
  std::pair<double, double> Level(const Venue& v, int64_t t) const {
    const double dw = v.days.WeightAt(t, options.days_half_life_min);
    const double days = v.days.weight == 0.0
                            ? 0.0
                            : v.days.sum * (dw / v.days.weight) / (dw + 2.0);
    std::array<std::pair<double, double>, kMaxRecent> residuals;
    size_t n = 0;
    double total = 0.0;
    // The profile at each hour, computed once per call.
    std::array<double, 24> by_hour;
    std::array<bool, 24> have{};
    for (const Evidence& e : v.recent) {
      if (e.at > t) continue;
      const double w = e.weight * Decay(static_cast<double>(t - e.at),
                                        options.level_half_life_min);
      if (!have[e.hour]) {
        by_hour[e.hour] = Profile(v, e.hour, t).first;
        have[e.hour] = true;
      }
      const double profile = by_hour[e.hour];
      if (w <= 0.0 || std::isnan(profile)) continue;
      residuals[n++] = {e.y - profile, w};
      total += w;
    }
    if (n == 0) return {days, 0.0};
    std::sort(residuals.begin(), residuals.begin() + n);
    double acc = 0.0, median = residuals[n - 1].first;
    for (size_t i = 0; i < n; ++i) {
      acc += residuals[i].second;
      if (acc >= total / 2) {
        median = residuals[i].first;
        break;
      }
    }
    return {days + total / (total + 2.0) * (median - days), total};
  }

  // The estimate of log(1 + wait) at t, the weight of evidence behind it at
  // this hour, and the weight of the last hours' evidence.
  struct Guess {
    double y = kNaN;
    double profile_weight = 0.0;
    double recent_weight = 0.0;
  };
  Guess Estimate(const Venue& v, int64_t t) const {
    const auto [profile, weight] = Profile(v, HourOf(t), t);
    if (std::isnan(profile)) return {};
    const auto [level, recent] = Level(v, t);
    return {profile + level, weight, recent};
  }

  double ServiceMinutes(const Venue& v) const {
    const double declared = v.declared_service_min;
    if (v.tag_service.weight > 0.0) {
      return (v.tag_service.sum + kServicePrior * declared) /
             (v.tag_service.weight + kServicePrior);
    }
    if (v.report_rate.weight > 0.0) {
      // Rates, not minutes, average well: a blend of the declared rate and
      // the reported ones.
      const double declared_rate = v.service_points / declared;
      const double rate = (v.report_rate.sum + kServicePrior * declared_rate) /
                          (v.report_rate.weight + kServicePrior);
      return v.service_points / rate;
    }
    return declared;
  }
  double Rate(const Venue& v) const {
    return v.service_points / ServiceMinutes(v);
  }

  // Learns one piece of evidence: a wait of `wait_min` for someone who
  // joined at `joined`, known at `t`, worth `weight`.
  void Learn(Venue& v, int64_t t, int64_t joined, double wait_min,
             double weight) {
    const double y = ToLog(wait_min);
    const int hour = HourOf(joined);
    const double days_half = options.days_half_life_min;
    const double level_half = options.level_half_life_min;
    const Guess guess = Estimate(v, joined);
    const double estimate = guess.y;
    const auto [profile, profile_weight] = Profile(v, hour, joined);
    double residual = 0.0;
    double y_profile = y;
    if (!std::isnan(profile)) {
      // Huber: evidence far from the estimate moves it only so far.
      const double c = options.huber_log;
      const double level = estimate - profile;
      residual = level + std::clamp(y - estimate, -c, c);
      if (profile_weight >= 2.0) {
        y_profile = profile + std::clamp(y - profile, -c, c);
      }
      // The spread of single waits, from evidence worth believing.
      if (guess.profile_weight >= 2.0 && weight >= 0.5) {
        v.spread.Add(std::clamp(y - estimate, -3.9, 3.9));
      }
    }
    v.profile[hour].Add(t, options.profile_half_life_days * 24 * 60, y_profile,
                        weight);
    v.days.Add(t, days_half, residual, weight);
    // Recent evidence, in order of time known, for today's level.
    const Evidence e{t, hour, y, weight};
    v.recent.insert(std::upper_bound(v.recent.begin(), v.recent.end(), e,
                                     [](const Evidence& a, const Evidence& b) {
                                       return a.at < b.at;
                                     }),
                    e);
    v.latest = std::max(v.latest, t);
    const int64_t keep = static_cast<int64_t>(4 * 60 * level_half);
    while (v.recent.size() > kMaxRecent ||
           (!v.recent.empty() && v.recent.front().at < v.latest - keep)) {
      v.recent.pop_front();
    }
  }

  void PruneRecent(std::deque<int64_t>& times, int64_t now) const {
    const int64_t window =
        static_cast<int64_t>(options.recent_window_min * 60.0);
    while (!times.empty() && times.front() < now - window) times.pop_front();
  }

  void RememberEvidence(std::deque<int64_t>& times, int64_t t) {
    // Evidence mostly arrives in order; keep the deque sorted anyway.
    times.insert(std::upper_bound(times.begin(), times.end(), t), t);
  }

  // Why a report cannot be believed whatever its reporter: no value, values
  // beyond what the venue can physically hold, or a queue and a wait that
  // contradict its throughput by Little's law.
  std::optional<ReportRejection> Implausible(const Venue& v,
                                             const QueueReport& r) const {
    if (!r.queue_length && !r.waited_min) return ReportRejection::kNoValue;
    const double rate = Rate(v);
    const std::optional<double> q = r.queue_length;
    const std::optional<double> w = r.waited_min;
    if ((q && (*q < 0 || *q / rate > options.max_wait_min)) ||
        (w && (*w < 0 || *w > options.max_wait_min))) {
      return ReportRejection::kImplausible;
    }
    if (q && w) {
      const double expected_queue = rate * *w;
      if (*q > kLittleFactor * expected_queue + kLittleSlack ||
          expected_queue > kLittleFactor * *q + kLittleSlack) {
        return ReportRejection::kLittlesLaw;
      }
    }
    return std::nullopt;
  }

  // What a plausible report says: the wait it stands for, when the waiting
  // began, and how strong it is as evidence against the current `estimate`.
  struct Reading {
    double wait = 0.0;
    int64_t joined = 0;
    double strength = 1.0;
    bool lower_bound = false;  // a wait still going, which cannot be judged
  };
  Reading Read(const Venue& v, const QueueReport& r, double estimate) const {
    const int64_t t = r.at.seconds();
    const std::optional<double> q = r.queue_length;
    const std::optional<double> w = r.waited_min;
    Reading out;
    out.joined = t;
    if (w && r.finished) {
      out.wait = *w;
      out.joined = t - static_cast<int64_t>(*w * 60.0);
    } else if (w && q) {
      // Still waiting with people ahead: the wait so far plus the time they
      // take to be served.
      out.wait = *w + *q / Rate(v);
      out.joined = t - static_cast<int64_t>(*w * 60.0);
    } else if (w) {
      // Still waiting, nothing more: a lower bound of the wait. Below the
      // estimate it says nothing new; above, it is evidence at half
      // strength. Either way it cannot be judged, so it does not earn trust.
      out.wait = *w;
      out.joined = t - static_cast<int64_t>(*w * 60.0);
      out.lower_bound = true;
      out.strength =
          !std::isnan(estimate) && *w <= FromLog(estimate) ? 0.0 : 0.5;
    } else {
      // A queue length alone: the wait of someone joining now, by Little.
      out.wait = *q / Rate(v);
    }
    return out;
  }

  Reporter& ReporterFor(const std::string& token, int64_t t) {
    if (static_cast<int>(reporters.size()) >= options.max_reporters &&
        !reporters.contains(token)) {
      // Forget the half of the reporters seen least recently.
      std::vector<int64_t> seen;
      seen.reserve(reporters.size());
      for (const auto& [_, r] : reporters) seen.push_back(r.last_seen);
      std::nth_element(seen.begin(), seen.begin() + seen.size() / 2,
                       seen.end());
      const int64_t cut = seen[seen.size() / 2];
      absl::erase_if(reporters, [cut](const auto& kv) {
        return kv.second.last_seen <= cut;
      });
    }
    Reporter& r = reporters[token];
    r.last_seen = std::max(r.last_seen, t);
    return r;
  }
};

CrowdEstimator::CrowdEstimator(CrowdOptions options)
    : state_(std::make_unique<State>()) {
  state_->options = options;
}
CrowdEstimator::~CrowdEstimator() = default;
CrowdEstimator::CrowdEstimator(CrowdEstimator&&) noexcept = default;
CrowdEstimator& CrowdEstimator::operator=(CrowdEstimator&&) noexcept = default;

void CrowdEstimator::SetVenueCapacity(const std::string& venue_id,
                                      int service_points,
                                      double mean_service_min) {
  Venue& v = state_->VenueFor(venue_id);
  v.service_points = std::max(1, service_points);
  if (mean_service_min > 0.0) v.declared_service_min = mean_service_min;
}

ReportVerdict CrowdEstimator::AddReport(const std::string& venue_id,
                                        const QueueReport& report) {
  State& s = *state_;
  const CrowdOptions& o = s.options;
  Venue& v = s.VenueFor(venue_id);
  Reporter& reporter = s.ReporterFor(report.reporter, report.at.seconds());
  ReportVerdict verdict;
  verdict.reporter_trust = reporter.Trust();
  verdict.implied_wait_min = kNaN;
  const int64_t t = report.at.seconds();

  auto reject = [&](ReportRejection why) {
    verdict.weight = 0.0;
    verdict.rejection = why;
    return verdict;
  };
  if (std::optional<ReportRejection> why = s.Implausible(v, report)) {
    return reject(*why);
  }
  // One counted report per token per interval at a venue, by the time the
  // reports arrived.
  const int64_t interval =
      static_cast<int64_t>(o.reporter_interval_minutes * 60.0);
  const int64_t received = report.received.value_or(report.at).seconds();
  if (auto it = v.last_counted.find(report.reporter);
      it != v.last_counted.end() &&
      std::abs(received - it->second) < interval) {
    return reject(ReportRejection::kRateLimited);
  }

  // What wait this report stands for, for someone who joined when.
  const State::Guess guess = s.Estimate(v, t);
  const double estimate = guess.y;
  const double behind = guess.profile_weight + guess.recent_weight;
  const auto [wait, joined, strength, lower_bound] =
      s.Read(v, report, estimate);
  verdict.implied_wait_min = wait;

  // Trust: learned from agreement with the consensus when there is one.
  // (Measured waits, when the venue has tags, are part of the consensus and
  // dominate it by their weight.)
  const double trust = reporter.Trust();
  if (!lower_bound && !std::isnan(estimate) && behind >= 2.0) {
    const bool agrees = std::abs(ToLog(wait) - estimate) <= o.agree_log;
    reporter.agreed = 0.95 * reporter.agreed + (agrees ? 1.0 : 0.0);
    reporter.judged = 0.95 * reporter.judged + 1.0;
  }
  verdict.weight = strength * trust;
  v.last_counted[report.reporter] = received;
  if (v.last_counted.size() > v.prune_last_counted_at) {
    absl::erase_if(v.last_counted, [&](const auto& kv) {
      return std::abs(received - kv.second) >= interval;
    });
    v.prune_last_counted_at = std::max<size_t>(4096, 2 * v.last_counted.size());
  }
  const std::optional<double> q = report.queue_length;
  const std::optional<double> w = report.waited_min;
  if (q && w && report.finished && *w > 0.5 && *q > 0.0) {
    v.report_rate.Add(t, o.days_half_life_min, *q / *w, verdict.weight);
  }
  if (verdict.weight > 0.0) {
    s.Learn(v, t, joined, wait, verdict.weight);
    s.RememberEvidence(v.recent_reports, t);
    s.PruneRecent(v.recent_reports, v.latest);
  }
  return verdict;
}

void CrowdEstimator::AddMeasuredWait(const std::string& venue_id,
                                     LocalTime arrival, LocalTime start) {
  const int64_t arrival_second = arrival.seconds();
  const int64_t start_second = start.seconds();
  if (start_second < arrival_second) return;
  State& s = *state_;
  Venue& v = s.VenueFor(venue_id);
  const double wait = (start_second - arrival_second) / 60.0;
  if (wait > s.options.max_wait_min) return;
  s.Learn(v, start_second, arrival_second, wait, s.options.tag_weight);
  s.RememberEvidence(v.recent_tags, start_second);
  s.PruneRecent(v.recent_tags, v.latest);
}

void CrowdEstimator::AddService(const std::string& venue_id, LocalTime start,
                                double duration_min) {
  if (!(duration_min > 0.0) || duration_min > state_->options.max_wait_min) {
    return;
  }
  Venue& v = state_->VenueFor(venue_id);
  v.tag_service.Add(start.seconds(), state_->options.days_half_life_min,
                    duration_min, 1.0);
}

VenueLiveStatus CrowdEstimator::Status(const std::string& venue_id,
                                       LocalTime now) const {
  const State& s = *state_;
  const int64_t now_second = now.seconds();
  VenueLiveStatus status;
  status.as_of = now;
  auto it = s.venues.find(venue_id);
  if (it == s.venues.end()) return status;
  const Venue& v = it->second;
  status.service_rate_per_min = s.Rate(v);
  const int64_t window =
      static_cast<int64_t>(s.options.recent_window_min * 60.0);
  auto count_recent = [&](const std::deque<int64_t>& times) {  // sorted
    return static_cast<int>(
        std::upper_bound(times.begin(), times.end(), now_second) -
        std::upper_bound(times.begin(), times.end(), now_second - window));
  };
  status.reports_used = count_recent(v.recent_reports);
  status.tags_used = count_recent(v.recent_tags);

  const State::Guess guess = s.Estimate(v, now_second);
  const double estimate = guess.y;
  const double behind = guess.profile_weight;
  const double recent = guess.recent_weight;
  if (std::isnan(estimate) ||
      (behind < kKnownWeight && recent < kKnownWeight)) {
    return status;
  }
  status.known = true;
  // The spread of single waits around the estimate, once there is enough
  // of it; a wide default before.
  double up = 0.5;
  if (v.spread.TotalWeight() >= 10.0) {
    up = std::max(0.05, v.spread.Quantile(0.9) - v.spread.Quantile(0.5));
  }
  status.wait_p50_min = FromLog(estimate);
  status.wait_p90_min = FromLog(estimate + up);
  status.queue_length = status.service_rate_per_min * status.wait_p50_min;
  // Confidence: how much evidence stands behind the estimate, now and at
  // this hour on other days, on a 0..1 scale.
  const double evidence = recent + 0.25 * behind;
  status.confidence = evidence / (evidence + 2.0);
  return status;
}

std::optional<double> CrowdEstimator::LearnedServiceMinutes(
    const std::string& venue_id) const {
  auto it = state_->venues.find(venue_id);
  if (it == state_->venues.end()) return std::nullopt;
  return state_->ServiceMinutes(it->second);
}

}  // namespace noqueue::model
