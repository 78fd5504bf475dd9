// The demo's disrupted day: a clinic day played live through the real API
// against a server on the replay clock (--clock=events): the clinic's
// devices tag arrivals and consultations as they happen, one of the three
// doctors is away from 10:00 to 10:45 (the clinic learns it at 09:15 and
// says so with UpdateServicePoints), NoQueue re-times the patients who have not
// come yet and the demo watches the schedule (WatchSchedule): each patient gets
// their new time after 1-3 minutes and follows it 8 times out of 10. The
// same people, arrivals and consultations are played with the static plan
// (nobody told anything) for comparison.
#ifndef NOQUEUE_CLIENTS_DEMO_LIVE_H_
#define NOQUEUE_CLIENTS_DEMO_LIVE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/demo_day.h"
#include "clients/noqueue_client.h"

namespace noqueue::client {

struct LiveDayResult {
  std::string date;
  std::string schedule_id;
  int convoked = 0;
  // Mean and P90 wait, doctors' idle time, overtime and cost (wait + idle +
  // 1.5 x overtime), minutes: with the live re-timing, and with the plan
  // kept as it was.
  struct Figures {
    double mean_wait = 0, p90_wait = 0, idle = 0, overtime = 0, cost = 0;
  };
  Figures live, static_plan;
  // The messages patients received: "patient-012 10:05 -> 10:35, told at
  // 10:00 (followed)".
  std::vector<std::string> messages;
  int followed = 0;
};

// Plays the disrupted day after the days already played at the venue.
absl::StatusOr<LiveDayResult> RunLiveDemo(NoQueueClient& client,
                                          const DemoOptions& options);
std::string FormatLiveDay(const LiveDayResult& day);

}  // namespace noqueue::client

#endif  // NOQUEUE_CLIENTS_DEMO_LIVE_H_
