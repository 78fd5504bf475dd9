// `noqueue me`: an attendee's own convocation, with the attendee token it
// came with: read it, watch it, say one will be late, or cancel.
#include <cmath>
#include <cstdio>

#include "absl/flags/flag.h"
#include "clients/cli/cli.h"
#include "clients/cli/commands.h"

ABSL_FLAG(double, delay_min, 0, "me delay: minutes late");

namespace noqueue::cli {

int MeCommand(const Invocation& in) {
  client::NoQueueClient& client = *in.client;
  if (in.verb == "watch") {
    return Watching(client.WatchMyConvocation(absl::GetFlag(FLAGS_resume_after),
                                              PrintEvent));
  }
  if (in.verb == "delay") {
    auto r = client.DeclareDelay(
        absl::Seconds(std::round(absl::GetFlag(FLAGS_delay_min) * 60)));
    if (!r.ok()) return Fail(r.status());
    std::printf("%s\n", Json(*r).c_str());
    return 0;
  }
  if (in.verb == "cancel") {
    auto r = client.CancelConvocation();
    if (!r.ok()) return Fail(r.status());
    std::printf("%s\n", Json(*r).c_str());
    return 0;
  }
  auto mine = client.GetMyConvocation();
  if (!mine.ok()) return Fail(mine.status());
  std::printf("%s\n", Json(*mine).c_str());
  return 0;
}

}  // namespace noqueue::cli
