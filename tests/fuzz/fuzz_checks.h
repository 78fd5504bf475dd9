// What every libFuzzer harness asserts beyond "no crash, no sanitizer
// report": a refusal is the documented code with a short message. A broken
// promise aborts, so that libFuzzer records the input as a finding.
#ifndef NOQUEUE_TESTS_FUZZ_FUZZ_CHECKS_H_
#define NOQUEUE_TESTS_FUZZ_FUZZ_CHECKS_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"

namespace noqueue::fuzz {

// Errors name a field and quote at most a short, escaped prefix of what they
// reject (server/validation.h's Quote): a field path, the rule and a 64-byte
// quote escaped to at most 256 bytes fit well within this.
inline constexpr size_t kMaxMessageBytes = 1024;

// Aborts unless `status` is OK or has code `expected` and a short message.
inline void CheckRefusal(const absl::Status& status,
                         absl::StatusCode expected) {
  if (status.ok()) return;
  if (status.code() != expected) {
    std::fprintf(stderr, "unexpected code: %s\n", status.ToString().c_str());
    std::abort();
  }
  if (status.message().size() > kMaxMessageBytes) {
    std::fprintf(stderr, "message of %zu bytes: %.200s...\n",
                 status.message().size(),
                 std::string(status.message()).c_str());
    std::abort();
  }
}

// Aborts with `what` when `condition` is false.
inline void Require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "broken promise: %s\n", what);
  std::abort();
}

}  // namespace noqueue::fuzz

#endif  // NOQUEUE_TESTS_FUZZ_FUZZ_CHECKS_H_
