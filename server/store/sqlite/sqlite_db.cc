#include "server/store/sqlite/sqlite_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace noqueue::server {

absl::Status SqliteError(sqlite3* db, int rc, const std::string& context) {
  std::string msg = absl::StrCat("sqlite: ", context, ": ",
                                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(msg);
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(msg);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(msg);
    // The file system failed: nothing of the transaction was stored, and a
    // retry may succeed once it recovers.
    case SQLITE_IOERR:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, const std::string& value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindUncopied(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                    SQLITE_STATIC);
  return *this;
}
Statement& Statement::BindBlob(int index, const std::string& value) {
  sqlite3_bind_blob(stmt_, index, value.data(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_);
  return SqliteError(db, rc, sqlite3_sql(stmt_));
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

std::string Statement::ColumnText(int col) const {
  const void* data = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return data ? std::string(static_cast<const char*>(data), n) : std::string();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

namespace {

// The database holds the attendee tokens' signing secret and the webhooks'
// secrets: it is created, or made, readable by its owner only (0600,
// whatever the umask). SQLite gives its WAL and shared-memory files the
// database's own mode; those left by an earlier, laxer run are fixed too.
absl::Status RestrictToOwner(const std::string& path) {
  if (path.empty() || path == ":memory:" || absl::StartsWith(path, "file:")) {
    return absl::OkStatus();
  }
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod(fd, 0600) != 0) {
    const int error = errno;
    if (fd >= 0) close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", path,
                     " readable by its owner only: ", std::strerror(error)));
  }
  close(fd);
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string side = path + suffix;
    if (chmod(side.c_str(), 0600) != 0 && errno != ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot make ", side,
                       " readable by its owner only: ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(
    const std::string& path, const std::string& vfs) {
  // No memory statistics (nothing reads them): with them, every allocation
  // of every connection takes one process-wide mutex. sqlite3_config only
  // works before SQLite initialises (a VFS registered first initialises it:
  // then it keeps them, which is only slower).
  [[maybe_unused]] static const int kNoMemoryStatus =
      sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  if (absl::Status st = RestrictToOwner(path); !st.ok()) return st;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &raw,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      vfs.empty() ? nullptr : vfs.c_str());
  if (rc != SQLITE_OK) {
    absl::Status st = SqliteError(raw, rc, absl::StrCat("open ", path));
    sqlite3_close(raw);
    return st;
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  sqlite3_busy_timeout(raw, 5000);
  // WAL + NORMAL: durable across a process crash, and one fsync per
  // checkpoint instead of per commit. The writer reads pages through a
  // memory map, so that hot indexes cost no system calls (readers do not:
  // SqliteReaderPool::Acquire).
  absl::Status st = db->Exec(
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=NORMAL;"
      "PRAGMA foreign_keys=ON;"
      "PRAGMA temp_store=MEMORY;"
      "PRAGMA mmap_size=1073741824;");
  if (!st.ok()) return st;
  return db;
}

SqliteDb::~SqliteDb() {
  statements_.clear();  // finalize before closing
  sqlite3_close(db_);
}

absl::Status SqliteDb::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    absl::Status st = SqliteError(db_, rc, sql.substr(0, 60));
    sqlite3_free(err);
    return st;
  }
  return absl::OkStatus();
}

absl::Status SqliteDb::Run(absl::string_view sql) {
  absl::StatusOr<Statement*> s = Prepare(sql);
  if (!s.ok()) return s.status();
  return (*s)->Run();
}

absl::StatusOr<Statement*> SqliteDb::Prepare(absl::string_view sql) {
  // Heterogeneous lookup: no string is built for a cached statement.
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, std::string(sql));
  auto [pos, inserted] =
      statements_.emplace(std::string(sql), std::make_unique<Statement>(stmt));
  return pos->second.get();
}

absl::StatusOr<SqliteReaderPool::Lease> SqliteReaderPool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      std::unique_ptr<SqliteDb> db = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(db));
    }
  }
  absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path_, vfs_);
  if (!db.ok()) return db.status();
  // Readers read with pread, not through the memory map: in WAL mode a
  // connection that finds the database changed since its last read unmaps
  // the whole file, and the next read maps it again page by page, so a
  // point look-up after any commit cost a fault per page of the file it
  // touched.
  if (absl::Status st = (*db)->Exec("PRAGMA mmap_size=0"); !st.ok()) return st;
  return Lease(this, *std::move(db));
}

void SqliteReaderPool::Release(std::unique_ptr<SqliteDb> db) {
  if (!db) return;  // moved from
  absl::MutexLock lock(&mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(db));
}

}  // namespace noqueue::server
