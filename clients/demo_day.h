// The demo: plays realistic clinic days against a running server through the
// real API, with a population whose habits are hidden from the server.
//
// Each new day: make a schedule for the day's patients, simulate when each
// really arrives (their hidden habit plus noise; some do not come) and how
// long each consultation takes, stream the tags (ARRIVED, SERVICE_STARTED,
// SERVICE_ENDED, NO_SHOW) as the clinic's devices would, and score the
// schedule: how far its predicted arrivals were from the hidden truth, and
// the waits it promised against those that happened - with the naive even
// spread beside it, simulated on the very same people, arrivals and
// consultations. Days already played (by earlier runs against the same
// database) are scored again from their stored schedules, so a second run
// shows what the first taught the model.
#ifndef NOQUEUE_CLIENTS_DEMO_DAY_H_
#define NOQUEUE_CLIENTS_DEMO_DAY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/noqueue_client.h"

namespace noqueue::client {

struct DemoOptions {
  std::string venue_id = "demo-clinic";
  int days = 1;  // new days to play
  int population = 80;
  int patients_per_day = 48;
  uint64_t seed = 7;
};

struct DemoDay {
  int day = 0;
  std::string date;
  std::string schedule_id;
  int convoked = 0;
  int came = 0;
  // Mean |predicted median offset - the patient's hidden habit|, minutes.
  double offset_error_min = 0.0;
  // The same for a schedule that assumes everyone is punctual.
  double punctual_error_min = 0.0;
  double promised_wait_min = 0.0;
  double naive_promised_wait_min = 0.0;
  double actual_wait_min = 0.0;
  double naive_actual_wait_min = 0.0;
  double actual_overtime_min = 0.0;
  double naive_actual_overtime_min = 0.0;
  // The 90% range the schedule promised for the day's mean wait.
  double promised_wait_low_min = 0.0;
  double promised_wait_high_min = 0.0;
  // Doctors' idle minutes, and the clinic's cost (wait + idle + 1.5 x
  // overtime), of NoQueue's times and of the naive spread.
  double actual_idle_min = 0.0;
  double naive_actual_idle_min = 0.0;
  double actual_cost = 0.0;
  double naive_actual_cost = 0.0;
};

// Plays options.days new days, then returns every day played so far at the
// venue, oldest first.
absl::StatusOr<std::vector<DemoDay>> RunDemo(NoQueueClient& client,
                                             const DemoOptions& options);

std::string FormatDemoTable(const std::vector<DemoDay>& days);

}  // namespace noqueue::client

#endif  // NOQUEUE_CLIENTS_DEMO_DAY_H_
