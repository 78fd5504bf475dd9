// Reads a database file with the plain SQLite API, behind the store's back.
#ifndef NOQUEUE_TESTS_SUPPORT_SQLITE_PEEK_H_
#define NOQUEUE_TESTS_SUPPORT_SQLITE_PEEK_H_

#include <sqlite3.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace noqueue::testing {

// The first column of the first row of `sql` as an integer; -1 when there
// is no row.
inline int64_t QueryInt(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  const int64_t n =
      sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

// The first column of the first row of `sql` as text; "" when there is no
// row.
inline std::string QueryText(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  std::string out;
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// The first column of every row of `sql`, as integers.
inline std::vector<int64_t> QueryInts(const std::string& path,
                                      const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  std::vector<int64_t> out;
  while (sqlite3_step(s) == SQLITE_ROW)
    out.push_back(sqlite3_column_int64(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

inline int64_t CountRows(const std::string& path, const std::string& table) {
  return QueryInt(path, "SELECT count(*) FROM " + table);
}

// Whether `needle` appears in the bytes of any file of the database (its
// WAL and shared memory included): what an erasure must leave nowhere.
inline bool InDatabaseFiles(const std::string& db, const std::string& needle) {
  for (const std::string& path : {db, db + "-wal", db + "-shm"}) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (bytes.str().find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace noqueue::testing

#endif  // NOQUEUE_TESTS_SUPPORT_SQLITE_PEEK_H_
