// Reading the shared data sets: gzip-compressed CSV, one record per line,
// header on line 1. Fields may be quoted (RFC 4180, no newlines inside).
#ifndef NOQUEUE_BENCH_GZ_CSV_H_
#define NOQUEUE_BENCH_GZ_CSV_H_

#include <zlib.h>

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace noqueue::bench {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // Index of column `name`, or -1.
  int Column(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
};

inline std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(field));
      field.clear();
    } else if (c != '\r' && c != '\n') {
      field += c;
    }
  }
  out.push_back(std::move(field));
  return out;
}

inline absl::StatusOr<CsvTable> ReadGzCsv(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  gzbuffer(f, 1 << 20);
  CsvTable table;
  std::string line;
  char buf[1 << 16];
  bool first = true;
  while (gzgets(f, buf, sizeof buf)) {
    line += buf;
    if (line.empty() || line.back() != '\n') continue;  // longer than buf
    if (first) {
      table.header = SplitCsvLine(line);
      first = false;
    } else {
      table.rows.push_back(SplitCsvLine(line));
    }
    line.clear();
  }
  if (!line.empty()) table.rows.push_back(SplitCsvLine(line));
  gzclose(f);
  return table;
}

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_GZ_CSV_H_
