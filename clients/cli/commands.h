// The commands of the `noqueue` tool, one function each, grouped in files
// by what they touch; noqueue_cli.cc's table maps each name to its function.
// Each returns the process's exit status (0 done, 1 the server or a file
// refused, 2 a usage error, 3 tags still spooled).
#ifndef NOQUEUE_CLIENTS_CLI_COMMANDS_H_
#define NOQUEUE_CLIENTS_CLI_COMMANDS_H_

#include "clients/cli/cli.h"

namespace noqueue::cli {

// venue_commands.cc
int VenueCommand(const Invocation& in);  // upsert | get
int DesksCommand(const Invocation& in);
int ModelCommand(const Invocation& in);  // info | explain
// schedule_commands.cc
int ScheduleCommand(const Invocation& in);  // create | get | list
int WatchCommand(const Invocation& in);
// tag_commands.cc
int ArrivalsCommand(const Invocation& in);  // record
int DeviceCommand(const Invocation& in);
// crowd_commands.cc
int ReportCommand(const Invocation& in);
int StatusCommand(const Invocation& in);
// attendee_commands.cc
int MeCommand(const Invocation& in);  // (get) | watch | delay | cancel
// admin_commands.cc
int KeyCommand(const Invocation& in);       // create | list | revoke
int WebhooksCommand(const Invocation& in);  // create | list | delete
int EraseCommand(const Invocation& in);
// demo_commands.cc
int DemoCommand(const Invocation& in);
int PlanCommand(const Invocation& in);  // offline: in.client is null

}  // namespace noqueue::cli

#endif  // NOQUEUE_CLIENTS_CLI_COMMANDS_H_
