#include "clients/csv_io.h"

#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/base/wire_time.h"

namespace noqueue::client {
namespace {

namespace v1 = ::noqueue::v1;

std::string Escape(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(
    const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  size_t line = 1;
  auto end_row = [&] {
    if (field_started || !row.empty()) {
      row.push_back(std::move(field));
      rows.push_back(std::move(row));
    }
    row.clear();
    field.clear();
    field_started = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      field_started = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = true;
    } else if (c == '\n') {
      end_row();
      ++line;
    } else if (c != '\r') {
      field += c;
      field_started = true;
    }
  }
  if (quoted) {
    return absl::InvalidArgumentError(
        absl::StrCat("csv: unterminated quoted field at line ", line));
  }
  end_row();
  return rows;
}

absl::StatusOr<absl::Time> ParseTime(const std::string& field,
                                     const std::string& text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", text, "\" is not an RFC 3339 time (", err, ")"));
  }
  return t;
}

std::string FormatTime(absl::Time t, const absl::TimeZone& tz) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, tz);
}

absl::StatusOr<std::vector<v1::Attendee>> AttendeesFromCsv(
    const std::string& text) {
  absl::StatusOr<std::vector<std::vector<std::string>>> rows = ParseCsv(text);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::InvalidArgumentError("csv: no header row");
  const std::vector<std::string>& header = rows->front();
  int id_col = -1;
  for (size_t c = 0; c < header.size(); ++c) {
    if (header[c] == "attendee_id") id_col = static_cast<int>(c);
  }
  if (id_col < 0) {
    return absl::InvalidArgumentError(
        "csv: the header has no attendee_id column");
  }
  std::vector<v1::Attendee> out;
  for (size_t r = 1; r < rows->size(); ++r) {
    const std::vector<std::string>& row = (*rows)[r];
    if (row.size() != header.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("csv line ", r + 1, ": ", row.size(),
                       " fields, the header has ", header.size()));
    }
    v1::Attendee a;
    for (size_t c = 0; c < header.size(); ++c) {
      const std::string& name = header[c];
      const std::string& value = row[c];
      const std::string where = absl::StrCat("csv line ", r + 1, ", ", name);
      if (static_cast<int>(c) == id_col) {
        a.set_attendee_id(value);
      } else if (value.empty()) {
        continue;
      } else if (name == "party_size") {
        int n;
        if (!absl::SimpleAtoi(value, &n)) {
          return absl::InvalidArgumentError(where + ": not an integer");
        }
        a.set_party_size(n);
      } else if (name == "fixed_convocation_time") {
        absl::StatusOr<absl::Time> t = ParseTime(where, value);
        if (!t.ok()) return t.status();
        *a.mutable_fixed_convocation_time() = ToTimestamp(*t);
      } else {
        double x;
        if (!absl::SimpleAtod(value, &x)) {
          return absl::InvalidArgumentError(where + ": not a number");
        }
        (*a.mutable_features())[name] = x;
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<std::vector<v1::ArrivalEvent>> ArrivalsFromCsv(
    const std::string& text) {
  absl::StatusOr<std::vector<std::vector<std::string>>> rows = ParseCsv(text);
  if (!rows.ok()) return rows.status();
  static const std::vector<std::string> kHeader = {"event_id",    "schedule_id",
                                                   "attendee_id", "kind",
                                                   "observed_at", "device_id"};
  if (rows->empty() || rows->front() != kHeader) {
    return absl::InvalidArgumentError(
        absl::StrCat("csv: the header must be ", absl::StrJoin(kHeader, ",")));
  }
  std::vector<v1::ArrivalEvent> out;
  for (size_t r = 1; r < rows->size(); ++r) {
    const std::vector<std::string>& row = (*rows)[r];
    const std::string where = absl::StrCat("csv line ", r + 1);
    if (row.size() != kHeader.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", row.size(), " fields, expected 6"));
    }
    v1::ArrivalEvent e;
    e.set_event_id(row[0]);
    e.set_schedule_id(row[1]);
    e.set_attendee_id(row[2]);
    v1::ArrivalKind kind;
    if (!v1::ArrivalKind_Parse(row[3], &kind) ||
        kind == v1::ARRIVAL_KIND_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ", kind: \"", row[3],
          "\" is not ARRIVED, SERVICE_STARTED, SERVICE_ENDED or NO_SHOW"));
    }
    e.set_kind(kind);
    absl::StatusOr<absl::Time> t = ParseTime(where + ", observed_at", row[4]);
    if (!t.ok()) return t.status();
    *e.mutable_observed_at() = ToTimestamp(*t);
    e.set_device_id(row[5]);
    out.push_back(std::move(e));
  }
  return out;
}

std::string ArrivalsToCsv(const std::vector<v1::ArrivalEvent>& events) {
  std::string out =
      "event_id,schedule_id,attendee_id,kind,observed_at,device_id\n";
  for (const auto& e : events) {
    const absl::Time t = ToTime(e.observed_at());
    absl::StrAppend(
        &out, Escape(e.event_id()), ",", Escape(e.schedule_id()), ",",
        Escape(e.attendee_id()), ",", v1::ArrivalKind_Name(e.kind()), ",",
        absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone()), ",",
        Escape(e.device_id()), "\n");
  }
  return out;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::stringstream buf;
  if (path == "-") {
    buf << std::cin.rdbuf();
    return buf.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace noqueue::client
