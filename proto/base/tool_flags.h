// The command line of every NoQueue program: `--help` lists the program's
// own flags (those defined in this repository's files, whichever file holds
// them), each with its default; `--helpfull` adds Abseil's own.
//
//   int main(int argc, char** argv) {
//     std::vector<char*> args = noqueue::ParseToolFlags(
//         argc, argv, "noqueue-server: tells each attendee when to come.");
//     ...
#ifndef NOQUEUE_PROTO_BASE_TOOL_FLAGS_H_
#define NOQUEUE_PROTO_BASE_TOOL_FLAGS_H_

#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace noqueue {

// Parses the flags (exits on a bad one, or after --help); returns the
// positional arguments, the program's name first. `usage` opens --help.
inline std::vector<char*> ParseToolFlags(int argc, char** argv,
                                         absl::string_view usage) {
  absl::FlagsUsageConfig config;
  // Abseil's default shows only the flags of a file named after the
  // program; ours are wherever the program's parts are.
  config.contains_help_flags = [](absl::string_view file) {
    return !absl::StrContains(file, "absl/");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  // "server/main.cc", not the build machine's absolute path (Abseil's own
  // files keep theirs: the filters above see the normalized name).
  config.normalize_filename = [](absl::string_view file) {
    if (absl::StrContains(file, "absl/")) return std::string(file);
    const size_t last = file.rfind('/');
    const size_t dir = last == 0 || last == absl::string_view::npos
                           ? absl::string_view::npos
                           : file.rfind('/', last - 1);
    return std::string(dir == absl::string_view::npos ? file
                                                      : file.substr(dir + 1));
  };
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(usage);
  return absl::ParseCommandLine(argc, argv);
}

}  // namespace noqueue

#endif  // NOQUEUE_PROTO_BASE_TOOL_FLAGS_H_
