// FaultVfs: an SQLite VFS over the default one that fails writes or syncs
// on demand, so that tests can watch the store meet an I/O error or a full
// disk at a chosen point of a batch. Open a database through it by name
// (SqliteStoreOptions::vfs = FaultVfs::kName).
//
//   FaultVfs& vfs = FaultVfs::Install();
//   vfs.FailWrites(/*after=*/0, SQLITE_FULL, "-wal");  // the next WAL write
//   ...                                                // fails, and all after
//   vfs.Clear();
#ifndef NOQUEUE_TESTS_FAULT_VFS_H_
#define NOQUEUE_TESTS_FAULT_VFS_H_

#include <sqlite3.h>

#include <atomic>
#include <string>

namespace noqueue::testing {

class FaultVfs {
 public:
  static constexpr char kName[] = "noqueue-fault";

  // Registers the VFS (once) and returns it.
  static FaultVfs& Install();

  // After `after` more successful writes to files whose name ends with
  // `suffix` ("" for every file), every such write fails with `code`
  // (SQLITE_IOERR, SQLITE_FULL...) until Clear().
  void FailWrites(int after, int code, const std::string& suffix);
  // The same for syncs.
  void FailSyncs(int after, int code, const std::string& suffix);
  void Clear();

  // Writes and syncs that went through, and that were failed.
  int writes() const { return writes_.load(); }
  int failed() const { return failed_.load(); }

  // For the VFS's methods: whether this write or sync of `path` fails, and
  // with which code (SQLITE_OK when it goes through).
  int OnWrite(const char* path);
  int OnSync(const char* path);

 private:
  struct Rule {
    std::atomic<bool> armed{false};
    std::atomic<int> remaining{0};
    std::atomic<int> code{SQLITE_OK};
    std::string suffix;  // set while disarmed
  };
  int Apply(Rule& rule, const char* path);

  Rule write_rule_;
  Rule sync_rule_;
  std::atomic<int> writes_{0};
  std::atomic<int> failed_{0};
};

}  // namespace noqueue::testing

#endif  // NOQUEUE_TESTS_FAULT_VFS_H_
