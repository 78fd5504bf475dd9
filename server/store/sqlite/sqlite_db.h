// SqliteDb: one SQLite connection, set up as NoQueue needs it (WAL,
// synchronous=NORMAL, foreign keys, busy timeout), with a cache of prepared
// statements.
//
//   ASSIGN_OR_RETURN(auto db, SqliteDb::Open("var/noqueue.db"));
//   ASSIGN_OR_RETURN(Statement* s, db->Prepare("SELECT 1 WHERE ?1 = 1"));
//   s->Bind(1, int64_t{1});
//   ASSIGN_OR_RETURN(bool row, s->Step());
//
// A connection is used by one thread at a time. SqliteReaderPool keeps idle
// read connections for reuse.
#ifndef NOQUEUE_SERVER_STORE_SQLITE_SQLITE_DB_H_
#define NOQUEUE_SERVER_STORE_SQLITE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

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
  // Steps through the rows, calling `row(*this)` on each, then resets the
  // statement, whether it ends well or not. `row` returns void; or bool,
  // false to stop before the next row; or absl::Status, whose error stops
  // the loop and is returned.
  template <typename F>
  absl::Status EachRow(F row);

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

template <typename F>
absl::Status Statement::EachRow(F row) {
  absl::Status status;
  while (true) {
    absl::StatusOr<bool> more = Step();
    if (!more.ok() || !*more) {
      status = more.status();
      break;
    }
    using Result = decltype(row(*this));
    if constexpr (std::is_same_v<Result, void>) {
      row(*this);
    } else if constexpr (std::is_same_v<Result, bool>) {
      if (!row(*this)) break;
    } else {
      status = row(*this);
      if (!status.ok()) break;
    }
  }
  Reset();
  return status;
}

class SqliteDb {
 public:
  // Opens (and creates when missing) the database at `path`, through the
  // SQLite VFS named `vfs` (empty: the default one; tests inject faults
  // through their own).
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(
      const std::string& path, const std::string& vfs = "");
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

// Read connections to one database, opened on demand and kept (up to
// kMaxIdle) for the next reader. Thread-safe.
class SqliteReaderPool {
 public:
  static constexpr size_t kMaxIdle = 16;

  SqliteReaderPool(std::string path, std::string vfs)
      : path_(std::move(path)), vfs_(std::move(vfs)) {}

  // A connection for the life of the lease.
  class Lease {
   public:
    SqliteDb& db() { return *db_; }
    ~Lease() { pool_->Release(std::move(db_)); }
    Lease(Lease&&) = default;

   private:
    friend class SqliteReaderPool;
    Lease(SqliteReaderPool* pool, std::unique_ptr<SqliteDb> db)
        : pool_(pool), db_(std::move(db)) {}
    SqliteReaderPool* pool_;
    std::unique_ptr<SqliteDb> db_;
  };
  absl::StatusOr<Lease> Acquire();

 private:
  void Release(std::unique_ptr<SqliteDb> db);

  const std::string path_;
  const std::string vfs_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<SqliteDb>> idle_ ABSL_GUARDED_BY(mu_);
};

// Maps an SQLite result code to a status with `context` in the message.
absl::Status SqliteError(sqlite3* db, int rc, const std::string& context);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_STORE_SQLITE_SQLITE_DB_H_
