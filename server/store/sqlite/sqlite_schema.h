// The schema of NoQueue's SQLite database, versioned with PRAGMA
// user_version and migrated forward in one transaction when a file is opened.
#ifndef NOQUEUE_SERVER_STORE_SQLITE_SQLITE_SCHEMA_H_
#define NOQUEUE_SERVER_STORE_SQLITE_SQLITE_SCHEMA_H_

#include "absl/status/status.h"
#include "server/store/sqlite/sqlite_db.h"

namespace noqueue::server {

// The version this server writes.
inline constexpr int kSchemaVersion = 11;

// Brings `db` to kSchemaVersion in one transaction (a new file gets the
// whole schema). FAILED_PRECONDITION, and nothing changed, when the file is
// newer than this server.
absl::Status MigrateSchema(SqliteDb& db);

// The schema version of `db`.
absl::StatusOr<int> SchemaVersionOf(SqliteDb& db);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_STORE_SQLITE_SQLITE_SCHEMA_H_
