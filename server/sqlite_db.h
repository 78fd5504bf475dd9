// SqliteDb: one SQLite connection, set up as NoQueue needs it (WAL,
// synchronous=NORMAL, foreign keys, busy timeout), with a cache of prepared
// statements.
//
//   ASSIGN_OR_RETURN(auto db, SqliteDb::Open("var/noqueue.db"));
//   ASSIGN_OR_RETURN(Statement* s, db->Prepare("SELECT 1 WHERE ?1 = 1"));
//   s->Bind(1, int64_t{1});
//   ASSIGN_OR_RETURN(bool row, s->Step());
//
// A connection is used by one thread at a time.
#ifndef NOQUEUE_SERVER_SQLITE_DB_H_
#define NOQUEUE_SERVER_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace noqueue::server {

// A prepared statement, reset and unbound each time it is handed out.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, const std::string& value);  // as TEXT
  // As TEXT without a copy: `value` must stay alive until the statement is
  // reset (an empty view with no data binds NULL).
  Statement& BindUncopied(int index, std::string_view value);
  Statement& BindBlob(int index, const std::string& value);
  Statement& BindNull(int index);

  // Advances to the next row: true when a row is ready, false when done.
  absl::StatusOr<bool> Step();
  // Steps to completion, for statements that return no rows.
  absl::Status Run();

  int64_t ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  double ColumnDouble(int col) const {
    return sqlite3_column_double(stmt_, col);
  }
  bool ColumnIsNull(int col) const {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
  }
  std::string ColumnText(int col) const;  // TEXT or BLOB bytes

  void Reset();

 private:
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  // Opens (and creates when missing) the database at `path`.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements that return no rows (parsed every time:
  // for schema changes and settings).
  absl::Status Exec(const std::string& sql);
  // Runs one statement that returns no rows, prepared once and cached (for
  // the hot path: BEGIN, SAVEPOINT, RELEASE, COMMIT).
  absl::Status Run(absl::string_view sql);

  // Returns the cached statement for `sql`, reset and unbound. The pointer
  // stays valid for the connection's life; do not use one statement twice at
  // once.
  absl::StatusOr<Statement*> Prepare(absl::string_view sql);

  int64_t Changes() const { return sqlite3_changes64(db_); }
  int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* raw() { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  absl::flat_hash_map<std::string, std::unique_ptr<Statement>> statements_;
};

// Maps an SQLite result code to a status with `context` in the message.
absl::Status SqliteError(sqlite3* db, int rc, const std::string& context);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_SQLITE_DB_H_
