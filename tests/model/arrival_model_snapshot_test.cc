// Tests of the arrival model's snapshots: round trips, equal bytes for
// equal models, the layout, and DATA_LOSS without a crash on damaged
// bytes.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/arrival_model.h"
#include "model/byte_codec.h"
#include "model/convocation_type.h"
#include "model/feature_scaler.h"
#include "model/no_show_model.h"
#include "model/prequential_metrics.h"
#include "tests/support/model_fixtures.h"

namespace noqueue::model::testing {
namespace {

// A model that has learned a bit of everything: every type, three venues,
// hours (some unknown), weekends, parties, lead times, named features,
// arrivals, no-shows, attendance registers and exclusions. Returns the
// (venue, attendee) pairs it holds a habit for in *pairs when given.
ArrivalModel TrainedModel(
    std::vector<std::pair<std::string, std::string>>* pairs = nullptr) {
  ArrivalModel m;
  std::mt19937_64 rng(0x5EED0040);
  std::normal_distribution<double> noise(0.0, 7.0);
  std::uniform_int_distribution<int> type(0, kConvocationTypeCount - 1);
  std::uniform_int_distribution<int> hour(6, 20);
  std::uniform_int_distribution<int> weekday(0, 6);
  std::uniform_int_distribution<int> who(0, 39);
  std::uniform_real_distribution<double> price(5.0, 80.0);
  std::bernoulli_distribution no_show(0.15);
  const char* const venues[] = {"clinic-1", "museum-1", "station-1"};
  int64_t clock = kDayOne;
  for (int e = 0; e < 600; ++e) {
    clock += 4;
    ArrivalContext ctx;
    ctx.type = static_cast<ConvocationType>(type(rng));
    ctx.local_hour = hour(rng);
    if (ctx.local_hour == 6) ctx.local_hour = -1;  // unknown
    ctx.local_weekday = weekday(rng);
    ctx.party_size = 1.0 + (e % 3);
    ctx.lead_days = (e % 5 == 0) ? -1.0 : (e % 40);
    ctx.at = AtMinute(clock);
    if (e % 2 == 0) ctx.features.push_back({"price_eur", price(rng)});
    if (e % 3 == 0) ctx.features.push_back({"queue_len", double(e % 17)});
    const int i = who(rng);
    const std::string venue = venues[i % 3];
    const std::string attendee = "p" + std::to_string(i);
    bool learned = false;
    if (e % 50 == 7) {
      m.CountExclusion(venue, ctx.type, Exclusion::kRepeat);
    } else if (e % 11 == 0) {
      learned = m.LearnAttendance(venue, attendee, ctx, no_show(rng));
    } else if (no_show(rng)) {
      learned = m.LearnNoShow(venue, attendee, ctx);
    } else {
      learned =
          m.LearnArrival(venue, attendee, ctx, -5.0 + 0.3 * i + noise(rng));
    }
    REQUIRE((learned || e % 50 == 7));
    if (pairs && learned &&
        std::find(pairs->begin(), pairs->end(),
                  std::make_pair(venue, attendee)) == pairs->end()) {
      pairs->emplace_back(venue, attendee);
    }
  }
  // One stale tag, refused and counted.
  ArrivalContext stale;
  stale.at = AtMinute(kDayOne);
  REQUIRE_FALSE(m.LearnArrival("clinic-1", "p0", stale, 0.0));
  return m;
}

template <typename Part>
size_t WrittenSize(const Part& part) {
  ByteWriter w;
  part.Write(w);
  return w.Take().size();
}

// Where the sections of a snapshot start, derived from the Serialize()
// layout: u32 length and "NQAM", u32 version, i64 events, kFeatureCount
// weights and kFeatureCount^2 covariance doubles; per type 5 doubles, two
// histograms (unit, total, u64 bin count, bins) and the metrics; the feature
// scaler; the no-show model; the u64 venue count and the venues (id, 4
// doubles and 2 i64, metrics); the u64 habit count and the habits (key, 7
// 4-byte fields). Tests that aim at one field check what they find there.
constexpr size_t kWeightsAt = 4 + 4 + 4 + 8;
constexpr size_t kFirstBinCountAt =
    kWeightsAt + 8 * ArrivalModel::kFeatureCount +
    8 * ArrivalModel::kFeatureCount * ArrivalModel::kFeatureCount + 5 * 8 + 8 +
    8;
constexpr size_t kHabitBytes = 7 * 4;

// The model's habit key: the venue id, length-prefixed, then the attendee id.
std::string HabitKeyOf(const std::string& venue, const std::string& attendee) {
  return std::to_string(venue.size()) + ":" + venue + attendee;
}

size_t HabitCountAt(
    const std::string& bytes,
    const std::vector<std::pair<std::string, std::string>>& pairs) {
  size_t habits = 8;
  for (const auto& [venue, attendee] : pairs) {
    habits += 4 + HabitKeyOf(venue, attendee).size() + kHabitBytes;
  }
  return bytes.size() - habits;
}

size_t VenueCountAt(const ArrivalModel& m, size_t habit_count_at) {
  size_t venues = 8;
  for (const std::string& id : m.VenueIds()) {
    venues += 4 + id.size() + 6 * 8 + WrittenSize(PrequentialMetrics());
  }
  return habit_count_at - venues;
}

uint64_t U64At(const std::string& bytes, size_t pos) {
  uint64_t v;
  std::memcpy(&v, bytes.data() + pos, sizeof(v));
  return v;
}

TEST_CASE("ArrivalModel snapshot layout is where the tests look for it",
          "[arrival_model][serialize]") {
  // The layout the corruption tests below aim at, checked once.
  const std::string fresh = ArrivalModel().Serialize();
  CHECK(fresh.substr(0, 8) == std::string("\x04\0\0\0NQAM", 8));
  CHECK(U64At(fresh, kFirstBinCountAt) == 720);
  CHECK(U64At(fresh, fresh.size() - 8) == 0);   // habits
  CHECK(U64At(fresh, fresh.size() - 16) == 0);  // venues
  std::vector<std::pair<std::string, std::string>> pairs;
  const ArrivalModel m = TrainedModel(&pairs);
  const std::string bytes = m.Serialize();
  REQUIRE(pairs.size() == m.attendee_count());
  const size_t habit_at = HabitCountAt(bytes, pairs);
  CHECK(U64At(bytes, habit_at) == m.attendee_count());
  CHECK(U64At(bytes, VenueCountAt(m, habit_at)) == 3);
  CHECK(m.venue_count() == 3);
  // The first habit record is the smallest key.
  std::vector<std::string> keys;
  for (const auto& [v, a] : pairs) keys.push_back(HabitKeyOf(v, a));
  std::sort(keys.begin(), keys.end());
  uint32_t length;
  std::memcpy(&length, bytes.data() + habit_at + 8, sizeof(length));
  CHECK(length == keys[0].size());
  CHECK(bytes.substr(habit_at + 12, length) == keys[0]);
}

TEST_CASE(
    "ArrivalModel Deserialize of Serialize gives byte-identical bytes "
    "and identical predictions",
    "[arrival_model][serialize]") {
  ArrivalModel original = TrainedModel();
  const std::string bytes = original.Serialize();
  absl::StatusOr<ArrivalModel> restored = ArrivalModel::Deserialize(bytes);
  REQUIRE(restored.ok());
  CHECK(restored->Serialize() == bytes);
  CHECK(restored->events_learned() == original.events_learned());
  CHECK(restored->attendee_count() == original.attendee_count());
  CHECK(restored->VenueIds() == original.VenueIds());
  for (const std::string& venue : original.VenueIds()) {
    const PrequentialMetrics::Figures a =
        original.VenueMetrics(venue)->AllTime();
    const PrequentialMetrics::Figures b =
        restored->VenueMetrics(venue)->AllTime();
    CHECK(a.arrivals == b.arrivals);
    CHECK(a.mae_p50_min == b.mae_p50_min);
    CHECK(a.auc == b.auc);
  }
  CHECK(restored->TypeMetrics(ConvocationType::kOther)
            .excluded(Exclusion::kOutOfOrder) == 1);

  const int64_t later = kDayOne + 600 * 4 + 30;
  for (int t = 0; t < kConvocationTypeCount; ++t) {
    for (const auto& [venue, attendee] :
         std::vector<std::pair<std::string, std::string>>{
             {"clinic-1", "p3"},
             {"museum-1", "p7"},
             {"clinic-1", "unknown"},
             {"nowhere", "p3"}}) {
      ArrivalContext ctx = RichContext(later, 50.0, 2.0);
      ctx.features.push_back({"queue_len", 4.0});
      ctx.type = static_cast<ConvocationType>(t);
      ctx.local_weekday = 6;
      ctx.party_size = 2.0;
      ArrivalForecast a = original.Predict(venue, attendee, ctx);
      ArrivalForecast b = restored->Predict(venue, attendee, ctx);
      CHECK(a.p10_min == b.p10_min);
      CHECK(a.p50_min == b.p50_min);
      CHECK(a.p90_min == b.p90_min);
      CHECK(a.no_show_probability == b.no_show_probability);
      CHECK(a.attendee_arrivals == b.attendee_arrivals);
      CHECK(original.HabitMinutes(venue, attendee, ctx.type) ==
            restored->HabitMinutes(venue, attendee, ctx.type));
    }
  }

  // Nothing is lost that learning needs later (the covariance, the variance
  // components, the venue levels, the scaler, the no-show weights): both
  // learn the same events of every type and still predict and serialise
  // alike.
  for (int t = 0; t < kConvocationTypeCount; ++t) {
    ArrivalContext ctx = RichContext(later + t, 20.0 + t, 1.0 + t);
    ctx.type = static_cast<ConvocationType>(t);
    ctx.local_hour = 8 + 2 * t;
    ctx.local_weekday = t;
    const std::string who = "p" + std::to_string(t);
    REQUIRE(original.LearnArrival("clinic-1", who, ctx, 3.0 * t - 7.0));
    REQUIRE(restored->LearnArrival("clinic-1", who, ctx, 3.0 * t - 7.0));
    REQUIRE(original.LearnNoShow("museum-1", who, ctx));
    REQUIRE(restored->LearnNoShow("museum-1", who, ctx));
    REQUIRE(original.LearnAttendance("station-2", who, ctx, t % 2 == 0));
    REQUIRE(restored->LearnAttendance("station-2", who, ctx, t % 2 == 0));
  }
  CHECK(restored->Serialize() == original.Serialize());
  CHECK(original.Serialize() != bytes);
  const ArrivalContext ctx = RichContext(later + 10, 30.0, 3.0);
  CHECK(restored->Predict("clinic-1", "p4", ctx).p50_min ==
        original.Predict("clinic-1", "p4", ctx).p50_min);
}

TEST_CASE(
    "ArrivalModel Serialize of models fed the same events in the same "
    "order gives equal bytes",
    "[arrival_model][serialize]") {
  CHECK(ArrivalModel().Serialize() == ArrivalModel().Serialize());
  CHECK(TrainedModel().Serialize() == TrainedModel().Serialize());
  absl::StatusOr<ArrivalModel> fresh =
      ArrivalModel::Deserialize(ArrivalModel().Serialize());
  REQUIRE(fresh.ok());
  CHECK(fresh->events_learned() == 0);
  CHECK(fresh->Serialize() == ArrivalModel().Serialize());
}

TEST_CASE("ArrivalModel Deserialize of truncated bytes returns DATA_LOSS",
          "[arrival_model][serialize]") {
  std::vector<std::pair<std::string, std::string>> pairs;
  const ArrivalModel model = TrainedModel(&pairs);
  const std::string bytes = model.Serialize();
  const size_t habit_at = HabitCountAt(bytes, pairs);
  const size_t venue_at = VenueCountAt(model, habit_at);
  REQUIRE(U64At(bytes, habit_at) == model.attendee_count());
  // Every cut in the header, every cut from the venue count to the end
  // (where ids, keys and counts are dense), every 997th in the weights,
  // histograms and no-show model in between (each Deserialize allocates the
  // no-show model's megabyte, so every byte would be slow).
  std::vector<size_t> cuts;
  for (size_t n = 0; n < 64; ++n) cuts.push_back(n);
  for (size_t n = 64; n < venue_at; n += 997) cuts.push_back(n);
  for (size_t n = venue_at; n < habit_at; n += 7) cuts.push_back(n);
  for (size_t n = habit_at; n < bytes.size(); ++n) cuts.push_back(n);
  int not_data_loss = 0;
  std::string cut;
  for (size_t n : cuts) {
    cut.assign(bytes, 0, n);
    absl::StatusOr<ArrivalModel> m = ArrivalModel::Deserialize(cut);
    if (m.status().code() != absl::StatusCode::kDataLoss) {
      ++not_data_loss;
      UNSCOPED_INFO("cut at " << n << ": " << m.status().ToString());
    }
  }
  CHECK(not_data_loss == 0);
}

TEST_CASE(
    "ArrivalModel Deserialize rejects a bad magic a bad version a bad "
    "bin count and trailing bytes with DATA_LOSS",
    "[arrival_model][serialize]") {
  const std::string bytes = ArrivalModel().Serialize();
  auto with_byte = [&](size_t pos, char value) {
    std::string b = bytes;
    b[pos] = value;
    return b;
  };
  auto code = [](const std::string& b) {
    return ArrivalModel::Deserialize(b).status().code();
  };
  CHECK(code("") == absl::StatusCode::kDataLoss);
  CHECK(code(with_byte(4, 'X')) == absl::StatusCode::kDataLoss);
  CHECK(code(with_byte(0, 5)) == absl::StatusCode::kDataLoss);
  REQUIRE(bytes[8] == 3);  // format version 3
  CHECK(code(with_byte(8, 2)) == absl::StatusCode::kDataLoss);
  CHECK(code(with_byte(8, 99)) == absl::StatusCode::kDataLoss);
  REQUIRE(U64At(bytes, kFirstBinCountAt) == 720);
  CHECK(code(with_byte(kFirstBinCountAt, 0)) == absl::StatusCode::kDataLoss);
  CHECK(code(with_byte(kFirstBinCountAt + 1, 6)) ==  // 0x6D0 = 1744 bins
        absl::StatusCode::kDataLoss);
  CHECK(code(bytes + '\0') == absl::StatusCode::kDataLoss);
}

TEST_CASE(
    "ArrivalModel Deserialize refuses a NaN or infinite weight, covariance or "
    "histogram bin with DATA_LOSS",
    "[arrival_model][serialize]") {
  const std::string bytes = ArrivalModel().Serialize();
  REQUIRE(ArrivalModel::Deserialize(bytes).ok());
  auto with_double = [&](size_t pos, double value) {
    std::string b = bytes;
    std::memcpy(b.data() + pos, &value, sizeof(value));
    return ArrivalModel::Deserialize(b).status();
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const size_t covariance_at = kWeightsAt + 8 * ArrivalModel::kFeatureCount;
  const size_t first_bin_at = kFirstBinCountAt + 8;
  for (const size_t at : {kWeightsAt, covariance_at, first_bin_at}) {
    for (const double bad : {nan, inf, -inf}) {
      INFO("at byte " << at << ": " << bad);
      const absl::Status st = with_double(at, bad);
      CHECK(st.code() == absl::StatusCode::kDataLoss);
    }
    // A finite value there is read.
    CHECK(with_double(at, 0.5).ok());
  }
}

// Runs `body` in a forked child so that a crash fails one check instead of
// ending the whole test run; returns the child's exit code, or 128 + signal
// when a signal ended it.
int ExitCodeInChild(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    // Let a crash kill the child quietly: no Catch2 report, no core file, no
    // library chatter on stderr.
    for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) {
      std::signal(sig, SIG_DFL);
    }
    rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    const int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, STDERR_FILENO);
    int code = 3;
    try {
      code = body();
    } catch (...) {
      code = 2;
    }
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

TEST_CASE(
    "ArrivalModel Deserialize of corrupted counts returns DATA_LOSS and "
    "does not crash",
    "[arrival_model][serialize]") {
  // A fresh model has no venues and no habits, so its last 16 bytes are the
  // two counts; the no-show model's two vectors and the scaler's empty name
  // list sit before them. A damaged count must be reported, not trusted.
  // Exit code 0: DATA_LOSS; 1: another status; 2: an exception escaped
  // Deserialize; 128 + n: killed by signal n (134 is SIGABRT, 139 SIGSEGV).
  const std::string bytes = ArrivalModel().Serialize();
  const size_t habit_at = bytes.size() - 8;
  const size_t venue_at = bytes.size() - 16;
  const size_t no_show_at = venue_at - WrittenSize(NoShowModel());
  const size_t second_vector_at =
      no_show_at + 8 + 4 * (size_t{1} << NoShowModel::kLog2Slots);
  const size_t scaler_at = no_show_at - 4;
  REQUIRE(U64At(bytes, no_show_at) == size_t{1} << NoShowModel::kLog2Slots);
  REQUIRE(U64At(bytes, second_vector_at) == size_t{1}
                                                << NoShowModel::kLog2Slots);
  struct Damage {
    size_t at;
    uint64_t value;
    int width;
  };
  const std::vector<Damage> damages = {
      {habit_at, uint64_t{1} << 40, 8},
      {habit_at, ~uint64_t{0}, 8},
      {habit_at, 1, 8},
      {venue_at, uint64_t{1} << 40, 8},
      {venue_at, ~uint64_t{0}, 8},
      {venue_at, 1, 8},
      {no_show_at, uint64_t{1} << 40, 8},
      {no_show_at, ~uint64_t{0}, 8},
      {no_show_at, 5, 8},
      {second_vector_at, ~uint64_t{0}, 8},
      {second_vector_at, (size_t{1} << NoShowModel::kLog2Slots) - 1, 8},
      {scaler_at, FeatureScaler::kMaxFeatures + 1, 4},
      {scaler_at, 0xFFFFFFFF, 4},
      {scaler_at, 3, 4},
      {kFirstBinCountAt, uint64_t{1} << 40, 8},
      {kFirstBinCountAt, ~uint64_t{0}, 8},
      {0, 0xFFFFFFFF, 4},  // magic length
  };
  for (const Damage& d : damages) {
    INFO("at " << d.at << " value " << d.value);
    std::string b = bytes;
    std::memcpy(b.data() + d.at, &d.value, d.width);
    const int code = ExitCodeInChild([&] {
      return ArrivalModel::Deserialize(b).status().code() ==
                     absl::StatusCode::kDataLoss
                 ? 0
                 : 1;
    });
    CHECK(code == 0);
  }
}

TEST_CASE(
    "ArrivalModel Deserialize of randomly flipped bytes returns OK or "
    "DATA_LOSS and never crashes and what it restores still predicts "
    "and learns",
    "[arrival_model][serialize]") {
  // Flips land in doubles and floats (still a well-formed snapshot) and in
  // lengths and counts (DATA_LOSS). Half of them aim at the venues and
  // habits, where lengths are dense; the others anywhere, which mostly means
  // the no-show model's weights. Everything runs in a child, so that a crash
  // is one failed check.
  std::vector<std::pair<std::string, std::string>> pairs;
  const ArrivalModel model = TrainedModel(&pairs);
  const std::string bytes = model.Serialize();
  const size_t venue_at = VenueCountAt(model, HabitCountAt(bytes, pairs));
  const int code = ExitCodeInChild([&] {
    int ok = 0, data_loss = 0;
    std::mt19937_64 rng(0x5EED0050);
    std::uniform_int_distribution<size_t> anywhere(0, bytes.size() - 1);
    std::uniform_int_distribution<size_t> in_tail(venue_at, bytes.size() - 1);
    std::uniform_int_distribution<int> bit(0, 7);
    std::string b;
    for (int trial = 0; trial < 300; ++trial) {
      b = bytes;
      const size_t p = trial % 2 ? anywhere(rng) : in_tail(rng);
      b[p] = static_cast<char>(b[p] ^ (1 << bit(rng)));
      absl::StatusOr<ArrivalModel> m = ArrivalModel::Deserialize(b);
      if (m.ok()) {
        ++ok;
        ArrivalContext ctx = RichContext(kDayOne + 5000, 40.0, 3.0);
        ctx.features.push_back({"queue_len", 2.0});
        m->Predict("clinic-1", "p3", ctx);
        m->Explain("museum-1", "p4", ctx);
        m->LearnArrival("clinic-1", "p3", ctx, -4.0);
        m->LearnNoShow("station-1", "p5", ctx);
        m->Serialize();
      } else if (m.status().code() == absl::StatusCode::kDataLoss) {
        ++data_loss;
      } else {
        return 1;
      }
    }
    // 0: every trial ended in OK or DATA_LOSS and both happened (a test
    // that never reaches one of them proves little); 1: another status;
    // 4: only one of the two; 128 + n: killed by signal n.
    return (ok > 0 && data_loss > 0) ? 0 : 4;
  });
  CHECK(code == 0);
}

}  // namespace
}  // namespace noqueue::model::testing
