// The parts of the `noqueue` tool its command files share: what a command is
// given, the flags more than one command reads, and how answers are
// printed. Each command group lives in a file of its own (venue_commands.cc,
// schedule_commands.cc, tag_commands.cc, crowd_commands.cc,
// attendee_commands.cc, admin_commands.cc, demo_commands.cc); the table that
// names them is in noqueue_cli.cc.
//
//   int StatusCommand(const Invocation& in) {
//     auto status = in.client->GetVenueStatus(absl::GetFlag(FLAGS_venue));
//     if (!status.ok()) return Fail(status.status());
//     ...
#ifndef NOQUEUE_CLIENTS_CLI_CLI_H_
#define NOQUEUE_CLIENTS_CLI_CLI_H_

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/message.h>

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/noqueue_client.h"
#include "noqueue/v1/live.pb.h"
#include "noqueue/v1/scheduling.pb.h"
#include "noqueue/v1/venue.pb.h"

// The connection (noqueue_cli.cc reads them) and the output.
ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(absl::Duration, deadline);
ABSL_DECLARE_FLAG(std::string, format);
ABSL_DECLARE_FLAG(std::string, key_file);
ABSL_DECLARE_FLAG(std::string, attendee_token);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
// Read by commands of several groups.
ABSL_DECLARE_FLAG(std::string, venue);
ABSL_DECLARE_FLAG(std::string, type);
ABSL_DECLARE_FLAG(int, service_points);
ABSL_DECLARE_FLAG(std::string, schedule);
ABSL_DECLARE_FLAG(std::string, attendee);
ABSL_DECLARE_FLAG(std::string, at);
ABSL_DECLARE_FLAG(std::string, csv);
ABSL_DECLARE_FLAG(int64_t, resume_after);

namespace noqueue::cli {

namespace v1 = ::noqueue::v1;

// What a command is run with: the client, connected as the flags ask (null
// for a command that needs no server), and the word after the command
// ("create" in `noqueue schedule create`; empty when there is none).
struct Invocation {
  client::NoQueueClient* client = nullptr;
  std::string verb;
};

// "noqueue: CODE: message" on stderr; the exit status 1.
int Fail(const absl::Status& st);
// The usage on stderr; the exit status 2.
int Usage();

// `m` as indented JSON with the proto's field names.
std::string Json(const google::protobuf::Message& m);
double Minutes(const google::protobuf::Duration& d);
// A schedule as a table in the venue's time zone (UTC without a venue), or
// as JSON with --format=json.
void PrintSchedule(const v1::Schedule& s, const v1::Venue* venue);
// One line per event (seq, time, kind, attendee, what changed), or JSON;
// true (a watch goes on).
bool PrintEvent(const v1::ScheduleEvent& e);
// The exit status of a watch: its deadline (--deadline) ends it quietly.
int Watching(const absl::Status& st);
// The convocation type --type names (UNSPECIFIED when it is empty);
// INVALID_ARGUMENT naming the flag when it names none.
absl::StatusOr<v1::ConvocationType> TypeFromFlag();

}  // namespace noqueue::cli

#endif  // NOQUEUE_CLIENTS_CLI_CLI_H_
