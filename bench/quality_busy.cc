// scheduler_quality, sections 3 and 4: busy venues whose forecasts are
// learned from simulated tags, against a long search on the truth; and the
// first day of a new venue, planned from the prior, against the naive even
// spread; with each plan's promise checked on realised days.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/quality.h"
#include "model/arrival_model.h"
#include "model/convocation_type.h"
#include "model/normal.h"
#include "proto/base/svg_chart.h"
#include "scheduler/convocation_planner.h"
#include "scheduler/convocation_search.h"
#include "scheduler/exact_evaluator.h"
#include "scheduler/queue_simulator.h"
#include "scheduler/schedule_optimizer.h"
#include "scheduler/slot_local_search.h"

namespace noqueue::scheduler::quality {
namespace {

using ::noqueue::model::kZ90;

// ---------------------------------------------------------------------------
// 3. Busy venues, forecasts learned from simulated tags

struct BusyVenue {
  const char* name;
  model::ConvocationType type;
  int attendees;  // convoked on the planned day
  int desks;
  ServiceDistribution dist;
  double cv;
  double utilisation;  // expected work over the desks' time in the window
  double window_min;
  double habit_mean, habit_sd;    // most attendees' mean offsets
  double late_share, late_extra;  // a group later by late_extra on average
  double spread_lo, spread_hi;    // each attendee's early-side sd
  double skew_hi;                 // late-side sd = early-side x U(1, skew)
  double no_show_lo, no_show_hi;
  uint64_t seed;
};

// One attendee's true behaviour: a split normal offset, a no-show risk.
struct Habit {
  double mean, early_sd, late_sd, no_show;
};

model::ArrivalForecast TrueForecast(const Habit& h) {
  return {h.mean - kZ90 * h.early_sd, h.mean, h.mean + kZ90 * h.late_sd,
          h.no_show, 0};
}

double DrawOffset(const Habit& h, std::mt19937_64& rng) {
  const double z = std::normal_distribution<double>(0.0, 1.0)(rng);
  return h.mean + z * (z < 0 ? h.early_sd : h.late_sd);
}

Habit DrawHabit(const BusyVenue& v, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> habit(v.habit_mean, v.habit_sd);
  Habit h;
  h.mean = habit(rng) + (u(rng) < v.late_share ? v.late_extra : 0.0);
  h.early_sd = v.spread_lo + (v.spread_hi - v.spread_lo) * u(rng);
  h.late_sd = h.early_sd * (1.0 + (v.skew_hi - 1.0) * u(rng));
  h.no_show = v.no_show_lo + (v.no_show_hi - v.no_show_lo) * u(rng);
  return h;
}

model::ArrivalContext ContextAt(const BusyVenue& v, int day, double minute,
                                double lead_days) {
  model::ArrivalContext ctx;
  ctx.type = v.type;
  const double local = 8 * 60 + minute;  // the window opens at 8:00
  ctx.local_hour = static_cast<int>(local / 60) % 24;
  ctx.local_weekday = day % 7;
  ctx.lead_days = lead_days;
  ctx.at = absl::FromUnixSeconds(
      60 * static_cast<int64_t>(28000000 + day * 1440 + local));
  return ctx;
}

struct LearnedVenue {
  DayPlan truth, forecast;
  double arrivals_learned = 0;
  int known = 0;  // planned attendees the model has seen come
};

// 30 days of the venue (a pool of twice the day's attendees, each day a
// random half of it convoked on the venue's even spread), learned tag by
// tag; then the next day (a fifth of them newcomers) predicted as the
// server does, at each attendee's even-spread slot.
LearnedVenue Learn(const BusyVenue& v) {
  std::mt19937_64 rng(v.seed);
  const int n = v.attendees;
  std::vector<Habit> pool;
  for (int i = 0; i < 2 * n; ++i) pool.push_back(DrawHabit(v, rng));
  const double attendance_share = 1.0 - 0.5 * (v.no_show_lo + v.no_show_hi);
  const double service =
      v.utilisation * v.desks * v.window_min / (n * attendance_share);
  model::ArrivalModel m;
  const std::string venue = v.name;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  LearnedVenue out;
  std::vector<int> ids(pool.size());
  for (int day = 0; day < 30; ++day) {
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), rng);
    for (int k = 0; k < n; ++k) {
      const Habit& h = pool[ids[k]];
      const double conv = std::round(v.window_min * k / n);
      const model::ArrivalContext ctx = ContextAt(v, day, conv, 30.0 * u(rng));
      const std::string who = "a" + std::to_string(ids[k]);
      if (u(rng) < h.no_show) {
        m.LearnNoShow(venue, who, ctx);
      } else {
        m.LearnArrival(venue, who, ctx, DrawOffset(h, rng));
        out.arrivals_learned += 1;
      }
    }
  }
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  for (DayPlan* d : {&out.truth, &out.forecast}) {
    d->window_min = v.window_min;
    d->service = Service(v.desks, service, v.cv, v.dist);
  }
  for (int k = 0; k < n; ++k) {
    const bool newcomer = k % 5 == 4;
    const Habit h = newcomer ? DrawHabit(v, rng) : pool[ids[k]];
    const std::string who =
        newcomer ? "new" + std::to_string(k) : "a" + std::to_string(ids[k]);
    const model::ArrivalContext ctx =
        ContextAt(v, 30, std::round(v.window_min * k / n), 30.0 * u(rng));
    model::ArrivalForecast f = m.Predict(venue, who, ctx);
    if (f.attendee_arrivals > 0) ++out.known;
    out.truth.attendees.push_back({TrueForecast(h), std::nullopt});
    out.forecast.attendees.push_back({f, std::nullopt});
  }
  // What the server knows of the venue's level after these arrivals (see
  // PlanUncertainty), as the server says it.
  out.forecast.uncertainty.offset_shift_sd_min =
      VenueLevelSdMin(out.arrivals_learned);
  return out;
}

// The share of `days` realised days of `truth` under `conv` whose mean wait
// falls inside `promise`.
double Coverage(const DayPlan& truth, const std::vector<double>& conv,
                PredictiveInterval promise, int days, uint64_t seed) {
  int inside = 0, counted = 0;
  for (int d = 0; d < days; ++d) {
    SimulatedDays one(truth, 1, seed + d);
    const SimulationResult r = one.Simulate(conv);
    ++counted;
    if (r.mean_wait_min >= promise.low - 1e-9 &&
        r.mean_wait_min <= promise.high + 1e-9) {
      ++inside;
    }
  }
  return counted ? static_cast<double>(inside) / counted : 0.0;
}

// The promise the server would make: the plan's KPIs on the forecast day.
SimulationResult Promise(const DayPlan& forecast,
                         const std::vector<double>& conv) {
  SimulationOptions o;
  o.replications = DefaultReplications(forecast.attendees.size());
  return SimulateDay(forecast, conv, o);
}

// The strong oracle: a search on the truth from every start given, on 256
// to 1024 days, kept when a move's gain exceeds half its standard error;
// then, while its time lasts, searches again from the best plan so far on
// other days (new seeds), which undoes what the previous days alone liked.
// The best plan is chosen on 1000 days of their own (neither the search's
// nor the scoring's). `start` of the outcome is the number of rounds.
SearchOutcome Oracle(const DayPlan& truth, const CostWeights& w,
                     const std::vector<std::vector<double>>& starts,
                     double seconds) {
  const auto deadline =
      Clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
  std::vector<size_t> all(truth.attendees.size());
  std::iota(all.begin(), all.end(), 0);
  SimulatedDays judge(truth, 1000, 0x1D6E);
  SearchOutcome best;
  double best_cost = 0.0;
  std::vector<std::vector<double>> from = starts;
  int rounds = 0;
  do {
    SearchSettings s;
    s.weights = w;
    s.replications = 256;
    s.max_replications = 1024;
    s.accept_z = 0.5;
    s.seed = 0x0AC1E + 7 * rounds;
    s.deadline = deadline;
    SearchOutcome out = ImproveConvocations(truth, from, all, s);
    const double cost = judge.Cost(out.convocation_min, w);
    if (rounds == 0 || cost < best_cost) {
      best = out;
      best_cost = cost;
    }
    from = {best.convocation_min};
    ++rounds;
  } while (Clock::now() < deadline);
  best.start = rounds;
  return best;
}

}  // namespace

int BusyVenues(const Mode& mode, CoverageTally& coverage) {
  const std::vector<BusyVenue> venues = {
      {"station", model::ConvocationType::kTrainStation, 220, 3,
       ServiceDistribution::kLognormal, 0.8, 0.88, 120.0, -6.0, 5.0, 0.2, 10.0,
       1.0, 6.0, 2.0, 0.05, 0.12, 0x5A7E},
      {"airport", model::ConvocationType::kAirport, 300, 6,
       ServiceDistribution::kGamma, 0.6, 0.85, 120.0, -12.0, 8.0, 0.1, 15.0,
       2.0, 10.0, 1.8, 0.05, 0.10, 0xA19F},
      {"clinic", model::ConvocationType::kMedical, 24, 1,
       ServiceDistribution::kLognormal, 0.6, 0.9, 240.0, -15.0, 8.0, 0.15, 10.0,
       2.0, 8.0, 1.5, 0.10, 0.25, 0xC1D1},
      {"museum", model::ConvocationType::kMuseum, 260, 5,
       ServiceDistribution::kLognormal, 0.7, 0.8, 240.0, 0.0, 6.0, 0.2, 12.0,
       2.0, 10.0, 2.0, 0.08, 0.20, 0x3E55},
      {"sale", model::ConvocationType::kSale, 180, 4,
       ServiceDistribution::kExponential, 1.0, 0.95, 180.0, -10.0, 8.0, 0.15,
       12.0, 3.0, 10.0, 1.6, 0.10, 0.20, 0x5A1E},
  };
  std::printf(
      "\n3. Busy venues planned from forecasts learned on 30 simulated days "
      "of tags (model::ArrivalModel), under the server's default options; "
      "the venue's own cost weights; scored on %d fresh days of the truth; "
      "the oracle is a %.0f s search on the truth (every start, NoQueue's "
      "plans among them, 256 to 1024 days, repeated on new days from its "
      "best plan while time lasts, the best chosen on 1000 days of its own)\n",
      mode.score_days, mode.oracle_s);
  PrintHeader();
  bool all_within_oracle = true, all_beat_simple = true;
  double worst_oracle = 0.0, worst_simple = 0.0;
  int simple_cases = 0;
  for (const BusyVenue& v : venues) {
    const LearnedVenue venue = Learn(v);
    {
      // How the learned forecasts compare with the truth, on average.
      double fm = 0, tm = 0, fw = 0, tw = 0, fq = 0, tq = 0, err = 0;
      const double n = static_cast<double>(venue.truth.attendees.size());
      for (size_t i = 0; i < venue.truth.attendees.size(); ++i) {
        const auto& f = venue.forecast.attendees[i].forecast;
        const auto& t = venue.truth.attendees[i].forecast;
        fm += f.p50_min / n;
        tm += t.p50_min / n;
        fw += (f.p90_min - f.p10_min) / n;
        tw += (t.p90_min - t.p10_min) / n;
        fq += f.no_show_probability / n;
        tq += t.no_show_probability / n;
        err += std::abs(f.p50_min - t.p50_min) / n;
      }
      std::printf(
          "%-8s forecasts against the truth: median offset %.1f / %.1f min "
          "(mean |error| %.1f), P10-P90 width %.1f / %.1f min, no-show %.3f "
          "/ %.3f\n",
          v.name, fm, tm, err, fw, tw, fq, tq);
    }
    const CostWeights w = DefaultCostWeights(v.type);
    OptimizerOptions o;
    o.weights = w;
    const auto t0 = Clock::now();
    auto noqueue = OptimizeConvocations(venue.forecast, o);
    const double nq_ms = MsSince(t0);
    OptimizerOptions long_o = o;
    long_o.time_budget_ms = 1000.0;
    auto noqueue_1s = OptimizeConvocations(venue.forecast, long_o);
    auto on_truth = OptimizeConvocations(venue.truth, o);
    if (!noqueue.ok() || !noqueue_1s.ok() || !on_truth.ok()) return 1;
    // The oracle: every constructive start on the truth plus the plans
    // above, a long search with many days.
    std::vector<std::vector<double>> starts;
    const double quantile = std::clamp(w.idle / (w.idle + w.wait), 0.1, 0.9);
    for (TargetOrder order :
         {TargetOrder::kNarrowFirst, TargetOrder::kNarrowAtEnds,
          TargetOrder::kLateFirst, TargetOrder::kAsGiven}) {
      starts.push_back(PlanConvocations(venue.truth, quantile, order));
    }
    starts.push_back(NaiveConvocations(venue.truth));
    starts.push_back(noqueue->convocation_min);
    starts.push_back(noqueue_1s->convocation_min);
    starts.push_back(on_truth->convocation_min);
    const SearchOutcome best = Oracle(venue.truth, w, starts, mode.oracle_s);

    SimulatedDays truth(venue.truth, mode.score_days, 4242);
    std::vector<Row> rows;
    for (auto [name, conv] :
         {std::pair{"even spread", NaiveConvocations(venue.truth)},
          std::pair{"Bailey-Welch", BaileyWelch(venue.truth)},
          std::pair{"NoQueue", noqueue->convocation_min},
          std::pair{"NoQueue 1 s", noqueue_1s->convocation_min},
          std::pair{"NQ on truth", on_truth->convocation_min},
          std::pair{"oracle", best.convocation_min}}) {
      rows.push_back({name, truth.Simulate(conv), truth.Cost(conv, w)});
      PrintRow(v.name, rows.back());
    }
    const double simple = std::min(rows[0].cost, rows[1].cost);
    const double nq = rows[2].cost, orc = rows[5].cost;
    const SimulationResult promise =
        Promise(venue.forecast, noqueue->convocation_min);
    const double covered =
        Coverage(venue.truth, noqueue->convocation_min, promise.mean_wait_pi90,
                 mode.coverage_days, 90000);
    coverage.Add(covered, mode.coverage_days);
    std::printf(
        "%-8s util %.2f, service %.2f min cv %.1f on %d desks, %d of %d "
        "attendees known; NoQueue %.0f ms (budget %.0f, %d moves, %d days)%s; "
        "oracle %.0f s, %d rounds | NoQueue / oracle %.3f, / best simple %.3f, "
        "oracle / best simple %.3f | promised mean wait %.2f [%.2f, %.2f], "
        "realised %.2f, inside on %.0f%% of %d days\n",
        v.name, Utilisation(venue.truth), venue.truth.service.mean_service_min,
        v.cv, v.desks, venue.known, v.attendees, nq_ms, noqueue->time_budget_ms,
        noqueue->evaluations, noqueue->replications,
        noqueue->converged ? ", converged" : "",
        std::chrono::duration<double>(Clock::now() - t0).count(), best.start,
        nq / orc, nq / simple, orc / simple, promise.mean_wait_min,
        promise.mean_wait_pi90.low, promise.mean_wait_pi90.high,
        rows[2].sim.mean_wait_min, 100 * covered, mode.coverage_days);
    worst_oracle = std::max(worst_oracle, nq / orc);
    all_within_oracle = all_within_oracle && nq <= 1.10 * orc;
    if (orc <= 0.75 * simple) {
      ++simple_cases;
      worst_simple = std::max(worst_simple, nq / simple);
      all_beat_simple = all_beat_simple && nq <= 0.85 * simple;
    }
  }
  Target(PlannerTargets(), all_within_oracle,
         "busy venues: cost <= 1.10 x the strong oracle on every one: worst "
         "%.3f",
         worst_oracle);
  char format[200];
  std::snprintf(format, sizeof format,
                "busy venues: cost <= 0.85 x the better simple rule where the "
                "oracle reaches 0.75 (%d of %zu): worst %%.3f",
                simple_cases, venues.size());
  Target(PlannerTargets(), all_beat_simple, format, worst_simple);
  return 0;
}

namespace {

// ---------------------------------------------------------------------------
// 4. The first day of a new venue

struct NewVenue {
  const char* name;
  model::ConvocationType type;
  int attendees, desks;
  double service_min, cv, window_min;
};

// A venue of the type whose level sits `shift` minutes off the prior: each
// attendee's habit is drawn around it with half the prior's variance, the
// other half within them (ArrivalModel's prior split), at the prior's
// no-show rate.
DayPlan PriorPopulation(const DayPlan& day, const model::TypePrior& prior,
                        double shift, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const double half = prior.offset_spread_min / std::sqrt(2.0);
  std::normal_distribution<double> habit(prior.mean_offset_min + shift, half);
  DayPlan truth = day;
  truth.uncertainty = {};
  for (PlannedAttendee& a : truth.attendees) {
    a.forecast = Normal(habit(rng), half, prior.no_show_rate);
  }
  return truth;
}

}  // namespace

int FirstDay(const Mode& mode, CoverageTally& coverage) {
  const std::vector<NewVenue> venues = {
      {"museum", model::ConvocationType::kMuseum, 200, 4, 4.0, 0.6, 240.0},
      {"airport", model::ConvocationType::kAirport, 300, 5, 1.8, 0.8, 120.0},
      {"clinic", model::ConvocationType::kMedical, 30, 2, 10.0, 0.5, 180.0},
      {"sale", model::ConvocationType::kSale, 150, 3, 3.0, 0.9, 180.0},
  };
  const double kLevelSd = kNewVenueLevelSdMin;
  std::printf(
      "\n4. The first day of a new venue: forecasts from a model with no "
      "history (the type's prior), venue level uncertain by %.0f min; cost "
      "relative to the naive even spread on venues whose level sits -2..+2 "
      "sds off the prior (8 venues of %d days each per level)\n",
      kLevelSd, mode.score_days / 16);
  std::printf("%-8s %-26s %8s %8s %8s %8s %8s\n", "venue", "plan", "-2 sd",
              "-1 sd", "0", "+1 sd", "+2 sd");
  double worst = 0.0;
  for (const NewVenue& v : venues) {
    const model::TypePrior& prior = model::PriorFor(v.type);
    model::ArrivalModel fresh;
    model::ArrivalContext ctx;
    ctx.type = v.type;
    DayPlan day;
    day.window_min = v.window_min;
    day.service =
        Service(v.desks, v.service_min, v.cv, ServiceDistribution::kLognormal);
    for (int i = 0; i < v.attendees; ++i) {
      day.attendees.push_back(
          {fresh.Predict(v.name, "a" + std::to_string(i), ctx), std::nullopt});
    }
    const CostWeights w = DefaultCostWeights(v.type);
    OptimizerOptions o;
    o.weights = w;
    auto plain = OptimizeConvocations(day, o);
    DayPlan hedged_day = day;
    hedged_day.uncertainty.offset_shift_sd_min = kLevelSd;
    auto hedged = OptimizeConvocations(hedged_day, o);
    OptimizerOptions unguarded_o = o;
    unguarded_o.guard_against_naive = false;
    auto unguarded = OptimizeConvocations(hedged_day, unguarded_o);
    if (!plain.ok() || !hedged.ok() || !unguarded.ok()) return 1;
    const std::vector<double> naive = NaiveConvocations(day);
    struct Line {
      const char* name;
      const std::vector<double>* conv;
      std::vector<double> ratio;
    };
    std::vector<Line> lines = {
        {"NoQueue, level as forecast", &plain->convocation_min, {}},
        {"NoQueue, level uncertain", &unguarded->convocation_min, {}},
        {"NoQueue, uncertain+guard", &hedged->convocation_min, {}}};
    // Each level: 8 venues (their attendees drawn from the prior around
    // it), each on score_days / 16 days; costs summed over them.
    for (int k = -2; k <= 2; ++k) {
      double base = 0.0;
      std::vector<double> sums(lines.size(), 0.0);
      for (int draw = 0; draw < 8; ++draw) {
        const DayPlan truth = PriorPopulation(
            day, prior, k * kLevelSd, 0xD1 + 31 * (k + 2) + 1009 * draw);
        SimulatedDays days(truth, mode.score_days / 16, 5151 + draw);
        base += days.Cost(naive, w);
        for (size_t l = 0; l < lines.size(); ++l) {
          sums[l] += days.Cost(*lines[l].conv, w);
        }
      }
      for (size_t l = 0; l < lines.size(); ++l) {
        lines[l].ratio.push_back(sums[l] / base);
      }
    }
    for (const Line& l : lines) {
      std::printf("%-8s %-26s", v.name, l.name);
      for (double r : l.ratio) std::printf(" %8.3f", r);
      std::printf("\n");
    }
    for (double r : lines[2].ratio) worst = std::max(worst, r);
    if (hedged->naive_blend < 1.0) {
      std::printf(
          "%-8s (the guard moved the plan %.0f%% of the way toward "
          "the spread)\n",
          v.name, 100 * hedged->naive_blend);
    } else {
      std::printf(
          "%-8s (the guard replaced the plan by the spread or a "
          "variant of it opening up to 5%% late, closing up to 3%% "
          "early)\n",
          v.name);
    }
    // Promise on venues drawn from the prior: the level is random.
    const SimulationResult promise =
        Promise(hedged_day, hedged->convocation_min);
    std::mt19937_64 rng(0xF1257 + v.attendees);
    std::normal_distribution<double> level(0.0, kLevelSd);
    const int venues_drawn = mode.quick ? 40 : 100;
    const int days_each = std::max(1, mode.coverage_days / venues_drawn);
    double share = 0.0;
    for (int k = 0; k < venues_drawn; ++k) {
      const DayPlan truth = PriorPopulation(day, prior, level(rng), 700 + k);
      share += Coverage(truth, hedged->convocation_min, promise.mean_wait_pi90,
                        days_each, 31000 + 97 * k) /
               venues_drawn;
    }
    coverage.Add(share, venues_drawn * days_each);
    std::printf(
        "%-8s promised mean wait %.2f [%.2f, %.2f]; realised inside "
        "on %.0f%% of %d days of %d venues drawn from the prior\n",
        v.name, promise.mean_wait_min, promise.mean_wait_pi90.low,
        promise.mean_wait_pi90.high, 100 * share, venues_drawn * days_each,
        venues_drawn);
  }
  Target(PlannerTargets(), worst <= 1.0,
         "day one: cost <= 1.0 x the naive spread on every population the "
         "prior allows: worst %.3f",
         worst);
  return 0;
}

}  // namespace noqueue::scheduler::quality
