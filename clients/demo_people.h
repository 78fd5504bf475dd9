// What the demo's days share: the clinic, its patients and their hidden
// habits, and what really happens to them on a day. Private to the demo.
#ifndef NOQUEUE_CLIENTS_DEMO_PEOPLE_H_
#define NOQUEUE_CLIENTS_DEMO_PEOPLE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "clients/demo_day.h"
#include "clients/noqueue_client.h"

namespace noqueue::client::demo {

inline constexpr char kTimeZone[] = "Europe/Paris";
inline constexpr int kDoctors = 3;
inline constexpr double kConsultationMin = 12.0;
inline constexpr double kConsultationCv = 0.5;
inline constexpr char kRequestPrefix[] = "demo-day-";

struct Patient {
  std::string id;
  double habit_min;  // mean arrival - convocation
  double spread_min;
  double no_show;
};

// The venue's patients, their habits drawn from the seed.
std::vector<Patient> Population(const DemoOptions& o);
// 08:00 local on the day (day 1: Monday 2 March 2026).
absl::Time DayStart(int day);
// Indices of the population convoked on `day`.
std::vector<int> PatientsOfDay(const DemoOptions& o, int day);

// What really happens to one patient on one day; drawn once per day so that
// the schedule and the naive spread meet the same people.
struct Truth {
  bool comes;
  double noise_min;
  double service_min;
};

std::vector<Truth> DrawTruth(const DemoOptions& o, int day,
                             const std::vector<const Patient*>& patients);
// Makes the demo's clinic when the server does not know it.
absl::Status EnsureVenue(NoQueueClient& client, const DemoOptions& o);

}  // namespace noqueue::client::demo

#endif  // NOQUEUE_CLIENTS_DEMO_PEOPLE_H_
