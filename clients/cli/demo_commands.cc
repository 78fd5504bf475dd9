// `noqueue demo` and `noqueue plan`: the demo clinic's days against a
// server, and the planner run offline on an instance file.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "clients/cli/cli.h"
#include "clients/cli/commands.h"
#include "clients/csv_io.h"
#include "clients/demo_day.h"
#include "clients/demo_live.h"
#include "clients/plan_instance.h"

ABSL_FLAG(int, days, 1, "demo: new days to play");
ABSL_FLAG(bool, live, true,
          "demo: also play a disrupted day live (needs the server's "
          "--clock=events)");
ABSL_FLAG(std::string, instance, "",
          "plan: JSON instance to plan offline (- for stdin)");

namespace noqueue::cli {

int DemoCommand(const Invocation& in) {
  client::DemoOptions options;
  options.days = absl::GetFlag(FLAGS_days);
  if (!absl::GetFlag(FLAGS_venue).empty()) {
    options.venue_id = absl::GetFlag(FLAGS_venue);
  }
  auto days = client::RunDemo(*in.client, options);
  if (!days.ok()) return Fail(days.status());
  std::printf(
      "NoQueue demo: clinic \"%s\", %d patients with hidden habits, "
      "%d convoked per day, 3 doctors x 12 min, 08:00-12:00.\n"
      "arrival error: mean |predicted median offset - hidden habit|, "
      "minutes; waits, idle doctors, overtime and cost (wait + idle + 1.5 x "
      "overtime): NoQueue's times vs the naive even spread, on the same "
      "simulated people.\n\n%s",
      options.venue_id.c_str(), options.population, options.patients_per_day,
      client::FormatDemoTable(*days).c_str());
  if (!absl::GetFlag(FLAGS_live)) return 0;
  std::fflush(stdout);
  auto live = client::RunLiveDemo(*in.client, options);
  if (!live.ok()) return Fail(live.status());
  std::printf("%s", client::FormatLiveDay(*live).c_str());
  return 0;
}

int PlanCommand(const Invocation&) {
  auto text = client::ReadFile(absl::GetFlag(FLAGS_instance));
  if (!text.ok()) return Fail(text.status());
  auto plan = client::PlanInstanceJson(*text);
  if (!plan.ok()) return Fail(plan.status());
  std::printf("%s\n", plan->c_str());
  return 0;
}

}  // namespace noqueue::cli
