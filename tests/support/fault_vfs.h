// FaultVfs: an SQLite VFS over the default one that fails writes or syncs
// on demand, so that tests can watch the store meet an I/O error or a full
// disk at a chosen point of a batch. Open a database through it by name
// (SqliteStoreOptions::vfs = FaultVfs::kName).
//
//   FaultVfs& vfs = FaultVfs::Install();
//   vfs.FailWrites(/*after=*/0, SQLITE_FULL, "-wal");  // the next WAL write
//   ...                                                // fails, and all after
//   vfs.Clear();
//
// It also simulates a power loss: while it records, every write keeps what
// it overwrote until its file is synced; once the power is off every write,
// sync and delete fails (the machine is off), and when SQLite has closed the
// files, RestoreSynced() takes each file back to what its last sync made
// durable: the writes the disk's cache still held are lost.
//
//   vfs.RecordUnsynced();
//   vfs.PowerOffAfter(/*writes=*/25);
//   ... write, then close every connection ...
//   vfs.RestoreSynced();  // the files as a reboot would find them
#ifndef NOQUEUE_TESTS_SUPPORT_FAULT_VFS_H_
#define NOQUEUE_TESTS_SUPPORT_FAULT_VFS_H_

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

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

  // Power loss. Starts recording what each write overwrites (forgetting
  // what was recorded before), until Clear().
  void RecordUnsynced();
  // The power goes off after `writes` more writes (of any file).
  void PowerOffAfter(int writes);
  bool powered_off() const { return powered_off_.load(); }
  // Undoes, in every file written while recording, the writes and
  // truncations since that file's last sync, and stops recording. Call it
  // once SQLite has closed the files. Returns how many writes were undone.
  int RestoreSynced();

  // Writes and syncs that went through, and that were failed.
  int writes() const { return writes_.load(); }
  int failed() const { return failed_.load(); }

  // For the VFS's methods: whether this write or sync of `path` fails, and
  // with which code (SQLITE_OK when it goes through).
  int OnWrite(const char* path);
  int OnSync(const char* path);
  int OnDelete(const char* path);
  // While recording, what a write of [offset, offset + n) or a truncation
  // to `offset` (n < 0) of `file` overwrites, read through `file` itself;
  // and a sync that made `path` durable.
  void BeforeWrite(sqlite3_file* file, const char* path, int64_t offset, int n);
  void Synced(const char* path);

 private:
  struct Rule {
    std::atomic<bool> armed{false};
    std::atomic<int> remaining{0};
    std::atomic<int> code{SQLITE_OK};
    std::string suffix;  // set while disarmed
  };
  int Apply(Rule& rule, const char* path);

  // What a file held before the writes since its last sync.
  struct Unsynced {
    int64_t synced_size = -1;  // its size at the last sync
    struct Undo {
      int64_t offset;
      std::string bytes;
    };
    std::vector<Undo> undo;  // in the order of the writes
  };
  std::mutex power_mu_;
  std::atomic<bool> recording_{false};
  std::atomic<bool> powered_off_{false};
  std::atomic<int> power_writes_left_{-1};    // -1: the power stays on
  std::map<std::string, Unsynced> unsynced_;  // by path, under power_mu_

  Rule write_rule_;
  Rule sync_rule_;
  std::atomic<int> writes_{0};
  std::atomic<int> failed_{0};
};

}  // namespace noqueue::testing

#endif  // NOQUEUE_TESTS_SUPPORT_FAULT_VFS_H_
