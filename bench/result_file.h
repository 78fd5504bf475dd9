// Where the benchmarks' result files (JSON, SVG) go: written whole, their
// folder made when missing, "Wrote PATH" on stdout or why not on stderr.
#ifndef NOQUEUE_BENCH_RESULT_FILE_H_
#define NOQUEUE_BENCH_RESULT_FILE_H_

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace noqueue::bench {

// Writes `text` to `path` (nothing when `path` is empty); false when it
// could not.
inline bool WriteResultFile(const std::string& path, const std::string& text) {
  if (path.empty()) return true;
  const std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) {
    std::filesystem::create_directories(p.parent_path(), ec);
  }
  std::ofstream out(p);
  out << text;
  out.close();
  if (!out.good()) {
    std::fprintf(stderr, "noqueue-bench: cannot write %s\n", path.c_str());
    return false;
  }
  std::printf("Wrote %s\n", path.c_str());
  return true;
}

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_RESULT_FILE_H_
