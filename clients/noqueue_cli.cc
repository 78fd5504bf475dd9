// noqueue: the command-line tool of NoQueue. A command per thing a venue,
// a device or an attendee does, each a function of clients/cli/ (the table
// below names them; `noqueue` alone prints it):
//
//   noqueue venue upsert --venue=louvre --name="Louvre" --type=MUSEUM
//       --time_zone=Europe/Paris --service_points=4 --service_min=2
//   noqueue schedule create --venue=louvre --start=2026-12-01T09:00:00+01:00
//       --end=2026-12-01T12:00:00+01:00 --attendees=people.csv [--format=json]
//   noqueue device --csv=tags.csv --spool=var/device.csv [--retry_for=60s]
//   noqueue me delay --delay_min=15 --attendee_token=nqa_...
//   noqueue plan --instance=instance.json     (offline, no server)
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/cli/cli.h"
#include "clients/cli/commands.h"
#include "clients/csv_io.h"
#include "clients/noqueue_client.h"
#include "proto/base/tool_flags.h"

namespace noqueue::cli {
namespace {

struct Command {
  const char* name;
  const char* usage;  // what follows the name in the usage
  int (*run)(const Invocation&);
  bool offline = false;  // needs no server
};

// Every command, in the order the usage lists them.
const Command kCommands[] = {
    {"venue", "upsert --venue=V --type=T --time_zone=Z ... | get --venue=V",
     VenueCommand},
    {"schedule",
     "create --venue=V --start=T --end=T --attendees=F.csv | get "
     "--schedule=S | list --venue=V",
     ScheduleCommand},
    {"arrivals", "record --csv=F.csv   (one atomic batch)", ArrivalsCommand},
    {"device", "--csv=F.csv [--spool=F] [--retry_for=60s]", DeviceCommand},
    {"watch", "--schedule=S [--resume_after=N]   (until --deadline)",
     WatchCommand},
    {"desks", "--venue=V --service_points=N [--at=RFC3339]", DesksCommand},
    {"model", "info [--venue=V] | explain --venue=V --attendee=A --at=T",
     ModelCommand},
    {"report", "--venue=V --token=T [--queue=N] [--waited_min=M] [--finished]",
     ReportCommand},
    {"status", "--venue=V", StatusCommand},
    {"me", "[watch | delay --delay_min=M | cancel] --attendee_token=T",
     MeCommand},
    {"key", "create --role=R --venues=A,B | list | revoke --key_id=K",
     KeyCommand},
    {"webhooks",
     "create --venue=V --url=U --kinds=K,.. --secret_file=F "
     "[--wait_threshold_min=M] | list --venue=V | delete --webhook=W",
     WebhooksCommand},
    {"erase", "--venue=V --attendee=A", EraseCommand},
    {"demo", "[--days=1] [--live=false]", DemoCommand},
    {"plan", "--instance=F.json   (the planner offline, no server)",
     PlanCommand, /*offline=*/true},
};

std::string UsageText() {
  std::string text = "noqueue <command> [flags]\n";
  for (const Command& c : kCommands) {
    absl::StrAppendFormat(&text, "  %-9s %s\n", c.name, c.usage);
  }
  absl::StrAppend(&text,
                  "--server (default 127.0.0.1:50051), --deadline; "
                  "--key_file or $NOQUEUE_KEY_FILE: the API key; --tls_ca: "
                  "TLS. --help lists every flag.");
  return text;
}

// The connection the flags ask for: TLS files, and the credential (the
// attendee token for `me`, else the key file).
absl::StatusOr<client::ClientOptions> ConnectionOptions(
    const std::string& command) {
  client::ClientOptions options;
  options.deadline = absl::GetFlag(FLAGS_deadline);
  for (auto [flag, name, out] :
       {std::tuple{absl::GetFlag(FLAGS_tls_ca), "--tls_ca",
                   &options.tls_ca_pem},
        std::tuple{absl::GetFlag(FLAGS_tls_cert), "--tls_cert",
                   &options.tls_cert_pem},
        std::tuple{absl::GetFlag(FLAGS_tls_key), "--tls_key",
                   &options.tls_key_pem}}) {
    if (flag.empty()) continue;
    auto pem = client::ReadFile(flag);
    if (!pem.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": ", pem.status().message()));
    }
    *out = *std::move(pem);
  }
  if (command == "me") {
    options.credential = absl::GetFlag(FLAGS_attendee_token);
    return options;
  }
  std::string key_file = absl::GetFlag(FLAGS_key_file);
  if (key_file.empty()) {
    if (const char* env = std::getenv("NOQUEUE_KEY_FILE")) key_file = env;
  }
  if (!key_file.empty()) {
    auto key = client::ReadCredentialFile(key_file);
    if (!key.ok()) return key.status();
    options.credential = *std::move(key);
  }
  return options;
}

int Main(int argc, char** argv) {
  const std::string usage = UsageText();
  std::vector<char*> args = ParseToolFlags(argc, argv, usage);
  if (args.size() < 2) return Usage();
  const std::string name = args[1];
  const Command* command = nullptr;
  for (const Command& c : kCommands) {
    if (name == c.name) command = &c;
  }
  if (command == nullptr) return Usage();
  Invocation in;
  in.verb = args.size() > 2 ? args[2] : "";
  if (command->offline) return command->run(in);
  auto options = ConnectionOptions(name);
  if (!options.ok()) return Fail(options.status());
  auto client = client::NoQueueClient::Connect(absl::GetFlag(FLAGS_server),
                                               *std::move(options));
  in.client = client.get();
  return command->run(in);
}

}  // namespace
}  // namespace noqueue::cli

int main(int argc, char** argv) { return noqueue::cli::Main(argc, argv); }
